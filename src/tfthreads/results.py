"""The results of measurements, as types: a :class:`Measurement` or a :class:`Failure`.

Code that measures works with these; they become dictionaries only when written out
(:meth:`Measurement.as_dict`, :meth:`Failure.as_dict`, one JSON line each) and are read
back with :func:`result_from_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tfthreads.settings import ThreadSettings
from tfthreads.stats import Summary, summarize
from tfthreads.workloads import WorkloadSpec

if TYPE_CHECKING:
    from tfthreads.process import WorkerError
    from tfthreads.process.messages import ProcessTimings

__all__ = ["Failure", "Measurement", "ProcessResult", "Result", "result_from_dict", "score"]


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

    @classmethod
    def from_dict(cls, data: ProcessTimings) -> ProcessResult:
        """Read the timings of one process, as the worker and :meth:`Measurement.as_dict` write them.

        The keys are :class:`tfthreads.process.messages.ProcessTimings`, the worker's reply.
        """
        return cls(
            wall_seconds=_seconds("wall_seconds", data["wall_seconds"], positive=True),
            cpu_seconds=_seconds("cpu_seconds", data["cpu_seconds"], positive=False),
            threads_total=_count("threads_total", data["threads_total"]),
            threads_active=_count("threads_active", data["threads_active"]),
        )


def _seconds(name: str, values: object, *, positive: bool) -> tuple[float, ...]:
    """Read times from a file: a list of finite numbers, above 0 for wall-clock times.

    A hand-edited or damaged row fails here, in one line naming the field, instead of
    deep in the statistics (a string, a zero step time, a NaN).
    """
    if not isinstance(values, list | tuple):
        raise TypeError(f"{name}: got {values!r}; expected a list of seconds")
    for index, value in enumerate(values):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0 or (positive and value == 0):
            wanted = "above 0" if positive else "0 or more"
            raise ValueError(
                f"{name}[{index}]: got {value!r}; expected a finite number of seconds, {wanted}"
            )
    return tuple(float(v) for v in values)


def _count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}: got {value!r}; expected a whole number, 0 or more")
    return value


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
        """Return one flat, JSON-ready table row (``status`` is ``"ok"``)."""
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
            "status": "ok",
        }

    def as_dict(self) -> dict[str, Any]:
        """Return everything, JSON-ready: the row, raw timings and provenance.

        :meth:`from_dict` reads it back (a results file of a sweep holds these).
        """
        return {
            **self.row(),
            "spec": self.workload.as_dict(),
            "items_per_step": self.items_per_step,
            "flops_per_step": self.flops_per_step,
            "observed_pools": self.observed_pools,
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        """Rebuild a measurement from :meth:`as_dict` output (``KeyError`` if incomplete)."""
        return cls(
            workload=WorkloadSpec.from_dict(data["spec"]),
            settings=ThreadSettings(intra_op=data["intra_op"], inter_op=data["inter_op"]),
            env=dict(data["env"]),
            unit=str(data["unit"]).removesuffix("/s"),
            items_per_step=float(data["items_per_step"]),
            flops_per_step=float(data["flops_per_step"]),
            processes=tuple(ProcessResult.from_dict(p) for p in data["per_process"]),
            configured=dict(data["configured"]),
            observed_pools=dict(data["observed_pools"]),
            provenance=dict(data["provenance"]),
        )


@dataclass(frozen=True)
class Failure:
    """A workload whose child failed under one set of settings: what a sweep records.

    Attributes
    ----------
    workload : WorkloadSpec
        What ran.
    settings : ThreadSettings
        The settings it ran under.
    processes : int
        Children started together.
    reason : str
        ``"signal"``, ``"exit"``, ``"timeout"`` or ``"error"`` (see
        :class:`tfthreads.process.WorkerError`).
    error : str
        The one-line description of the failure.
    """

    workload: WorkloadSpec
    settings: ThreadSettings
    processes: int
    reason: str
    error: str

    @classmethod
    def of_error(
        cls, workload: WorkloadSpec, settings: ThreadSettings, processes: int, error: WorkerError
    ) -> Failure:
        """Record a child's :class:`~tfthreads.process.WorkerError` as a failure.

        The one way a failed measurement becomes a result.
        """
        return cls(workload, settings, processes, error.reason, str(error))

    def row(self) -> dict[str, Any]:
        """Return one flat, JSON-ready table row (``status`` is ``"failed"``)."""
        return {
            "workload": self.workload.name,
            "intra_op": self.settings.intra_op,
            "inter_op": self.settings.inter_op,
            "processes": self.processes,
            "status": "failed",
            "reason": self.reason,
            "error": self.error,
        }

    def as_dict(self) -> dict[str, Any]:
        """Return the row and the workload's spec, JSON-ready; :meth:`from_dict` reads it."""
        return {**self.row(), "spec": self.workload.as_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Failure:
        """Rebuild a failure from :meth:`as_dict` output (``KeyError`` if incomplete)."""
        return cls(
            workload=WorkloadSpec.from_dict(data["spec"]),
            settings=ThreadSettings(intra_op=data["intra_op"], inter_op=data["inter_op"]),
            processes=int(data["processes"]),
            reason=str(data["reason"]),
            error=str(data["error"]),
        )


#: One result of a sweep or a tune, measured or failed.
Result = Measurement | Failure


def score(measurement: Measurement, goal: str) -> float:
    """Return one number per measurement, higher is better, the goal's quantity.

    ``"latency"``: steps per second of the median step (the inverse of the median time);
    ``"throughput"``: items per second, all processes together. Every comparison in
    tfthreads is a ratio of scores, so it reads the same for both goals: how many times
    better, above 1 better.
    """
    if goal == "latency":
        return 1.0 / measurement.wall.median
    return measurement.throughput


def result_from_dict(data: object) -> Result | None:
    """Read one result back from its JSON form; ``None`` if it is not a complete result.

    Lines written by an older tfthreads, or cut short, give ``None``: their settings are
    measured again.

    Examples
    --------
    >>> result_from_dict({"status": "ok"}) is None
    True
    """
    if not isinstance(data, Mapping):
        return None
    try:
        if data.get("status") == "ok":
            return Measurement.from_dict(data)
        if data.get("status") == "failed":
            return Failure.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return None
