"""Measure several settings once each, at once where memory allows, taking turns.

Settings measured milliseconds apart meet the same state of a shared machine; settings
measured a TensorFlow start-up apart do not. :func:`measure_together` runs as many
settings' processes at once as memory holds, and they take turns chunk by chunk
(:func:`tfthreads.measure.measure_in_turns`); where memory holds fewer than two, one
after the other in fresh processes. :func:`tfthreads.compare.compare` measures its rounds
with it, and :func:`tfthreads.tune.tune` its screening steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from tfthreads.measure import PROCESS_MEMORY, measure, measure_in_turns, processes_that_fit
from tfthreads.options import MeasureOptions
from tfthreads.process import WorkerError
from tfthreads.results import Failure, Measurement
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["failure", "how_many_together", "measure_alone", "measure_together"]


def how_many_together(
    count: int, chunks: int, options: MeasureOptions, memory: float
) -> tuple[int, str]:
    """Return how many of ``count`` settings are measured at once, and that method in words.

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
    together, _ = how_many_together(len(chosen), chunks, options, memory)
    if together < 2:
        return [measure_alone(spec, one, options) for one in chosen]
    taken: list[Measurement | Failure] = []
    for first in range(0, len(chosen), together):
        taken += _measure_in_turns(spec, chosen[first : first + together], options, chunks)
    return taken


def measure_alone(
    spec: WorkloadSpec, settings: ThreadSettings, options: MeasureOptions
) -> Measurement | Failure:
    """Measure one setting once, alone in fresh processes; a failed child is a :class:`~tfthreads.results.Failure`."""
    try:
        return measure(spec, settings, options=options)
    except WorkerError as error:
        return failure(spec, settings, options, error)


def _measure_in_turns(
    spec: WorkloadSpec, settings: list[ThreadSettings], options: MeasureOptions, chunks: int
) -> list[Measurement | Failure]:
    taken = measure_in_turns(spec, settings, options=options, chunks=chunks)
    return [
        failure(spec, one, options, result) if isinstance(result, WorkerError) else result
        for one, result in zip(settings, taken, strict=True)
    ]


def failure(
    spec: WorkloadSpec, settings: ThreadSettings, options: MeasureOptions, error: WorkerError
) -> Failure:
    """Record that a setting's child failed with ``error``, pinned on the workload ``spec``."""
    return Failure.of_error(spec, settings, options.processes, error)
