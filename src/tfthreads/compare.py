"""Compare thread settings precisely: interleaved rounds of new processes, ratios with intervals.

On a shared machine the same setting measured in two fresh processes can differ by a
quarter, so one measurement per setting cannot rank settings. :func:`compare` measures
every setting once per *round*, in an order that alternates (A B C, then C B A), so that
drift hits all settings alike; each round gives one value per setting, and the ratio of
two settings is estimated from their per-round ratios with a 95 % interval
(:func:`tfthreads.stats.ratio_interval`). Two settings whose interval includes 1 are
*indistinguishable*, and the result says so instead of naming a winner.

Rounds continue until every interval is within the precision target, or the time budget
or the most rounds is reached. By default the settings of a round run at once in live
processes that take turns, chunk by chunk (:func:`tfthreads.measure.measure_in_turns`),
so that they are measured milliseconds apart rather than a TensorFlow start-up apart;
where memory cannot hold one process per setting at once, a few at a time, and where it
cannot hold two, one after the other (``Comparison.method`` says which). ``chunks=1``
measures each setting in whole processes, one after the other: the method that also
sees start-up and memory.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfthreads._checks import Seconds, WholeNumber
from tfthreads._text_table import text_table
from tfthreads.errors import SettingError
from tfthreads.measure import (
    PROCESS_MEMORY,
    check_chunks,
    check_workloads,
    importing_once,
    measure,
    measure_in_turns,
    measure_many_in_turns,
    processes_that_fit,
    turns_for,
)
from tfthreads.options import GOAL, MeasureOptions
from tfthreads.process import WorkerError
from tfthreads.results import Failure, Measurement, score
from tfthreads.settings import ThreadSettings
from tfthreads.stats import RatioInterval, geometric_mean, ratio_interval
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["GOAL", "Comparison", "compare", "compare_many", "measure_together", "score"]

ROUNDS = WholeNumber(2, 1000)
PRECISION = Seconds(high=1.0, unit="a fraction")  # 0.05 is ±5 %
BUDGET_SECONDS = Seconds()


@dataclass
class Comparison:
    """Settings measured in interleaved rounds, and what can be said about them.

    Attributes
    ----------
    workload : WorkloadSpec
        What ran.
    goal : str
        ``"latency"`` or ``"throughput"``.
    settings : tuple of ThreadSettings
        The settings compared; the first is the baseline of :meth:`interval`.
    rounds : list of list of Measurement or Failure
        ``rounds[r][i]``: setting ``i`` in round ``r``.
    stopped : str
        Why the rounds stopped: ``"precision"``, ``"budget"`` or ``"rounds"``.
    method : str
        How each round was measured, in words, such as ``"4 settings at once, 6 turns
        each"``.
    seconds : float
        Wall time the rounds took.
    """

    workload: WorkloadSpec
    goal: str
    settings: tuple[ThreadSettings, ...]
    rounds: list[list[Measurement | Failure]] = field(default_factory=list)
    stopped: str = ""
    method: str = ""
    seconds: float = 0.0

    def label(self, index: int) -> str:
        """Name setting ``index`` for a table: ``"defaults"`` or ``"2/1"`` (intra/inter)."""
        settings = self.settings[index]
        if settings == ThreadSettings():
            return "defaults"
        return f"{settings.intra_op}/{settings.inter_op}"

    def failed(self, index: int) -> Failure | None:
        """Return the first failure of setting ``index``, if it failed in any round."""
        return next((r for row in self.rounds if isinstance(r := row[index], Failure)), None)

    def measured(self, index: int) -> list[Measurement]:
        """Return setting ``index``'s measurements, one per round it succeeded in."""
        return [r for row in self.rounds if isinstance(r := row[index], Measurement)]

    def scores(self, index: int, of: Callable[[Measurement], float] | None = None) -> list[float]:
        """Return setting ``index``'s score in each round (higher is better).

        ``of`` scores one measurement instead of the goal's :func:`score`, such as
        ``lambda m: 1 / m.wall.p99`` to compare tails; it must be positive, higher better.
        """
        return [score(m, self.goal) if of is None else of(m) for m in self.measured(index)]

    def interval(
        self,
        candidate: int,
        baseline: int = 0,
        *,
        of: Callable[[Measurement], float] | None = None,
    ) -> RatioInterval | None:
        """How many times better ``candidate`` is than ``baseline``, with a 95 % interval.

        Above 1 is better. ``None`` when either failed or fewer than 2 rounds ran. ``of``
        compares another score of each round's measurement (see :meth:`scores`).
        """
        if self.failed(candidate) or self.failed(baseline) or len(self.rounds) < 2:
            return None
        return ratio_interval(self.scores(baseline, of), self.scores(candidate, of))

    @property
    def best(self) -> int:
        """Index of the setting with the best score.

        Ranked by each setting's paired ratio to the first setting that did not fail, the
        same estimate as :meth:`interval`, so the best is never reported worse than
        another setting; with one round, by the score itself.
        """
        candidates = [i for i in range(len(self.settings)) if not self.failed(i)]
        if not candidates or not self.rounds:
            raise SettingError("compare: every setting failed; nothing to rank")
        if len(self.rounds) < 2:
            return max(candidates, key=lambda i: geometric_mean(self.scores(i)))
        reference = self.scores(candidates[0])
        return max(candidates, key=lambda i: ratio_interval(reference, self.scores(i)).ratio)

    def indistinguishable_from_best(self) -> list[int]:
        """Indexes of the settings whose interval against the best includes 1 (the best too)."""
        best = self.best
        tied = [best]
        for index in range(len(self.settings)):
            interval = self.interval(index, best) if index != best else None
            if interval is not None and interval.includes_one:
                tied.append(index)
        return sorted(tied)

    def verdict(
        self,
        candidate: int,
        baseline: int = 0,
        *,
        of: Callable[[Measurement], float] | None = None,
    ) -> str:
        """Return the interval's :attr:`~tfthreads.stats.RatioInterval.verdict`, or ``"failed"``.

        ``"better"``, ``"worse"``, ``"indistinguishable"`` or ``"inconclusive"``;
        ``"failed"`` when the candidate failed, ``"baseline failed"`` when only the
        baseline did, ``"unknown"`` before two rounds (``of``:
        see :meth:`scores`).
        """
        interval = self.interval(candidate, baseline, of=of)
        if interval is None:
            if self.failed(candidate):
                return "failed"
            return "baseline failed" if self.failed(baseline) else "unknown"
        return interval.verdict

    def precise(self, precision: float) -> bool:
        """Whether every interval against the first setting is within ``precision`` (0.05: ±5 %)."""
        intervals = [self.interval(i) for i in range(1, len(self.settings))]
        known = [interval for interval in intervals if interval is not None]
        return bool(known) and all(interval.half_width <= precision for interval in known)

    def table_rows(self, baseline: int = 0) -> list[dict[str, Any]]:
        """Return one JSON-ready row per setting: its typical step and ratio to ``baseline``.

        ``step_ms`` and ``throughput`` are geometric means over the rounds of each
        round's median step time and throughput.
        """
        rows = []
        for index, settings in enumerate(self.settings):
            interval = self.interval(index, baseline) if index != baseline else None
            measured = self.measured(index)
            rows.append(
                {
                    "intra_op": settings.intra_op,
                    "inter_op": settings.inter_op,
                    "rounds": len(measured),
                    # Geometric means over rounds, to describe; ranks come from ratios.
                    "step_ms": geometric_mean([m.wall.median * 1e3 for m in measured]) or None,
                    "throughput": geometric_mean([m.throughput for m in measured]) or None,
                    "ratio": None if interval is None else interval.ratio,
                    "low": None if interval is None else interval.low,
                    "high": None if interval is None else interval.high,
                    "verdict": "baseline" if index == baseline else self.verdict(index, baseline),
                }
            )
        return rows

    def table(self, baseline: int = 0) -> str:
        """Format :meth:`table_rows` as text: each ratio with its interval, ties named."""
        head = [
            "intra/inter",
            "rounds",
            "ms/step",
            f"x better than {self.label(baseline)} [95 % CI]",
            "verdict",
        ]
        body = []
        for index, row in enumerate(self.table_rows(baseline)):
            interval = self.interval(index, baseline) if index != baseline else None
            body.append(
                [
                    f"{row['intra_op']}/{row['inter_op']}",
                    str(row["rounds"]),
                    "-" if row["step_ms"] is None else f"{row['step_ms']:.3f}",
                    "-" if interval is None else interval.describe(),
                    row["verdict"],
                ]
            )
        return "\n".join(text_table(head, body, left=[4]))

    def as_dict(self) -> dict[str, Any]:
        """Return everything, JSON-ready: rows, intervals and every measurement."""
        return {
            "workload": self.workload.as_dict(),
            "goal": self.goal,
            "stopped": self.stopped,
            "method": self.method,
            "seconds": self.seconds,
            "rows": self.table_rows(),
            "best": self.best
            if any(not self.failed(i) for i in range(len(self.settings)))
            else None,
            "rounds": [[result.as_dict() for result in row] for row in self.rounds],
        }


