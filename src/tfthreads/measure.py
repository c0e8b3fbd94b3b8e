"""Measure workloads under thread settings, one fresh process per setting.

:func:`measure` times one workload; :func:`measure_many` times several under the same
settings in one child, so TensorFlow's start-up is paid once per setting.
With ``MeasureOptions(processes=P)``, P children run at once on the same CPUs, as the worker processes
of a server do, and wait for each other before timing so their loops overlap.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import Any, TypeVar

from tfthreads.errors import SettingError
from tfthreads.inventory import count_pools
from tfthreads.isolation import WorkerError, WorkerResult, one_line, run_workers
from tfthreads.options import MeasureOptions
from tfthreads.provenance import provenance
from tfthreads.results import Measurement, ProcessResult
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["check_workloads", "measure", "measure_many"]

_T = TypeVar("_T")


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
    settings = _of_type("settings", settings, ThreadSettings)
    options = _of_type("options", options, MeasureOptions)
    env = dict(options.env)
    payload: dict[str, Any] = {
        "workloads": [spec.as_dict() for spec in specs],
        "intra_op": settings.intra_op,
        "inter_op": settings.inter_op,
        "repeats": options.repeats,
        "warmup": options.warmup,
    }
    with tempfile.TemporaryDirectory(prefix="tfthreads-barrier-") as barrier:
        if options.processes > 1:
            payload["barrier"] = {
                "dir": barrier,
                "count": options.processes,
                "timeout": options.timeout,
            }
        outcomes = run_workers(
            "measure",
            [payload] * options.processes,
            env=env,
            cpus=options.cpus,
            cgroup=options.cgroup,
            timeout=options.timeout,
        )
    failures = [outcome for outcome in outcomes if isinstance(outcome, WorkerError)]
    if failures:
        raise failures[0]
    results = [outcome for outcome in outcomes if isinstance(outcome, WorkerResult)]
    return _assemble(specs, settings, env, [r.result for r in results])


def check_workloads(
    workloads: Sequence[WorkloadSpec], options: MeasureOptions | None = None
) -> None:
    """Build and run each workload once in one child, before a grid spends its time.

    Only user workloads (``module:function`` and Keras models) are checked: the
    built-ins are known to run.

    Raises
    ------
    SettingError
        Naming the workload and what went wrong when user code cannot be imported or
        called, or a model cannot take its input shape: the user's input is wrong.
    WorkerError
        When the check itself cannot run (TensorFlow crashed, a timeout).
    """
    options = _of_type("options", options, MeasureOptions)
    users = [spec for spec in workloads if spec.kind != "builtin"]
    if not users:
        return
    outcome = run_workers(
        "check_workloads",
        [{"workloads": [spec.as_dict() for spec in users]}],
        env=dict(options.env),
        cpus=options.cpus,
        cgroup=options.cgroup,
        timeout=options.timeout,
    )[0]
    if isinstance(outcome, WorkerError):
        raise outcome
    problems = outcome.result["problems"]
    if problems:
        name, problem = next(iter(problems.items()))
        raise SettingError(f"workload {name!r} cannot run: {one_line(problem)}")


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
                processes=tuple(ProcessResult.from_dict(w) for w in per_child),
                configured={k: int(v) for k, v in first["configured"].items()},
                observed_pools=pools,
                provenance=record,
            )
        )
    return measurements


def _of_type(name: str, value: _T | None, kind: type[_T]) -> _T:
    """Return ``value``, or ``kind()`` for ``None``; ``TypeError`` for anything else."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise TypeError(
            f"{name}: got {value!r} ({type(value).__name__}); "
            f"expected a tfthreads {kind.__name__} or None"
        )
    return value


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
