"""Measure workloads under thread settings, one fresh process per setting.

:func:`measure` times one workload; :func:`measure_many` times several under the same
settings in one child, so TensorFlow's start-up is paid once per setting;
:func:`measure_in_turns` times one workload under several settings whose children take
turns, chunk by chunk, so that they meet the same state of a shared machine
(:func:`measure_many_in_turns`: several workloads in the same children).
With ``MeasureOptions(processes=P)``, P children run at once on the same CPUs, as the worker processes
of a server do, and wait for each other before timing so their loops overlap.
Before children start, :mod:`tfthreads.preflight` checks that they fit in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import cast

from tfthreads._checks import WholeNumber, of_type
from tfthreads.errors import SettingError
from tfthreads.inventory import count_pools
from tfthreads.options import MeasureOptions
from tfthreads.preflight import (
    CHECK_NOTICE_SECONDS,
    PROCESS_MEMORY,
    check_memory,
    check_workloads,
    processes_that_fit,
)
from tfthreads.process import (
    SIBLING_FAILED,
    ImportServer,
    WorkerError,
    WorkerResult,
    run_workers,
    temporary_folder,
)
from tfthreads.process import importing_once as process_importing_once
from tfthreads.process.messages import SHARED_IMPORT, MeasureReply, MeasureRequest
from tfthreads.provenance import provenance
from tfthreads.results import Measurement, ProcessResult
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import WorkloadSpec, parse_workload

# The checks made before children start, from tfthreads.preflight, are names of this
# module too (the API page documents them there).
__all__ = [
    "CHECK_NOTICE_SECONDS",
    "CHUNKS",
    "PROCESS_MEMORY",
    "TURNS",
    "check_chunks",
    "check_workloads",
    "importing_once",
    "measure",
    "measure_in_turns",
    "measure_many",
    "measure_many_in_turns",
    "processes_that_fit",
    "turns_for",
]

#: Turns per setting in :func:`measure_in_turns` (each times at least one step).
CHUNKS = WholeNumber(1, 10_000)
#: Turns per setting and round when a comparison does not say, in loops of up to 30
#: steps; longer loops get one turn per ``STEPS_PER_TURN`` (5) timed steps. Whole
#: processes could not bring the engine benchmark's self-comparison of ``matmul`` within
#: ±5 %, and 6 turns of 30 steps did (benchmarks/results/engine-whole-processes.md). What
#: decides the precision is how often the settings alternate; the same self-comparison of
#: 120 steps in 30 rounds came within ±1.2 % with 6 turns and ±0.5 % with 24 (2-CPU Intel
#: Xeon).
TURNS = 6
#: Timed steps per turn, in loops long enough for more than ``TURNS`` turns.
STEPS_PER_TURN = 5


def turns_for(options: MeasureOptions) -> int:
    """Return the default turns per setting for ``options``.

    :data:`TURNS`, or one per ``STEPS_PER_TURN`` (5) timed steps where that is more, and
    never more than one per timed step.

    Examples
    --------
    >>> [turns_for(MeasureOptions(repeats=n)) for n in (3, 20, 60, 120)]
    [3, 6, 12, 24]
    """
    return min(options.repeats, max(TURNS, options.repeats // STEPS_PER_TURN))


def measure_many(
    workloads: Sequence[str | WorkloadSpec],
    settings: ThreadSettings | None = None,
    *,
    options: MeasureOptions | None = None,
) -> list[Measurement]:
    """Measure several workloads under the same settings, in one child per process.

    Parameters are those of :func:`measure`, with a sequence of workloads.

    Raises
    ------
    SettingError
        For a bad workload, before any child starts.
    TypeError
        When ``settings`` or ``options`` is not of its type.
    WorkerError
        When a child fails (the first failure is raised).
    """
    specs = [parse_workload(workload) for workload in workloads]
    if not specs:
        raise SettingError("workloads: got none; expected at least one")
    settings = of_type("settings", settings, ThreadSettings)
    options = of_type("options", options, MeasureOptions)
    with temporary_folder("barrier") as barrier:
        payload = _payload(specs, settings, options)
        if options.processes > 1:
            payload["barrier"] = {
                "dir": barrier,
                "count": options.processes,
                "timeout": options.timeout,
            }
        outcomes = _run(options, [payload] * options.processes)
    failures = [outcome for outcome in outcomes if isinstance(outcome, WorkerError)]
    if failures:
        raise failures[0]
    results = [outcome for outcome in outcomes if isinstance(outcome, WorkerResult)]
    return _assemble(
        specs, settings, dict(options.env), [cast(MeasureReply, r.result) for r in results]
    )


def measure_in_turns(
    workload: str | WorkloadSpec,
    settings: Sequence[ThreadSettings],
    *,
    options: MeasureOptions | None = None,
    chunks: int = 2,
) -> list[Measurement | WorkerError]:
    """Measure one workload under several settings at once, the settings taking turns.

    One child per setting (``options.processes`` per setting) starts TensorFlow and warms
    up; then the settings take turns to run chunks of their timed loops, in the order of
    ``settings`` for the first chunk, reversed for the next, and so on. Only one setting
    runs at a time, so they do not compete for the CPUs, but their steps are measured
    within milliseconds of each other: a shared machine whose speed changes from one
    second to the next affects every setting alike.

    Parameters
    ----------
    workload : str or WorkloadSpec
        What to measure.
    settings : sequence of ThreadSettings
        One or more settings, each in its own fresh children.
    options : tfthreads.options.MeasureOptions, optional
        As for :func:`measure`; ``repeats`` are split into the chunks.
    chunks : int
        Turns per setting, from 1 to ``options.repeats``.

    Returns
    -------
    list of Measurement or WorkerError
        One entry per setting, in order: its measurement, or the error of its first
        failed child (a failure stops every setting of the call).
    """
    taken = measure_many_in_turns([workload], settings, options=options, chunks=chunks)
    return [result if isinstance(result, WorkerError) else result[0] for result in taken]


def measure_many_in_turns(
    workloads: Sequence[str | WorkloadSpec],
    settings: Sequence[ThreadSettings],
    *,
    options: MeasureOptions | None = None,
    chunks: int = 2,
    environments: Sequence[Mapping[str, str | None]] | None = None,
) -> list[list[Measurement] | WorkerError]:
    """Measure several workloads under several settings, the settings taking turns.

    As :func:`measure_in_turns`, with the workloads one after the other in the same
    children, as in :func:`measure_many`: every setting's children start TensorFlow once,
    and for each workload in turn the settings take turns chunk by chunk.

    ``environments`` (one per setting) changes each setting's environment on top of
    ``options.env``, to compare environments (oneDNN on and off, say) the same way;
    each such child then imports TensorFlow itself, since some variables are read at
    import.

    Returns
    -------
    list of list of Measurement, or WorkerError
        One entry per setting, in order: its measurements, one per workload, or the
        error of its first failed child (a failure stops every setting of the call).
    """
    specs = [parse_workload(workload) for workload in workloads]
    if not specs:
        raise SettingError("workloads: got none; expected at least one")
    options = of_type("options", options, MeasureOptions)
    chosen = [of_type("settings", one, ThreadSettings) for one in settings]
    if not chosen:
        raise SettingError("settings: got none; expected at least one")
    check_chunks(chunks, options)
    if environments is not None and len(environments) != len(chosen):
        raise SettingError(
            f"environments: got {len(environments)}; expected one per setting ({len(chosen)})"
        )
    group = options.processes
    with temporary_folder("turns") as folder:
        payloads: list[MeasureRequest] = []
        for slot, one in enumerate(chosen):
            payload = _payload(specs, one, options)
            payload["barrier"] = {
                "dir": folder,
                "count": group * len(chosen),
                "timeout": options.timeout,
            }
            payload["turns"] = {
                "dir": folder,
                "slot": slot,
                "count": len(chosen),
                "chunks": chunks,
                "group": group,
                "timeout": options.timeout,
            }
            payloads += [payload] * group
        own_env = None if environments is None else [e for e in environments for _ in range(group)]
        outcomes = _run(options, payloads, signals=folder, environments=own_env)
    measured: list[list[Measurement] | WorkerError] = []
    for slot, one in enumerate(chosen):
        own = outcomes[slot * group : (slot + 1) * group]
        failures = [o for o in own if isinstance(o, WorkerError)]
        if not failures:
            results = [cast(MeasureReply, o.result) for o in own if isinstance(o, WorkerResult)]
            env = {**options.env, **(environments[slot] if environments is not None else {})}
            measured.append(_assemble(specs, one, env, results))
        else:  # the child that failed first, rather than a sibling that stopped for it
            measured.append(next((f for f in failures if not _stopped_for_sibling(f)), failures[0]))
    stopped = [i for i, m in enumerate(measured) if _stopped_for_sibling(m)]
    if stopped and len(stopped) < len(chosen):
        # The settings that only stopped for a failed sibling are measured again without it.
        again = measure_many_in_turns(
            specs,
            [chosen[i] for i in stopped],
            options=options,
            chunks=chunks,
            environments=None if environments is None else [environments[i] for i in stopped],
        )
        for index, result in zip(stopped, again, strict=True):
            measured[index] = result
    return measured


def _stopped_for_sibling(result: object) -> bool:
    return isinstance(result, WorkerError) and SIBLING_FAILED in str(result)


def check_chunks(chunks: int, options: MeasureOptions) -> None:
    """Refuse a number of turns that is not a whole number from 1 to ``options.repeats``."""
    CHUNKS.check("chunks", chunks)
    if chunks > options.repeats:
        raise SettingError(
            f"chunks: got {chunks}; expected at most the repeats ({options.repeats}), "
            "so that every turn times at least one step"
        )


def _payload(
    specs: Sequence[WorkloadSpec], settings: ThreadSettings, options: MeasureOptions
) -> MeasureRequest:
    return {
        "workloads": [spec.as_dict() for spec in specs],
        "intra_op": settings.intra_op,
        "inter_op": settings.inter_op,
        "repeats": options.repeats,
        "warmup": options.warmup,
    }


def importing_once(options: MeasureOptions) -> AbstractContextManager[ImportServer]:
    """Within the block, measuring children under ``options`` share one TensorFlow import.

    A comparison's rounds then pay TensorFlow's import (seconds of CPU time) once instead
    of once per setting and round; each child is still a process of its own, whose
    runtime starts with its own settings (:func:`tfthreads.process.importing_once`).
    """
    return process_importing_once(SHARED_IMPORT, child=options.child)


def _run(
    options: MeasureOptions,
    payloads: Sequence[MeasureRequest],
    signals: str | None = None,
    environments: Sequence[Mapping[str, str | None]] | None = None,
) -> list[WorkerResult | WorkerError]:
    """Run the measuring children, all at once.

    With ``signals`` (the folder of their barrier and turns), a child that dies is
    announced there at once, so that its siblings stop waiting for it.
    """
    check_memory(len(payloads), options)
    return run_workers(
        "measure",
        payloads,
        child=options.child,
        environments=environments,
        on_failure=None if signals is None else (Path(signals) / "abort").touch,
        share_import=SHARED_IMPORT,
    )


def _assemble(
    specs: Sequence[WorkloadSpec],
    settings: ThreadSettings,
    env: dict[str, str | None],
    results: Sequence[MeasureReply],
) -> list[Measurement]:
    first = results[0]
    # Told apart in the child (by name, or by what the threads run); none when undecided.
    told = first.get("pools") or count_pools(first["new_at_init"])
    pools = {} if told.get("undecided") else {k: int(told[k]) for k in ("intra_op", "inter_op")}
    record = provenance()
    record["child_tensorflow_version"] = first["tensorflow_version"]
    record["onednn_enabled"] = first["build"]["onednn_enabled"]
    record["child_affinity"] = first["affinity"]
    record["child_topology"] = first["topology"]
    measurements = []
    for index, spec in enumerate(specs):
        per_child = [result["workloads"][index] for result in results]
        measurements.append(
            Measurement(
                workload=spec,
                settings=settings,
                env=env,
                unit=per_child[0]["unit"],
                items_per_step=float(per_child[0]["items_per_step"]),
                flops_per_step=float(per_child[0]["flops_per_step"]),
                processes=tuple(ProcessResult.from_dict(w) for w in per_child),
                configured={k: int(first["configured"][k]) for k in ("intra_op", "inter_op")},
                observed_pools=pools,
                provenance=record,
            )
        )
    return measurements


def measure(
    workload: str | WorkloadSpec,
    settings: ThreadSettings | None = None,
    *,
    options: MeasureOptions | None = None,
) -> Measurement:
    """Measure one workload under one set of thread settings, in fresh processes.

    Parameters
    ----------
    workload : str or WorkloadSpec
        A built-in name, ``"package.module:function"`` or a Keras model (see
        :func:`tfthreads.workloads.parse_workload`).
    settings : ThreadSettings, optional
        Applied with ``tf.config.threading`` in each child; TensorFlow's defaults if
        omitted.
    options : tfthreads.options.MeasureOptions, optional
        Repeats, warm-up, processes, environment, CPUs, cgroup and time limit
        (:class:`tfthreads.options.MeasureOptions`); its defaults if omitted.

    Returns
    -------
    tfthreads.results.Measurement
        Wall and CPU time statistics, throughput, thread counts, the settings in force and
        the provenance.

    Examples
    --------
    >>> quick = MeasureOptions(repeats=5, warmup=1)
    >>> result = measure("matmul", ThreadSettings(intra_op=1), options=quick)
    >>> result.configured["intra_op"], result.observed_pools["intra_op"]
    (1, 1)
    >>> result.wall.median > 0
    True
    """
    return measure_many([workload], settings, options=options)[0]