def compare(
    workload: str | WorkloadSpec,
    settings: Sequence[ThreadSettings],
    *,
    goal: str = "latency",
    options: MeasureOptions | None = None,
    min_rounds: int = 3,
    max_rounds: int = 20,
    precision: float = 0.05,
    budget_seconds: float | None = None,
    on_round: Callable[[Comparison], None] | None = None,
    check: bool = True,
    measure_one: Callable[[ThreadSettings], Measurement | Failure] | None = None,
    chunks: int | None = None,
    process_memory: float | None = None,
    resumed: Sequence[Sequence[Measurement | Failure]] = (),
) -> Comparison:
    """Measure settings in interleaved rounds until their ratios are precise enough.

    Parameters
    ----------
    workload : str or WorkloadSpec
        What to measure (see :func:`tfthreads.workloads.parse_workload`).
    settings : sequence of ThreadSettings
        Two or more settings; the first is the baseline that ratios refer to.
    goal : {"latency", "throughput"}
        What "better" means (see :func:`score`).
    options : MeasureOptions, optional
        How each setting is measured in each round.
    min_rounds, max_rounds : int
        Rounds at least (2 or more: an interval needs two) and at most.
    precision : float
        Stop once every interval against the baseline is within this fraction of its
        ratio (0.05: ±5 %).
    budget_seconds : float, optional
        Stop after the round that crosses this many seconds.
    on_round : callable, optional
        Called with the comparison after each round (progress).
    check : bool
        First run a user workload once, so that code that cannot run is a
        :class:`~tfthreads.errors.SettingError` rather than rounds of failures.
    measure_one : callable, optional
        Measures one setting once (fresh processes) and returns a measurement or a
        failure; by default :func:`tfthreads.measure.measure` with ``options``. A caller
        that records every measurement passes its own.
    chunks : int, optional
        Turns per setting and round. By default
        :func:`~tfthreads.measure.turns_for` the options (6 at most), or 1 with
        ``measure_one``. Above 1, each round starts every setting's processes at once
        and they take turns to run ``chunks`` chunks of their timed loops
        (:func:`tfthreads.measure.measure_in_turns`): on a shared machine whose speed
        changes within seconds, this keeps the settings' steps milliseconds apart
        instead of a TensorFlow start-up apart. With 1, each round measures the
        settings one after the other, each in fresh processes. Not above 1 with
        ``measure_one``.
    process_memory : float, optional
        Bytes one measuring process needs, which decides how many settings a round
        measures at once; by default what ``check`` saw, or
        :data:`~tfthreads.preflight.PROCESS_MEMORY`.
    resumed : sequence, optional
        Complete rounds measured before (a resumed tune's), one result per setting in
        the order of ``settings``: they count as the first rounds, and only the rounds
        still needed are measured.

    Returns
    -------
    Comparison
        Every measurement, the intervals and why it stopped.

    Raises
    ------
    SettingError
        For bad arguments, or user code that cannot run (checked once, up front).
    """
    spec = parse_workload(workload)
    GOAL.check("goal", goal)
    ROUNDS.check("min_rounds", min_rounds)
    ROUNDS.check("max_rounds", max_rounds)
    PRECISION.check("precision", precision)
    if budget_seconds is not None:
        BUDGET_SECONDS.check("budget_seconds", budget_seconds)
    if min_rounds > max_rounds:
        raise SettingError(
            f"min_rounds: got {min_rounds}; expected at most max_rounds ({max_rounds})"
        )
    chosen = tuple(settings)
    if len(chosen) < 2 or not all(isinstance(s, ThreadSettings) for s in chosen):
        raise SettingError("settings: expected two or more ThreadSettings to compare")
    options = MeasureOptions() if options is None else options
    if chunks is None:
        chunks = 1 if measure_one is not None else turns_for(options)
    check_chunks(chunks, options)
    if chunks > 1 and measure_one is not None:
        raise SettingError("chunks: got a measure_one as well; expected one or the other")
    memory = check_workloads([spec], options) if check else PROCESS_MEMORY
    memory = memory if process_memory is None else process_memory
    together, method = _together(len(chosen), chunks, options, memory)
    if together < 2:
        chunks = 1  # memory holds too few processes to take turns
    if measure_one is None:

        def measure_one(settings: ThreadSettings) -> Measurement | Failure:
            return _measure_one(spec, settings, options)

    comparison = Comparison(workload=spec, goal=goal, settings=chosen, method=method)
    comparison.rounds = [list(row) for row in resumed]
    if any(len(row) != len(chosen) for row in comparison.rounds):
        raise SettingError("resumed: expected one result per setting in each round")
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        if chunks > 1:  # whole processes (chunks=1) stay fresh processes, imports included
            stack.enter_context(importing_once(options))
        while not _finished(comparison, min_rounds, max_rounds, precision):
            order = list(range(len(chosen)))
            if len(comparison.rounds) % 2:
                order.reverse()  # A B C, then C B A: a steady drift hits every setting alike
            row: list[Measurement | Failure | None] = [None] * len(chosen)
            for index in order:
                row[index] = comparison.failed(index)
            pending = [index for index in order if row[index] is None]
            if chunks > 1:
                taken = measure_together(
                    spec,
                    [chosen[i] for i in pending],
                    options=options,
                    chunks=chunks,
                    memory=memory,
                )
                for index, result in zip(pending, taken, strict=True):
                    row[index] = result
            else:
                for index in pending:
                    row[index] = measure_one(chosen[index])
            comparison.rounds.append([r for r in row if r is not None])
            comparison.seconds = time.monotonic() - start
            if on_round is not None:
                on_round(comparison)
            if budget_seconds is not None and time.monotonic() - start >= budget_seconds:
                comparison.stopped = "budget"
                break
    return comparison


