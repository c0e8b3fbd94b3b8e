"""Measure workloads under thread settings, one fresh process per setting.

:func:`measure` times one workload; :func:`measure_many` times several under the same
settings in one child, so TensorFlow's start-up is paid once per setting.
With ``processes=P``, P children run at once on the same CPUs, as the worker processes
of a server do, and wait for each other before timing so their loops overlap.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfthreads.errors import SettingError
from tfthreads.inventory import count_pools
from tfthreads.isolation import WorkerError, WorkerResult, run_workers
from tfthreads.provenance import provenance
from tfthreads.settings import ThreadSettings
from tfthreads.stats import Summary, summarize
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["Measurement", "ProcessResult", "measure", "measure_many"]


@dataclass(frozen=True)
class ProcessResult:
    """The timings of one workload in one worker process.

    Attributes
    ----------
    wall_seconds, cpu_seconds : tuple of float
        Per-iteration wall time and process CPU time (user + system, all threads).
    threads_total : int
        Threads in the process after the timed loop.
    threads_active : int
        Threads that used CPU during the timed loop.
    """

    wall_seconds: tuple[float, ...]
    cpu_seconds: tuple[float, ...]
    threads_total: int
    threads_active: int

    @property
    def elapsed(self) -> float:
        """Wall time of the whole timed loop."""
        return sum(self.wall_seconds)


@dataclass(frozen=True)
class Measurement:
    """One workload measured under one set of thread settings.

    Attributes
    ----------
    workload : WorkloadSpec
        What ran.
    settings : ThreadSettings
        The settings applied in every child.
    env : dict
        Environment changes the children were started with.
    unit : str
        What one item is (``"inferences"``, ``"elements"``...).
    items_per_step, flops_per_step : float
        Work in one iteration (``flops_per_step`` is 0 when unknown).
    processes : tuple of ProcessResult
        One entry per child.
    configured : dict
        The pool settings read back from TensorFlow in the first child.
    observed_pools : dict
        Intra-op and inter-op threads the first child's runtime created.
    provenance : dict
        The machine and software (see :func:`tfthreads.provenance.provenance`), plus the
        child's TensorFlow version and whether oneDNN was on.
    """

    workload: WorkloadSpec
    settings: ThreadSettings
    env: dict[str, str | None]
    unit: str
    items_per_step: float
    flops_per_step: float
    processes: tuple[ProcessResult, ...]
    configured: dict[str, int]
    observed_pools: dict[str, int]
    provenance: dict[str, Any]

    @property
    def wall(self) -> Summary:
        """Per-iteration wall time over every process."""
        return summarize([t for p in self.processes for t in p.wall_seconds])

    @property
    def cpu(self) -> Summary:
        """Per-iteration process CPU time over every process."""
        return summarize([t for p in self.processes for t in p.cpu_seconds])

    @property
    def throughput(self) -> float:
        """Items per second, all processes together (each process's items / its loop time)."""
        return sum(
            self.items_per_step * len(p.wall_seconds) / p.elapsed
            for p in self.processes
            if p.elapsed > 0
        )

    @property
    def gflops(self) -> float | None:
        """GFLOP/s of the median iteration, or ``None`` when the work is not known."""
        if not self.flops_per_step:
            return None
        return self.flops_per_step / self.wall.median / 1e9 * len(self.processes)

    def row(self) -> dict[str, Any]:
        """Return one flat, JSON-ready table row."""
        wall, cpu = self.wall, self.cpu
        return {
            "workload": self.workload.name,
            "intra_op": self.settings.intra_op,
            "inter_op": self.settings.inter_op,
            "processes": len(self.processes),
            "median_ms": wall.median * 1e3,
            "iqr_ms": wall.iqr * 1e3,
            "p99_ms": wall.p99 * 1e3,
            "min_ms": wall.minimum * 1e3,
            "throughput": self.throughput,
            "unit": f"{self.unit}/s",
            "gflops": self.gflops,
            "cpu_ms": cpu.median * 1e3,
            "cpu_per_wall": cpu.median / wall.median if wall.median else None,
            "threads_active": max(p.threads_active for p in self.processes),
            "threads_total": max(p.threads_total for p in self.processes),
            "observed_intra_op": self.observed_pools.get("intra_op"),
            "observed_inter_op": self.observed_pools.get("inter_op"),
        }

    def as_dict(self) -> dict[str, Any]:
        """Return everything, JSON-ready: the row, raw timings and provenance."""
        return {
            **self.row(),
            "spec": self.workload.as_dict(),
            "env": self.env,
            "configured": self.configured,
            "wall": self.wall.as_dict(),
            "cpu": self.cpu.as_dict(),
            "per_process": [
                {
                    "throughput": self.items_per_step * len(p.wall_seconds) / p.elapsed,
                    "p99_ms": summarize(p.wall_seconds).p99 * 1e3,
                    "wall_seconds": list(p.wall_seconds),
                    "cpu_seconds": list(p.cpu_seconds),
                    "threads_total": p.threads_total,
                    "threads_active": p.threads_active,
                }
                for p in self.processes
            ],
            "provenance": self.provenance,
        }


def _check_count(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingError(f"{name}: got {value!r}; expected a whole number from {low} to {high}")
    return value


def measure_many(
    workloads: Sequence[str | WorkloadSpec],
    settings: ThreadSettings | None = None,
    *,
    repeats: int = 20,
    warmup: int = 3,
    processes: int = 1,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
) -> list[Measurement]:
    """Measure several workloads under the same settings, in one child per process.

    Parameters are those of :func:`measure`, with a sequence of workloads.

    Raises
    ------
    SettingError
        For a bad workload, count or timeout, before any child starts.
    WorkerError
        When a child fails (the first failure is raised).
    """
    specs = [parse_workload(workload) for workload in workloads]
    if not specs:
        raise SettingError("workloads: got none; expected at least one")
    settings = settings or ThreadSettings()
    _check_count("repeats", repeats, 1, 100_000)
    _check_count("warmup", warmup, 0, 100_000)
    _check_count("processes", processes, 1, 256)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise SettingError(f"timeout: got {timeout!r}; expected a number of seconds above 0")
    env = dict(env or {})
    payload: dict[str, Any] = {
        "workloads": [spec.as_dict() for spec in specs],
        "intra_op": settings.intra_op,
        "inter_op": settings.inter_op,
        "repeats": repeats,
        "warmup": warmup,
    }
    with tempfile.TemporaryDirectory(prefix="tfthreads-barrier-") as barrier:
        if processes > 1:
            payload["barrier"] = {"dir": barrier, "count": processes, "timeout": timeout}
        outcomes = run_workers(
            "measure", [payload] * processes, env=env, cpus=cpus, cgroup=cgroup, timeout=timeout
        )
    failures = [outcome for outcome in outcomes if isinstance(outcome, WorkerError)]
    if failures:
        raise failures[0]
    results = [outcome for outcome in outcomes if isinstance(outcome, WorkerResult)]
    return _assemble(specs, settings, env, [r.result for r in results])


def _assemble(
    specs: Sequence[WorkloadSpec],
    settings: ThreadSettings,
    env: dict[str, str | None],
    results: Sequence[dict[str, Any]],
) -> list[Measurement]:
    first = results[0]
    pools = count_pools(first["new_at_init"])
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
                processes=tuple(
                    ProcessResult(
                        wall_seconds=tuple(w["wall_seconds"]),
                        cpu_seconds=tuple(w["cpu_seconds"]),
                        threads_total=int(w["threads_total"]),
                        threads_active=int(w["threads_active"]),
                    )
                    for w in per_child
                ),
                configured={k: int(v) for k, v in first["configured"].items()},
                observed_pools=pools,
                provenance=record,
            )
        )
    return measurements


