"""``tfthreads doctor``: what TensorFlow will do with threads on this machine, and why.

The report puts side by side the configured pool sizes, what they resolve to by
TensorFlow's precedence (config, then ``TF_NUM_*`` variable, then the affinity mask) and
what a fresh TensorFlow process really created, with the machine's CPU budget and plain
warnings. It is the counterpart of PyTorch's ``torch.__config__.parallel_info()``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import platform
from collections.abc import Callable, Mapping
from typing import Any

from tfthreads._text import one_line
from tfthreads._version import __version__
from tfthreads.catalog import Kind, by_kind
from tfthreads.errors import TensorFlowUnavailableError
from tfthreads.probe import PoolObservation, observe_pools
from tfthreads.process import WorkerError
from tfthreads.provenance import installed_tensorflow_version, onednn_cpu_flags
from tfthreads.recommend import MIN_INTER_OP, recommend
from tfthreads.settings import (
    MAX_THREADS,
    ResolvedPools,
    ThreadSettings,
    read_pool_variable,
    resolve_pools,
)
from tfthreads.topology import Topology, topology

__all__ = ["REPORT_KEYS", "SCHEMA_VERSION", "doctor_report", "format_report"]

#: Version of the JSON object :func:`doctor_report` returns; bumped on incompatible change.
SCHEMA_VERSION = 1

#: Keys of the report that stay stable within a schema version.
REPORT_KEYS = (
    "schema",
    "tfthreads_version",
    "python_version",
    "tensorflow_version",
    "tensorflow_build",
    "logical_cpus",
    "affinity",
    "cgroup_quota_cpus",
    "cpu_budget",
    "topology",
    "environment",
    "configured",
    "resolved_intra_op_threads",
    "resolved_inter_op_threads",
    "resolved_sources",
    "observed_threads",
    "probe",
    "warnings",
)


def _installed_tensorflow() -> str:
    """Return the installed TensorFlow version without importing it."""
    if importlib.util.find_spec("tensorflow") is None:
        raise TensorFlowUnavailableError(
            "TensorFlow is not installed in this Python environment; tfthreads does not "
            "install one itself: python -m pip install 'tfthreads[tensorflow]' (or "
            "'tfthreads[tensorflow-cpu]', or any TensorFlow 2.21+ distribution)"
        )
    return installed_tensorflow_version() or "unknown"


def _environment(environ: Mapping[str, str]) -> list[dict[str, Any]]:
    rows = []
    for setting in by_kind(Kind.ENV_VAR):
        value = environ.get(setting.field)
        rows.append(
            {
                "name": setting.field,
                "value": value,
                "status": "set" if value is not None else "not set",
                "effective_in_stock_wheel": setting.effective_in_stock_wheel,
                "summary": setting.summary,
            }
        )
    return rows


def _warnings(
    topo: Topology,
    resolved: ResolvedPools,
    environ: Mapping[str, str],
    observation: PoolObservation | None,
) -> list[str]:
    found = []
    budget = topo.cpu_budget
    whole = max(1, math.floor(budget))
    quota_limits = topo.quota_cpus is not None and topo.quota_cpus < topo.affinity_cpus
    limit = "its cgroup CPU quota" if quota_limits else "its CPU affinity mask"
    # The sizes to suggest are recommend's, so that the doctor and the rule never disagree.
    advice = recommend("latency", topology=topo).settings
    advised = (
        f"`tfthreads recommend` gives intra_op={advice.intra_op}, inter_op={advice.inter_op} "
        "for one process here (--goal and --processes change it)"
    )
    # The rule counts the intra-op threads against the budget; the inter-op threads only
    # compute while independent ops run at once, so only a pool larger than both the whole
    # CPUs and the rule's minimum is worth a warning.
    if resolved.intra_op > whole:
        found.append(
            f"the intra-op pool will have {resolved.intra_op} threads but this process may "
            f"use only {budget:g} CPUs' worth of time ({limit}); {advised}"
        )
    if resolved.inter_op > max(whole, MIN_INTER_OP):
        found.append(
            f"the inter-op pool will have {resolved.inter_op} threads but this process may "
            f"use only {budget:g} CPUs' worth of time ({limit}), and independent ops can "
            f"keep about intra-op + inter-op threads busy at once; {advised}"
        )
    if resolved.inter_op < MIN_INTER_OP:
        found.append(
            f"the inter-op pool will have {resolved.inter_op} thread: a tf.py_function whose "
            "body calls a tf.function hangs with it (the site's page on the inter-op "
            f"deadlock reproduces it); {advised}"
        )
    for setting in by_kind(Kind.ENV_VAR):
        if setting.field in environ and not setting.effective_in_stock_wheel:
            found.append(
                f"{setting.field} is set but does not change the thread pools of the stock "
                f"TensorFlow wheel: {setting.summary}"
            )
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        problem = read_pool_variable(name, environ).problem
        if problem:
            found.append(problem)
    if topo.affinity_cpus < topo.logical_cpus:
        found.append(
            f"this process may run on {topo.affinity_cpus} of {topo.logical_cpus} CPUs "
            "(affinity mask); TensorFlow sizes its default pools from the mask"
        )
    if observation is not None:
        for pool, expected, seen in (
            ("intra-op", resolved.intra_op, observation.observed_intra_op),
            ("inter-op", resolved.inter_op, observation.observed_inter_op),
        ):
            if seen is None:
                continue  # not decided: said once, under the table (pools_undecided)
            if expected != seen:
                found.append(
                    f"expected {expected} {pool} threads but a fresh TensorFlow process "
                    f"created {seen}; the thread counts may come from elsewhere"
                )
    return found


#: How the doctor says the way the pools were told apart (:mod:`tfthreads.pool_identity`).
_TOLD_APART = {
    "names": "thread names (TensorFlow names its inter-op threads tf_Compute)",
    "behaviour": (
        "what the threads run (this TensorFlow names no thread): a matmul's threads "
        "are intra-op, small independent ops' inter-op"
    ),
}


def _seen(count: int | None) -> str:
    return "not decided" if count is None else str(count)


def doctor_report(
    settings: ThreadSettings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    probe: bool = True,
    timeout: float = 120.0,
    on_probe: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build the doctor's report as a JSON-ready dictionary.

    When the probe fails, times out or is not worth starting, the report still has
    everything else, and ``probe`` says why the observed column is missing.

    Parameters
    ----------
    settings : ThreadSettings, optional
        Pool sizes you intend to configure with ``tf.config.threading``; all 0 by default.
    environ : mapping, optional
        The environment to judge; ``os.environ`` by default. The probe runs with it.
    probe : bool
        Start a fresh TensorFlow process to observe the pools (a few seconds).
    timeout : float
        Seconds the probe may take.
    on_probe : callable, optional
        Called with a line of progress when the probe starts (the CLI shows it).

    Returns
    -------
    dict
        The keys of :data:`REPORT_KEYS`.

    Raises
    ------
    TensorFlowUnavailableError
        When TensorFlow is not installed or cannot be imported in the probe.
    """
    settings = settings or ThreadSettings()
    environ = dict(os.environ if environ is None else environ)
    tensorflow_version = _installed_tensorflow()
    topo = topology()
    resolved = resolve_pools(settings, affinity_cpus=topo.affinity_cpus, environ=environ)
    observation = None
    probe_status: dict[str, Any] = {"status": "not run", "reason": "--no-probe"}
    build: dict[str, Any] = {"is_cuda_build": None, "onednn_enabled": None}
    too_many = max(resolved.intra_op, resolved.inter_op) > MAX_THREADS
    if probe and too_many:
        probe_status = {
            "status": "skipped",
            "reason": f"the pools would have {resolved.intra_op} and {resolved.inter_op} "
            f"threads (more than {MAX_THREADS}); a process starting them can take minutes",
        }
    elif probe:
        child_env: dict[str, str | None] = dict.fromkeys(os.environ)
        child_env.update(environ)
        if on_probe is not None:
            on_probe(
                f"starting TensorFlow in a fresh process to observe its pools (up to {timeout:g} s)"
            )
        try:
            observation = observe_pools(settings, env=child_env, timeout=timeout)
        except WorkerError as error:
            if "ImportError" in str(error) or "ModuleNotFoundError" in str(error):
                raise TensorFlowUnavailableError(
                    f"TensorFlow cannot be imported: {error}"
                ) from None
            probe_status = {"status": "failed", "reason": one_line(str(error))}
        else:
            probe_status = {"status": "ok", "reason": None}
            tensorflow_version = observation.tensorflow_version
            build = {
                "is_cuda_build": observation.is_cuda_build,
                "onednn_enabled": observation.onednn_enabled,
            }
    onednn = environ.get("TF_ENABLE_ONEDNN_OPTS")
    build["onednn_reason"] = (
        f"TF_ENABLE_ONEDNN_OPTS={onednn} is set"
        if onednn is not None
        else "TF_ENABLE_ONEDNN_OPTS is not set, so TensorFlow decides from the CPU; "
        f"oneDNN-related CPU features here: {', '.join(onednn_cpu_flags()) or 'none'}"
    )
    return {
        "schema": SCHEMA_VERSION,
        "tfthreads_version": __version__,
        "python_version": platform.python_version(),
        "tensorflow_version": tensorflow_version,
        "tensorflow_build": build,
        "logical_cpus": topo.logical_cpus,
        "affinity": list(topo.affinity),
        "cgroup_quota_cpus": topo.quota_cpus,
        "cpu_budget": topo.cpu_budget,
        "topology": topo.as_dict(),
        "environment": _environment(environ),
        "configured": {"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        "resolved_intra_op_threads": resolved.intra_op,
        "resolved_inter_op_threads": resolved.inter_op,
        "resolved_sources": {"intra_op": resolved.intra_source, "inter_op": resolved.inter_source},
        "observed_threads": None
        if observation is None
        else {
            "intra_op": observation.observed_intra_op,
            "inter_op": observation.observed_inter_op,
            "told_apart_by": observation.pools_method,
            "undecided": observation.pools_undecided,
            "new_threads": observation.new_threads,
            "total": observation.total_threads,
        },
        "probe": probe_status,
        "warnings": _warnings(topo, resolved, environ, observation)
        + (
            [f"the probe {probe_status['status']}: {probe_status['reason']}"]
            if probe_status["status"] in {"failed", "skipped"}
            else []
        ),
    }


def format_report(report: Mapping[str, Any]) -> str:
    """Render a doctor report as text for a terminal."""
    build = report["tensorflow_build"]

    def yes_no(value: object) -> str:
        return "unknown" if value is None else ("on" if value else "off")

    quota = report["cgroup_quota_cpus"]
    observed = report["observed_threads"]
    sources = report["resolved_sources"]
    lines = [
        f"tfthreads {report['tfthreads_version']} (Python {report['python_version']})",
        (
            f"TensorFlow {report['tensorflow_version']}: "
            f"{_build_kind(build['is_cuda_build'])}, "
            f"oneDNN {yes_no(build['onednn_enabled'])} ({build['onednn_reason']})"
        ),
        "",
        "CPUs",
        f"  logical CPUs        {report['logical_cpus']}",
        (
            f"  affinity mask       {_cpu_list(report['affinity'])} "
            f"({len(report['affinity'])} CPU{'' if len(report['affinity']) == 1 else 's'})"
        ),
        f"  cgroup CPU quota    {'none' if quota is None else f'{quota:g} CPUs'}",
        f"  CPU budget          {report['cpu_budget']:g}",
        "",
        "Thread pools            configured  resolved (from)        observed",
    ]
    missing = "-" if report["probe"]["status"] == "not run" else "missing"
    for pool, key in (("intra-op", "intra_op"), ("inter-op", "inter_op")):
        seen = missing if observed is None else _seen(observed[key])
        resolved = report[f"resolved_{key}_threads"]
        lines.append(
            f"  {pool:<22}{report['configured'][key]:>10}  {resolved:>8} "
            f"{'(' + sources[key] + ')':<14}{seen:>8}"
        )
    if observed is None and report["probe"]["status"] != "not run":
        lines.append(f"  observed: {report['probe']['status']}: {report['probe']['reason']}")
    if observed is not None:
        new = ", ".join(f"{name} x{count}" for name, count in observed["new_threads"].items())
        started = sum(observed["new_threads"].values())
        lines.append(
            f"  threads started by the runtime: {new} ({started} threads; the process had "
            f"{observed['total']} in all)"
        )
        lines.append(
            f"  pools told apart by: {_TOLD_APART[observed.get('told_apart_by', 'names')]}"
        )
        if observed.get("undecided"):
            lines.append(f"  observed: {observed['undecided']}")
    lines += ["", "Environment variables"]
    for row in report["environment"]:
        value = "not set" if row["value"] is None else f"= {row['value']}"
        ignored = "" if row["effective_in_stock_wheel"] else "  (no effect on stock wheel pools)"
        lines.append(f"  {row['name']:<30}{value}{ignored}")
    lines += ["", "Warnings" if report["warnings"] else "No warnings."]
    lines += [f"  - {warning}" for warning in report["warnings"]]
    return "\n".join(lines)


def _build_kind(is_cuda_build: object) -> str:
    if is_cuda_build is None:
        return "build kind unknown"
    return "CUDA build" if is_cuda_build else "CPU-only build"


def _cpu_list(cpus: list[int]) -> str:
    """Write CPU ids compactly, as ``taskset`` does.

    Examples
    --------
    >>> _cpu_list([0, 1, 2, 3, 8])
    '0-3,8'
    """
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and runs[-1][-1] == cpu - 1:
            runs[-1].append(cpu)
        else:
            runs.append([cpu])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