def _finished(comparison: Comparison, min_rounds: int, max_rounds: int, precision: float) -> bool:
    """Say whether the rounds are done, and set why: the most rounds, or precise enough."""
    done = len(comparison.rounds)
    if done >= max_rounds:
        comparison.stopped = "rounds"
    elif done >= min_rounds and comparison.precise(precision):
        comparison.stopped = "precision"
    return bool(comparison.stopped)


def compare_many(
    workloads: Sequence[str | WorkloadSpec],
    settings: Sequence[ThreadSettings],
    *,
    goal: str = "latency",
    options: MeasureOptions | None = None,
    rounds: int = 3,
    chunks: int = 2,
    check: bool = True,
) -> list[Comparison]:
    """Compare settings on several workloads at once, in a fixed number of rounds.

    Each round starts every setting's processes together, and each process runs every
    workload, one after the other; for each workload the settings take turns chunk by
    chunk (:func:`tfthreads.measure.measure_many_in_turns`). TensorFlow thus starts once
    per setting and round, whatever the number of workloads.

    Parameters
    ----------
    workloads : sequence of str or WorkloadSpec
        What to measure, in the same processes.
    settings : sequence of ThreadSettings
        Two or more settings; the first is the baseline that ratios refer to.
    goal : {"latency", "throughput"}
        What "better" means (see :func:`score`).
    options : MeasureOptions, optional
        How each setting is measured in each round.
    rounds : int
        Rounds to measure (2 or more: an interval needs two); there is no early stop.
    chunks : int
        Turns per setting and workload in each round, from 1 to ``options.repeats``.
    check : bool
        First run user workloads once (see :func:`compare`).

    Returns
    -------
    list of Comparison
        One per workload, in order; ``stopped`` is ``"rounds"``.

    Raises
    ------
    SettingError
        For bad arguments, or user code that cannot run (checked once, up front).
    """
    specs = [parse_workload(workload) for workload in workloads]
    if not specs:
        raise SettingError("workloads: got none; expected at least one")
    GOAL.check("goal", goal)
    ROUNDS.check("rounds", rounds)
    chosen = tuple(settings)
    if len(chosen) < 2 or not all(isinstance(s, ThreadSettings) for s in chosen):
        raise SettingError("settings: expected two or more ThreadSettings to compare")
    options = MeasureOptions() if options is None else options
    check_chunks(chunks, options)
    comparisons = [
        Comparison(workload=spec, goal=goal, settings=chosen, stopped="rounds") for spec in specs
    ]
    with importing_once(options):
        if check:
            check_workloads(specs, options)
        for done in range(rounds):
            order = list(range(len(chosen)))
            if done % 2:
                order.reverse()  # who takes the first turn alternates, as in compare()
            taken = measure_many_in_turns(
                specs, [chosen[i] for i in order], options=options, chunks=chunks
            )
            row: list[list[Measurement | Failure]] = [[] for _ in specs]
            by_setting = dict(zip(order, taken, strict=True))
            for index in range(len(chosen)):
                result = by_setting[index]
                for w, spec in enumerate(specs):
                    row[w].append(
                        _failure(spec, chosen[index], options, result)
                        if isinstance(result, WorkerError)
                        else result[w]
                    )
            for comparison, results in zip(comparisons, row, strict=True):
                comparison.rounds.append(results)
    return comparisons


