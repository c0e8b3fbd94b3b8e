"""Compare thread settings precisely: interleaved rounds of new processes, ratios with intervals.

On a shared machine the same setting measured in two fresh processes can differ by a
quarter, so one measurement per setting cannot rank settings. :func:`compare` measures
every setting once per *round*, in an order that alternates (A B C, then C B A), so that
drift hits all settings alike; each round gives one value per setting, and the ratio of
two settings is estimated from their per-round ratios with a 95 % interval
(:func:`tfthreads.stats.ratio_interval`). Two settings whose interval includes 1, or whose
ratio is within 5 % of 1 (:data:`tfthreads.stats.TIE`), are *indistinguishable*, and the
result says so instead of naming a winner.

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

from tfthreads._checks import Seconds, WholeNumber
from tfthreads.comparison import Comparison
from tfthreads.errors import SettingError
from tfthreads.measure import (
    PROCESS_MEMORY,
    check_chunks,
    check_workloads,
    importing_once,
    measure_many_in_turns,
    turns_for,
)
from tfthreads.options import GOAL, MeasureOptions
from tfthreads.process import WorkerError
from tfthreads.results import Failure, Measurement, score
from tfthreads.settings import ThreadSettings
from tfthreads.together import failure, how_many_together, measure_alone, measure_together
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["GOAL", "Comparison", "compare", "compare_many", "measure_together", "score"]

ROUNDS = WholeNumber(2, 1000)
PRECISION = Seconds(high=1.0, unit="a fraction")  # 0.05 is ±5 %
BUDGET_SECONDS = Seconds()


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
        Stop after the round that crosses this many seconds, once ``min_rounds`` are done.
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
        :func:`~tfthreads.measure.turns_for` the options (6, or one per 5 timed steps
        of a longer loop), or 1 with
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
    _check_stopping(min_rounds, max_rounds, precision, budget_seconds)
    chosen = _check_settings(settings)
    options = MeasureOptions() if options is None else options
    if chunks is None:
        chunks = 1 if measure_one is not None else turns_for(options)
    check_chunks(chunks, options)
    if chunks > 1 and measure_one is not None:
        raise SettingError("chunks: got a measure_one as well; expected one or the other")
    memory = check_workloads([spec], options) if check else PROCESS_MEMORY
    memory = memory if process_memory is None else process_memory
    together, method = how_many_together(len(chosen), chunks, options, memory)
    if together < 2:
        chunks = 1  # memory holds too few processes to take turns
    if measure_one is None:

        def measure_one(settings: ThreadSettings) -> Measurement | Failure:
            return measure_alone(spec, settings, options)

    comparison = Comparison(workload=spec, goal=goal, settings=chosen, method=method)
    comparison.rounds = [list(row) for row in resumed]
    if any(len(row) != len(chosen) for row in comparison.rounds):
        raise SettingError("resumed: expected one result per setting in each round")
    start = time.monotonic()
    # Resumed rounds may be enough already.
    comparison.stopped = _why_stop(
        [comparison], min_rounds, max_rounds, precision, budget_seconds, start
    )
    with contextlib.ExitStack() as stack:
        if chunks > 1:  # whole processes (chunks=1) stay fresh processes, imports included
            stack.enter_context(importing_once(options))
        while not comparison.stopped:
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
            comparison.stopped = _why_stop(
                [comparison], min_rounds, max_rounds, precision, budget_seconds, start
            )
    return comparison


def _check_stopping(
    min_rounds: int, max_rounds: int, precision: float, budget_seconds: float | None
) -> None:
    """Check when rounds stop, by the rule of every argument."""
    ROUNDS.check("min_rounds", min_rounds)
    ROUNDS.check("max_rounds", max_rounds)
    PRECISION.check("precision", precision)
    if budget_seconds is not None:
        BUDGET_SECONDS.check("budget_seconds", budget_seconds)
    if min_rounds > max_rounds:
        raise SettingError(
            f"min_rounds: got {min_rounds}; expected at most max_rounds ({max_rounds})"
        )


def _check_settings(settings: Sequence[ThreadSettings]) -> tuple[ThreadSettings, ...]:
    chosen = tuple(settings)
    if len(chosen) < 2 or not all(isinstance(s, ThreadSettings) for s in chosen):
        raise SettingError("settings: expected two or more ThreadSettings to compare")
    return chosen


def _why_stop(
    comparisons: Sequence[Comparison],
    min_rounds: int,
    max_rounds: int,
    precision: float,
    budget_seconds: float | None,
    start: float,
) -> str:
    """Say why the rounds stop now ("rounds", "precision", "budget"), or ``""`` to go on."""
    done = len(comparisons[0].rounds)
    if done >= max_rounds:
        return "rounds"
    if done < min_rounds:
        return ""
    if all(comparison.precise(precision) for comparison in comparisons):
        return "precision"
    if budget_seconds is not None and time.monotonic() - start >= budget_seconds:
        return "budget"
    return ""


def compare_many(
    workloads: Sequence[str | WorkloadSpec],
    settings: Sequence[ThreadSettings],
    *,
    goal: str = "latency",
    options: MeasureOptions | None = None,
    min_rounds: int = 3,
    max_rounds: int = 20,
    precision: float = 0.05,
    budget_seconds: float | None = None,
    chunks: int | None = None,
    check: bool = True,
    on_round: Callable[[list[Comparison]], None] | None = None,
) -> list[Comparison]:
    """Compare settings on several workloads at once, in rounds that share processes.

    Each round starts every setting's processes together, and each process runs every
    workload, one after the other; for each workload the settings take turns chunk by
    chunk (:func:`tfthreads.measure.measure_many_in_turns`). TensorFlow thus starts once
    per setting and round, whatever the number of workloads. Rounds stop as in
    :func:`compare`, once the intervals of every workload are within ``precision``.

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
    min_rounds, max_rounds : int
        Rounds at least (2 or more: an interval needs two) and at most; equal for a
        fixed number of rounds.
    precision : float
        Stop once every interval of every workload against the baseline is within this
        fraction of its ratio (0.05: ±5 %).
    budget_seconds : float, optional
        Stop after the round that crosses this many seconds, once ``min_rounds`` are done.
    chunks : int, optional
        Turns per setting and workload in each round, from 1 to ``options.repeats``; by
        default :func:`~tfthreads.measure.turns_for` the options, as in :func:`compare`.
    check : bool
        First run user workloads once (see :func:`compare`).
    on_round : callable, optional
        Called with the comparisons, one per workload, after each round (progress, or
        a record that survives a crash).

    Returns
    -------
    list of Comparison
        One per workload, in order, with the same rounds and the same ``stopped``.

    Raises
    ------
    SettingError
        For bad arguments, or user code that cannot run (checked once, up front).
    """
    specs = [parse_workload(workload) for workload in workloads]
    if not specs:
        raise SettingError("workloads: got none; expected at least one")
    GOAL.check("goal", goal)
    _check_stopping(min_rounds, max_rounds, precision, budget_seconds)
    chosen = _check_settings(settings)
    options = MeasureOptions() if options is None else options
    chunks = turns_for(options) if chunks is None else chunks
    check_chunks(chunks, options)
    comparisons = [Comparison(workload=spec, goal=goal, settings=chosen) for spec in specs]
    start = time.monotonic()
    stopped = ""
    with importing_once(options):
        if check:
            check_workloads(specs, options)
        while not stopped:
            order = list(range(len(chosen)))
            if len(comparisons[0].rounds) % 2:
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
                        failure(spec, chosen[index], options, result)
                        if isinstance(result, WorkerError)
                        else result[w]
                    )
            seconds = time.monotonic() - start
            for comparison, results in zip(comparisons, row, strict=True):
                comparison.rounds.append(results)
                comparison.seconds = seconds
            if on_round is not None:
                on_round(comparisons)
            stopped = _why_stop(
                comparisons, min_rounds, max_rounds, precision, budget_seconds, start
            )
    for comparison in comparisons:
        comparison.stopped = stopped
    return comparisons
