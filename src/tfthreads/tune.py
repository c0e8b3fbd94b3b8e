"""Tune thread settings by measurement: screen candidates, then compare the finalists.

Three steps, each measurement in a process of its own:

1. **Candidates**: TensorFlow's defaults, the :func:`~tfthreads.recommend.recommend`
   settings, and a coarse grid (intra-op 1, 2, 4, ... up to the CPUs; inter-op 1, 2 and
   the CPUs), nearest the recommendation first.
2. **Screening by successive halving**: every candidate is measured once; the better half
   (by the geometric mean of its scores so far) is measured again, and so on until a few
   finalists remain. Most of the grid is thus measured once, and only the promising part
   repeatedly. The candidates of a step are measured together, taking turns chunk by
   chunk in live processes (:func:`tfthreads.compare.measure_together`).
3. **Final comparison**: the finalists and the defaults in interleaved rounds
   (:func:`tfthreads.compare.compare`), taking turns in the same way, until their ratios
   are precise or the budget is spent. The best is named together with every setting
   that cannot be told apart from it, and its gain over the defaults carries a 95 %
   interval.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfthreads._checks import WholeNumber
from tfthreads.compare import Comparison, compare, measure_together
from tfthreads.errors import SettingError
from tfthreads.measure import check_chunks, check_workloads, importing_once, turns_for
from tfthreads.measurement_key import measurement_conditions, result_key
from tfthreads.options import GOAL, MeasureOptions
from tfthreads.process import WorkerError
from tfthreads.recommend import MIN_INTER_OP, Recommendation, recommend
from tfthreads.results import Failure, Measurement, Result, result_from_dict, score
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.stats import RatioInterval, geometric_mean
from tfthreads.sweep import SweepResult
from tfthreads.topology import topology
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["BUDGET", "TuneResult", "candidates", "distinct_pools", "tune"]

#: How many measurements (each in a process of its own) :func:`tune` may make in all.
BUDGET = WholeNumber(4, 10_000)
#: Settings that go on from screening to the final comparison.
FINALISTS = 3


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    best : ThreadSettings
        The best settings of the final comparison.
    goal : str
        ``"latency"`` (lowest median time per step) or ``"throughput"``.
    recommendation : Recommendation
        The rule-based starting point.
    tried : SweepResult
        Every measurement, screening and final rounds, in the order made.
    comparison : Comparison
        The final comparison; its first setting is TensorFlow's defaults.
    seconds : float
        Wall time the whole tune took, screening and final rounds.
    precision : float
        The target each final ratio's interval was to reach (0.05: ±5 %).
    """

    best: ThreadSettings
    goal: str
    recommendation: Recommendation
    tried: SweepResult
    comparison: Comparison
    seconds: float = 0.0
    precision: float = 0.05

    @property
    def indistinguishable(self) -> tuple[ThreadSettings, ...]:
        """The settings tied with the best (95 % interval of their ratio includes 1)."""
        settings = self.comparison.settings
        best = settings.index(self.best)
        return tuple(
            settings[i] for i in self.comparison.indistinguishable_from_best() if i != best
        )

    @property
    def speedup(self) -> RatioInterval | None:
        """How many times better the best is than the defaults, with its 95 % interval.

        ``None`` when the defaults are the best (a ratio of a setting to itself says
        nothing) or when they could not be compared.
        """
        best = self.comparison.settings.index(self.best)
        return None if best == 0 else self.comparison.interval(best, 0)

    @property
    def speedup_over_default(self) -> float | None:
        """The point estimate of :attr:`speedup` (above 1 is better than the defaults)."""
        return None if self.speedup is None else self.speedup.ratio

    @property
    def conclusion(self) -> str:
        """What the final comparison allows to say about the best against the defaults.

        ``"defaults best"``, ``"defaults failed"`` (TensorFlow's defaults did not run
        here), ``"better"`` (the best's interval is above 1), ``"indistinguishable"`` (a
        tie: keeping the defaults is as good) or ``"inconclusive"`` (an interval too wide
        to decide, see :attr:`tfthreads.stats.RatioInterval.verdict`).
        """
        if self.comparison.failed(0):
            return "defaults failed"
        closest = self.closest
        if closest is None:
            return "defaults best"
        verdict = closest.verdict
        if verdict == "inconclusive":
            return verdict
        return "defaults best" if self.best == ThreadSettings() else verdict

    @property
    def closest(self) -> RatioInterval | None:
        """Return the interval that decides :attr:`conclusion`.

        The best against the defaults or, when the defaults are the best, the runner-up
        against them (``None`` if no other setting ran).
        """
        comparison = self.comparison
        best = comparison.settings.index(self.best)
        if best != 0:
            return comparison.interval(best, 0)
        others = [
            one for i in range(1, len(comparison.settings)) if (one := comparison.interval(i, 0))
        ]
        return max(others, key=lambda one: one.ratio, default=None)

    @property
    def precise(self) -> bool:
        """Whether every final interval against the defaults reached :attr:`precision`."""
        return self.comparison.precise(self.precision)

    @property
    def best_measurement(self) -> Measurement:
        """The best setting's measurement with the median score in the final rounds."""
        return _middle(self.comparison, self.comparison.settings.index(self.best))

    @property
    def default_measurement(self) -> Measurement | None:
        """The defaults' measurement with the median score, if they ran."""
        return None if self.comparison.failed(0) else _middle(self.comparison, 0)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary: best, ties, the interval and every measurement."""
        speedup = self.speedup
        return {
            "goal": self.goal,
            "intra_op_parallelism_threads": self.best.intra_op,
            "inter_op_parallelism_threads": self.best.inter_op,
            "speedup_over_default": None if speedup is None else speedup.as_dict(),
            "indistinguishable": [s.describe() for s in self.indistinguishable],
            "recommendation": self.recommendation.as_dict(),
            "conclusion": self.conclusion,
            "final_comparison": self.comparison.table_rows(),
            "final_rounds": len(self.comparison.rounds),
            "method": self.comparison.method,
            "stopped": self.comparison.stopped,
            "precision": self.precision,
            "precise": self.precise,
            "seconds": self.seconds,
            "tried": [result.as_dict() for result in self.tried.rows],
        }


def _middle(comparison: Comparison, index: int) -> Measurement:
    measured = sorted(comparison.measured(index), key=lambda m: score(m, comparison.goal))
    return measured[len(measured) // 2]


def candidates(max_threads: int, advice: Recommendation) -> list[ThreadSettings]:
    """Return the settings :func:`tune` screens: defaults, recommendation, a coarse grid.

    Settings that start the same pools as an earlier one are left out, the defaults first.

    Examples
    --------
    >>> from tfthreads.recommend import recommend
    >>> from tfthreads.topology import Topology
    >>> eight = Topology(logical_cpus=8, affinity=tuple(range(8)), physical_cores=8,
    ...                  sockets=1, numa_nodes=1, smt=False, cpuset=None, quota=None)
    >>> advice = recommend("latency", topology=eight)
    >>> [s.describe() for s in candidates(8, advice)][:3]
    ['intra_op=0, inter_op=0', 'intra_op=8, inter_op=4', 'intra_op=8, inter_op=2']
    >>> len(candidates(8, advice))
    9
    >>> one = Topology(logical_cpus=1, affinity=(0,), physical_cores=1, sockets=1,
    ...                numa_nodes=1, smt=False, cpuset=None, quota=None)
    >>> [s.describe() for s in candidates(1, recommend("latency", topology=one))]
    ['intra_op=0, inter_op=0', 'intra_op=1, inter_op=2']
    """
    intra = sorted({1, max_threads} | {2**k for k in range(1, 16) if 2**k < max_threads})
    # Never fewer inter-op threads than recommend gives (MIN_INTER_OP, 2): one inter-op
    # thread can deadlock (explanation/inter-op-deadlock), and a second one measured no
    # slower. Two even on one CPU: the defaults there (1/1) have another candidate then.
    # A user's own grid (--inter-op 1) is still measured as given.
    inter = sorted({MIN_INTER_OP, max(MIN_INTER_OP, max_threads)})
    # Keeping the defaults is the first candidate anyway: look near the pools they resolve to.
    target = advice.tensorflow_default if advice.keeps_defaults else advice.settings

    def distance(s: ThreadSettings) -> tuple[float, float]:
        return (
            abs(math.log2(s.intra_op) - math.log2(max(1, target.intra_op))),
            abs(math.log2(s.inter_op) - math.log2(max(1, target.inter_op))),
        )

    grid = sorted((ThreadSettings(a, b) for a in intra for b in inter), key=distance)
    return distinct_pools([ThreadSettings(), advice.settings, *grid], max_threads)


def distinct_pools(settings: Sequence[ThreadSettings], max_threads: int) -> list[ThreadSettings]:
    """Keep the first of the settings that start the same pools, in order.

    Two settings that start the same pools (2/2 and the defaults on 2 CPUs) are one
    candidate: measuring both would compare a setting with itself.

    Examples
    --------
    >>> [s.describe() for s in distinct_pools([ThreadSettings(), ThreadSettings(2, 2),
    ...                                        ThreadSettings(1, 2)], max_threads=2)]
    ['intra_op=0, inter_op=0', 'intra_op=1, inter_op=2']
    """
    unique: dict[tuple[int, int], ThreadSettings] = {}
    for one in settings:
        # No environment: the settings alone decide, as they do in the measuring children.
        pools = resolve_pools(one, affinity_cpus=max_threads, environ={})
        unique.setdefault((pools.intra_op, pools.inter_op), one)
    return list(unique.values())


def tune(
    workload: str | WorkloadSpec,
    goal: str = "latency",
    *,
    budget: int = 40,
    options: MeasureOptions | None = None,
    precision: float = 0.05,
    results: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    grid: Sequence[ThreadSettings] | None = None,
    chunks: int | None = None,
    resume: bool = True,
) -> TuneResult:
    """Find good thread settings for a workload: screen candidates, compare the finalists.

    Parameters
    ----------
    workload : str or WorkloadSpec
        What to tune for (see :func:`tfthreads.workloads.parse_workload`).
    goal : {"latency", "throughput"}
        Minimise the median time per step, or maximise items per second.
    budget : int
        Most measurements in all, each in a process of its own (4 to 10000). Screening takes at
        most half, and leaves the final comparison at least two rounds of up to four
        settings; with a budget under 10 only the defaults and the recommendation are
        compared.
    options : tfthreads.options.MeasureOptions, optional
        How to measure each setting; with ``processes=P`` the recommendation is for P
        processes sharing the CPUs, and settings are per process.
    precision : float
        Stop the final rounds once every ratio to the defaults is within this fraction.
    results : path-like, optional
        Results file that receives every measurement as it is made (see
        :class:`tfthreads.results_file.ResultsFile`). It holds one tune: the same tune
        (workload, goal) run again with it resumes, taking each measurement it would make
        from the file where one was made under the same conditions
        (:func:`tfthreads.measurement_key.result_key`) at the same stage, so an interrupted tune goes
        on where it stopped. Final rounds measured chunk by chunk are
        taken from it as complete rounds, of the same finalists.
    progress : bool, optional
        Print a line per screening step and final round on stderr.
    grid : sequence of ThreadSettings, optional
        The settings to screen instead of :func:`candidates` (TensorFlow's defaults
        always take part, first; settings that start the same pools count once).
    chunks : int, optional
        Turns per finalist in each final round; by default
        :func:`~tfthreads.measure.turns_for` the options (6 at most). Above 1 the
        finalists' processes run at once, taking turns chunk by chunk (see
        :func:`tfthreads.compare.compare`): steadier ratios on a machine whose speed
        changes within seconds. With 1, one after the other in fresh processes.
    resume : bool
        ``False`` starts ``results`` afresh instead of resuming it.

    Returns
    -------
    TuneResult
        The best settings, those tied with it, the gain over the defaults with its
        interval, and every measurement.

    Raises
    ------
    SettingError
        For bad arguments, or user code that cannot run (checked once, up front).
    WorkerError
        When every measurement failed.
    """
    spec = parse_workload(workload)
    GOAL.check("goal", goal)
    BUDGET.check("budget", budget)
    options = MeasureOptions() if options is None else options
    chunks = turns_for(options) if chunks is None else chunks
    check_chunks(chunks, options)
    if grid is not None and (
        len(grid) < 1 or not all(isinstance(one, ThreadSettings) for one in grid)
    ):
        raise SettingError("grid: expected one or more ThreadSettings to screen")
    here = topology()
    if options.cpus is not None:  # the children run on these CPUs: size the search to them
        here = dataclasses.replace(here, affinity=tuple(sorted(set(options.cpus))))
    advice = recommend(goal, processes=options.processes, topology=here)
    cpus = here.affinity_cpus
    pool = (
        candidates(cpus, advice)
        if grid is None
        else distinct_pools([ThreadSettings(), *grid], cpus)
    )
    if len(pool) < 2:
        defaults = resolve_pools(ThreadSettings(), affinity_cpus=cpus, environ={})
        raise SettingError(
            f"grid: every setting given starts the same pools as TensorFlow's defaults "
            f"here (intra-op {defaults.intra_op}, inter-op {defaults.inter_op} on "
            f"{cpus} CPUs): nothing to compare; give other sizes"
        )
    tried: list[Result] = []
    reused = 0
    started = time.monotonic()
    # Whole processes (chunks=1) stay fresh processes, TensorFlow's import included.
    sharing = importing_once(options) if chunks != 1 else contextlib.nullcontext()
    with sharing:
        memory = check_workloads([spec], options)
        with _log(results, spec, goal, options, resume) as (
            record,
            earlier,
            earlier_rounds,
            next_round,
        ):

            def measured(group: Sequence[ThreadSettings], stage: str) -> list[Result]:
                """Measure settings once each, together (taking turns), reusing the file's."""
                nonlocal reused
                found: dict[int, Result] = {}
                for index, settings in enumerate(group):
                    again = earlier(settings, stage)
                    if again is not None:  # a resumed tune: measured before, same conditions
                        found[index] = again
                        reused += 1
                missing = [one for i, one in enumerate(group) if i not in found]
                if missing and progress:
                    done = len(tried) - reused
                    elapsed = time.monotonic() - started
                    left = budget - len(tried)
                    eta = (
                        f"; about {elapsed / done * left / 60:.0f} min left at most" if done else ""
                    )
                    what = (
                        missing[0].describe() if len(missing) == 1 else f"{len(missing)} settings"
                    )
                    _say(
                        f"{stage}: measuring {what} ({len(tried) + len(group)} of at most "
                        f"{budget} measurements){eta}"
                    )
                taken = iter(
                    measure_together(spec, missing, options=options, chunks=chunks, memory=memory)
                )
                results: list[Result] = []
                for index in range(len(group)):
                    result = found[index] if index in found else next(taken)
                    if index not in found:
                        record(result, stage, None)
                    tried.append(result)
                    results.append(result)
                return results

            def final_round(comparison: Comparison) -> None:
                if chunks > 1 and len(comparison.rounds) > len(resumed):  # measured together:
                    number = next_round()  # recorded here, once each, with their round
                    for result in comparison.rounds[-1]:
                        if not any(result is earlier for earlier in tried):
                            tried.append(result)
                            record(result, "final", number)
                if progress:
                    _say_round(comparison)

            # The final comparison needs two rounds of every finalist and the defaults;
            # screening gets at most half the budget, and never that reserve.
            reserve = 2 * (FINALISTS + 1)
            screening = min(budget // 2, max(0, budget - reserve))
            if screening >= 2:
                finalists = _screen(pool[:screening], goal, screening, measured, progress)
            else:  # too small to screen: the defaults against the nearest other candidate
                finalists = pool[1:2]
            # The defaults always take part, first: the gain is stated against them.
            finalists = [ThreadSettings(), *(s for s in finalists if s != ThreadSettings())]
            if len(finalists) < 2:  # screening kept only the defaults: compare the runner-up
                finalists.append(pool[1])
            rounds = max(2, (budget - len(tried)) // len(finalists))
            resumed = earlier_rounds(finalists, rounds) if chunks > 1 else []
            for row in resumed:  # complete rounds measured together before: taken as they are
                tried.extend(row)
                reused += len(row)
            comparison = compare(
                spec,
                finalists,
                goal=goal,
                options=options,
                min_rounds=2,
                max_rounds=rounds,
                precision=precision,
                check=False,
                measure_one=None
                if chunks > 1
                else lambda settings: measured([settings], "final")[0],
                on_round=final_round,
                chunks=chunks,
                process_memory=memory,
                resumed=resumed,
            )
    if all(comparison.failed(i) for i in range(len(finalists))):
        first = next(r for r in tried if isinstance(r, Failure))
        raise WorkerError(
            f"every measurement of {spec.name!r} failed; first error: {first.error}",
            reason=first.reason,
        )
    return TuneResult(
        best=finalists[comparison.best],
        goal=goal,
        recommendation=advice,
        tried=SweepResult(
            rows=tried, path=None if results is None else Path(results), reused=reused
        ),
        comparison=comparison,
        seconds=time.monotonic() - started,
        precision=precision,
    )


def _screen(
    pool: list[ThreadSettings],
    goal: str,
    budget: int,
    measured: Callable[[Sequence[ThreadSettings], str], list[Result]],
    progress: bool | None,
) -> list[ThreadSettings]:
    """Successive halving: measure all, keep the better half, until few remain.

    The settings of a step are measured together, taking turns (see ``measured``), in
    an order reversed every other step.
    """
    scores: dict[ThreadSettings, list[float]] = {settings: [] for settings in pool}
    alive, spent, step = list(pool), 0, 0
    while True:
        order = alive if step % 2 == 0 else alive[::-1]
        for settings, result in zip(order, measured(order, f"screen {step + 1}"), strict=True):
            spent += 1
            scores[settings].append(score(result, goal) if isinstance(result, Measurement) else 0.0)
        ranked = sorted(alive, key=lambda s: geometric_mean(scores[s]), reverse=True)
        if progress:
            _say(
                f"screening step {step + 1}: {len(alive)} settings, leading {ranked[0].describe()}"
            )
        keep = max(FINALISTS, math.ceil(len(alive) / 2))
        if len(alive) <= FINALISTS or spent + keep > budget:
            return [s for s in ranked[:FINALISTS] if geometric_mean(scores[s]) > 0]
        alive, step = ranked[:keep], step + 1


def _say(line: str) -> None:
    print(f"tfthreads tune: {line}", file=sys.stderr, flush=True)


def _say_round(comparison: Comparison) -> None:
    _say(
        f"final round {len(comparison.rounds)}: {len(comparison.settings)} settings "
        f"({comparison.method})"
    )


_Record = Callable[[Result, str, int | None], None]
_Find = Callable[[ThreadSettings, str], Result | None]
_FindRounds = Callable[[Sequence[ThreadSettings], int], list[list[Measurement | Failure]]]


@contextlib.contextmanager
def _log(
    results: str | os.PathLike[str] | None,
    spec: WorkloadSpec,
    goal: str,
    options: MeasureOptions,
    resume: bool,
) -> Iterator[tuple[_Record, _Find, _FindRounds, Callable[[], int]]]:
    """Yield how to record a measurement in the results file, and how to find it there.

    In order: a function that records a result at a stage (with its round, for final
    rounds measured together); one that returns, in file order, the measurements a
    resumed tune made before of the same settings at the same stage, under the same
    conditions; one that returns up to the given number of complete final rounds of the
    given settings (a round that lacks one of them, cut short, is left out), each in the
    settings' order; and one that gives the number of the next final round.
    """
    last = 0

    def next_round() -> int:
        nonlocal last
        last += 1
        return last

    if results is None:
        yield (lambda *record: None), (lambda *find: None), (lambda *find: []), next_round
        return
    run = {"command": "tune", "workload": spec.as_dict(), "goal": goal, "repeats": options.repeats}
    with ResultsFile.open(results, run=run, resume=resume) as file:
        earlier: dict[tuple[str, str], list[Result]] = {}
        rounds: dict[int, dict[str, Measurement]] = {}
        for row in file.rows:
            result = result_from_dict(row)
            if not (isinstance(result, Measurement) and row.get("key") and row.get("stage")):
                continue
            number = row.get("round")
            if row["stage"] == "final" and isinstance(number, int):
                rounds.setdefault(number, {})[str(row["key"])] = result
                last = max(last, number)
            else:
                earlier.setdefault((str(row["key"]), str(row["stage"])), []).append(result)

        conditions = measurement_conditions(spec, options)

        def record(result: Result, stage: str, number: int | None) -> None:
            key = result_key(spec, result.settings, options, conditions)
            extra = {} if number is None else {"round": number}
            row = {**result.as_dict(), "key": key, "stage": stage, "conditions": conditions}
            file.append({**row, **extra})

        def find(settings: ThreadSettings, stage: str) -> Result | None:
            made = earlier.get((result_key(spec, settings, options, conditions), stage))
            return made.pop(0) if made else None

        def find_rounds(
            settings: Sequence[ThreadSettings], most: int
        ) -> list[list[Measurement | Failure]]:
            keys = [result_key(spec, one, options, conditions) for one in settings]
            complete: list[list[Measurement | Failure]] = [
                [made[key] for key in keys]
                for _, made in sorted(rounds.items())
                if all(key in made for key in keys)
            ]
            return complete[:most]

        yield record, find, find_rounds, next_round
