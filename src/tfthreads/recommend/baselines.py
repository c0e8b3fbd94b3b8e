"""What a recommendation is compared with: TensorFlow's defaults and Intel's rule."""

from __future__ import annotations

from tfthreads.recommend._words import cpus, many, num, procs
from tfthreads.recommend.rules import MIN_INTER_OP
from tfthreads.settings import MAX_THREADS, ThreadSettings
from tfthreads.topology import Topology

_NO_INTEL = (
    "Intel's rule (intra_op = physical cores per socket, inter_op = sockets) cannot be "
    "applied: the physical cores or sockets are unknown here."
)


def intel_settings(topo: Topology) -> ThreadSettings | None:
    """Return Intel's rule (physical cores per socket, sockets); ``None`` if those are unknown."""
    cores, sockets = topo.physical_cores, topo.sockets
    if not cores or not sockets:
        return None
    return ThreadSettings(min(MAX_THREADS, max(1, cores // sockets)), min(MAX_THREADS, sockets))


def compare(
    topo: Topology,
    processes: int,
    chosen: ThreadSettings,
    default: ThreadSettings,
    intel: ThreadSettings | None,
) -> tuple[str, ...]:
    """Say how ``chosen`` differs from TensorFlow's defaults and from Intel's rule."""
    mask, budget = topo.affinity_cpus, topo.cpu_budget
    total = mask * processes
    if total <= budget:
        fit = "which fits the budget"
    else:
        ratio = "unboundedly over" if budget <= 0 else f"{num(total / budget)}x"
        throttle = " and the quota throttles them" if topo.quota_cpus == budget else ""
        fit = f"{ratio} the budget, so threads queue for CPU time{throttle}"
    if chosen.intra_op == 0 and chosen.inter_op == 0:
        starts = "this recommendation keeps them."
    else:
        starts = (
            f"this recommendation starts {chosen.intra_op * processes} intra-op and "
            f"{chosen.inter_op * processes} inter-op threads in total."
        )
    text = (
        f"TensorFlow's defaults (0/0) give each process intra_op={default.intra_op} and "
        f"inter_op={default.inter_op}, the affinity count, ignoring the quota and other "
        f"processes: {many(default.intra_op * processes, 'intra-op thread')} (plus "
        f"{default.inter_op * processes} inter-op) across {procs(processes)} for a budget "
        f"of {cpus(budget)}, {fit}; {starts}"
    )
    if intel is None:
        return (text, _NO_INTEL)
    intra = default.intra_op if chosen.intra_op == 0 else chosen.intra_op
    cores = many(topo.physical_cores or 0, "physical core")
    rule = (
        f"Intel's rule gives intra_op={intel.intra_op}, inter_op={intel.inter_op} ({cores} "
        f"on {many(intel.inter_op, 'socket')}); it assumes one process owning the whole "
        "machine and ignores cgroup quotas and affinity masks"
    )
    if intel.intra_op > intra:
        rule += (
            f", so here it would start {intel.intra_op * processes} intra-op threads for a "
            f"budget of {cpus(budget)}."
        )
    elif intel.intra_op == intra:
        rule += ", and here it agrees on intra_op."
    else:
        rule += (
            f"; here it uses fewer intra-op threads than the {intra} recommended and relies "
            f"on {intel.inter_op} concurrent ops to use the rest."
        )
    if intel.inter_op < MIN_INTER_OP:
        rule += (
            f" Its inter_op={intel.inter_op} is the size that hangs a tf.py_function calling "
            f"a tf.function; this rule gives {MIN_INTER_OP} or more."
        )
    return (text, rule)
