"""The messages between a parent and its worker, as types both sides are checked against.

The wire format is JSON: one request line on the worker's stdin, one response on its
stdout (see ``tfthreads.process.worker``). The measuring task's request and reply are
typed here once: the worker writes them (``tfthreads.process.tasks``), and
:mod:`tfthreads.measure` and :meth:`tfthreads.results.ProcessResult.from_dict` read them,
so ``mypy`` checks both sides against the same keys. The keys are those older versions
wrote, so results files written before these types existed still read.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "PROTOCOL_VERSION",
    "SHARED_IMPORT",
    "SIBLING_FAILED",
    "Barrier",
    "BuildInfo",
    "ConfiguredPools",
    "MeasureReply",
    "MeasureRequest",
    "MeasureSettings",
    "ProcessTimings",
    "Turns",
    "WorkloadReply",
]

#: Version of the JSON protocol between :func:`~tfthreads.process.run_worker` and the worker.
PROTOCOL_VERSION = 1
#: What every child of the ``measure`` and ``check_workloads`` tasks imports before its
#: settings apply: where several children start at once, or within
#: :func:`tfthreads.measure.importing_once`, one process imports it for all of them and
#: each child is a forked copy of that process (see :func:`tfthreads.process.run_workers`).
SHARED_IMPORT = ("tensorflow", "tfthreads.process.steps")
#: How a worker that waited for a sibling (a barrier, a turn) says that the sibling failed.
SIBLING_FAILED = "a sibling worker failed"


class Barrier(TypedDict):
    """Where sibling workers wait for each other before timing (``timeout`` in seconds)."""

    dir: str
    count: int
    timeout: float


class Turns(TypedDict):
    """How the workers of several settings take turns, chunk by chunk, in one folder."""

    dir: str
    slot: int
    count: int
    chunks: int
    group: int
    timeout: float


class MeasureSettings(TypedDict):
    """The keys every ``measure`` request has: workloads, pool sizes, step counts."""

    workloads: list[dict[str, Any]]
    intra_op: int
    inter_op: int
    repeats: int
    warmup: int


class MeasureRequest(MeasureSettings, total=False):
    """The payload of the ``measure`` task: workloads (as ``WorkloadSpec.as_dict``), settings, counts."""

    barrier: Barrier
    turns: Turns


class ProcessTimings(TypedDict):
    """The timings of one workload in one process: the worker's and a results file's keys."""

    wall_seconds: list[float]
    cpu_seconds: list[float]
    threads_total: int
    threads_active: int


class WorkloadReply(ProcessTimings):
    """What the ``measure`` task reports for one workload."""

    workload: dict[str, Any]
    name: str
    unit: str
    items_per_step: int
    flops_per_step: float


class ConfiguredPools(TypedDict):
    """The pool sizes ``tf.config.threading`` reads back (0: TensorFlow's default)."""

    intra_op: int
    inter_op: int


class BuildInfo(TypedDict):
    """What the child's TensorFlow build is."""

    is_cuda_build: bool
    onednn_enabled: bool


class MeasureReply(TypedDict):
    """The result of the ``measure`` task: one child's process facts and its workloads."""

    pools: dict[str, Any]
    tensorflow_version: str
    affinity: list[int]
    configured: ConfiguredPools
    threads_before_import: int
    new_at_init: dict[str, int]
    build: BuildInfo
    topology: dict[str, object]
    workloads: list[WorkloadReply]