def _together(count: int, chunks: int, options: MeasureOptions, memory: float) -> tuple[int, str]:
    """Return how many settings a round measures at once, and that method in words.

    All of them where memory holds a process per setting (``options.processes`` each, of
    ``memory`` bytes); else as many as it holds; with fewer than two, one after the other.
    """
    if chunks == 1:
        return 1, "one setting after the other, each in fresh processes"
    fit = processes_that_fit(memory) // options.processes
    if fit >= count:
        return count, f"{count} settings at once, {chunks} turns each"
    if fit >= 2:
        return fit, (
            f"{fit} settings at once, {chunks} turns each (memory here holds "
            f"{fit * options.processes} processes of about {memory / 1e9:.2f} GB, not "
            f"{count * options.processes})"
        )
    return 1, (
        f"one setting after the other, each in fresh processes: memory here holds "
        f"{fit * options.processes or 1} process(es) of about {memory / 1e9:.2f} GB, "
        "too few to take turns"
    )


def measure_together(
    workload: str | WorkloadSpec,
    settings: Sequence[ThreadSettings],
    *,
    options: MeasureOptions,
    chunks: int,
    memory: float = PROCESS_MEMORY,
) -> list[Measurement | Failure]:
    """Measure settings once each, at once where memory allows, the settings taking turns.

    As many settings as memory holds (processes of ``memory`` bytes each) run together,
    taking ``chunks`` turns each (:func:`tfthreads.measure.measure_in_turns`); the next
    group after them. With ``chunks=1``, or when memory holds fewer than two, one after
    the other in fresh processes. A setting that failed is a
    :class:`~tfthreads.results.Failure`.
    """
    spec = parse_workload(workload)
    chosen = list(settings)
    together, _ = _together(len(chosen), chunks, options, memory)
    if together < 2:
        return [_measure_one(spec, one, options) for one in chosen]
    taken: list[Measurement | Failure] = []
    for first in range(0, len(chosen), together):
        taken += _measure_in_turns(spec, chosen[first : first + together], options, chunks)
    return taken


def _measure_one(
    spec: WorkloadSpec, settings: ThreadSettings, options: MeasureOptions
) -> Measurement | Failure:
    try:
        return measure(spec, settings, options=options)
    except WorkerError as error:
        return _failure(spec, settings, options, error)


def _measure_in_turns(
    spec: WorkloadSpec, settings: list[ThreadSettings], options: MeasureOptions, chunks: int
) -> list[Measurement | Failure]:
    taken = measure_in_turns(spec, settings, options=options, chunks=chunks)
    return [
        _failure(spec, one, options, result) if isinstance(result, WorkerError) else result
        for one, result in zip(settings, taken, strict=True)
    ]


def _failure(
    spec: WorkloadSpec, settings: ThreadSettings, options: MeasureOptions, error: WorkerError
) -> Failure:
    return Failure.of_error(spec, settings, options.processes, error)
