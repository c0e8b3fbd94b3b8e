"""Tune thread settings by measurement: screen candidates, then compare the finalists.

Three steps, each measurement in a process of its own:

1. **Candidates** (:func:`~tfthreads.candidates.candidates`): TensorFlow's defaults,
   the :func:`~tfthreads.recommend.recommend` settings, and a coarse grid (intra-op 1,
   2, 4, ... up to the CPUs; inter-op 1, 2 and the CPUs), nearest the recommendation
   first. The advice only chooses the candidates; measuring them does not use it.
2. **Screening by successive halving**: every candidate is measured once; the better half
   (by the geometric mean of its scores so far) is measured again, and so on until a few
   finalists remain. Most of the grid is thus measured once, and only the promising part
   repeatedly. The candidates of a step are measured together, taking turns chunk by
   chunk in live processes (:func:`tfthreads.together.measure_together`).
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
from pathlib import Path
from typing import Any

from tfthreads._checks import WholeNumber
from tfthreads.candidates import candidates, distinct_pools
from tfthreads.compare import Comparison, compare
from tfthreads.errors import SettingError
from tfthreads.measure import check_chunks, check_workloads, importing_once, turns_for
from tfthreads.measurement_key import measurement_conditions, result_key
from tfthreads.options import GOAL, MeasureOptions
from tfthreads.process import WorkerError
from tfthreads.recommend import recommend
from tfthreads.results import Failure, Measurement, Result, result_from_dict, score
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.stats import geometric_mean
from tfthreads.sweep_result import SweepResult
from tfthreads.together import measure_together
from tfthreads.topology import topology
from tfthreads.tune_result import TuneResult
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["BUDGET", "TuneResult", "candidates", "distinct_pools", "run_description", "tune"]

#: How many measurements (each in a process of its own) :func:`tune` may make in all.
BUDGET = WholeNumber(4, 10_000)
#: Settings that go on from screening to the final comparison.
FINALISTS = 3


def tune(
    workload: str | WorkloadSpec,
    goal: str = "latency",
    *,
    budget: int = 40,
    options: MeasureOptions | None = None,
    precision: float = 0.05,
    results: str | os.PathLike[str] | ResultsFile | None = None,
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
    results : path-like or ResultsFile, optional
        Results file that receives every measurement as it is made (see
        :class:`tfthreads.results_file.ResultsFile`); a file already open (the command
        line opens ``--output`` before measuring, with :func:`run_description`) is used
        as it is and left open. It holds one tune: the same tune
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
        :func:`~tfthreads.measure.turns_for` the options (6, or one per 5 timed steps
        of a longer loop). Above 1 the
        finalists' processes run at once, taking turns chunk by chunk (see
        :func:`tfthreads.compare.compare`): steadier ratios on a machine whose speed
        changes within seconds. With 1, one after the other in fresh processes.
    resume : bool
        ``False`` starts ``results`` afresh instead of resuming it (an open file was
        opened with its own ``resume``).

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
        tried=SweepResult(rows=tried, path=_path(results), reused=reused),
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


def run_description(spec: WorkloadSpec, goal: str, options: MeasureOptions) -> dict[str, Any]:
    """Return the run that a tune's results file describes in its header.

    A file holds one tune: a tune of another workload or goal is refused (see
    :class:`~tfthreads.results_file.ResultsFile`).
    """
    return {"command": "tune", "workload": spec.as_dict(), "goal": goal, "repeats": options.repeats}


def _path(results: str | os.PathLike[str] | ResultsFile | None) -> Path | None:
    """Return where the results went, for :attr:`SweepResult.path`."""
    if isinstance(results, ResultsFile):
        return results.path
    return None if results is None else Path(results)


_Record = Callable[[Result, str, int | None], None]
_Find = Callable[[ThreadSettings, str], Result | None]
_FindRounds = Callable[[Sequence[ThreadSettings], int], list[list[Measurement | Failure]]]


@contextlib.contextmanager
def _log(
    results: str | os.PathLike[str] | ResultsFile | None,
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
    opened = (
        contextlib.nullcontext(results)  # the caller's, left open
        if isinstance(results, ResultsFile)
        else ResultsFile.open(results, run=run_description(spec, goal, options), resume=resume)
    )
    with opened as file:
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