def measure(
    workload: str | WorkloadSpec,
    settings: ThreadSettings | None = None,
    *,
    repeats: int = 20,
    warmup: int = 3,
    processes: int = 1,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
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
    repeats : int
        Timed iterations per process.
    warmup : int
        Untimed iterations first (tracing, allocation, caches).
    processes : int
        Children started at once, sharing the CPUs.
    env : mapping, optional
        Environment changes for the children (``None`` values remove a variable).
    cpus : iterable of int, optional
        CPUs the children may run on.
    cgroup : path-like, optional
        A cgroup the children join before importing TensorFlow, for example one with a
        CPU quota from :func:`tfthreads.quota.cpu_quota`.
    timeout : float
        Seconds before the children are killed.

    Returns
    -------
    Measurement
        Wall and CPU time statistics, throughput, thread counts, the settings in force and
        the provenance.

    Examples
    --------
    >>> result = measure("matmul", ThreadSettings(intra_op=1), repeats=5, warmup=1)
    >>> result.configured["intra_op"], result.observed_pools["intra_op"]
    (1, 1)
    >>> result.wall.median > 0
    True
    """
    return measure_many(
        [workload],
        settings,
        repeats=repeats,
        warmup=warmup,
        processes=processes,
        env=env,
        cpus=cpus,
        cgroup=cgroup,
        timeout=timeout,
    )[0]
