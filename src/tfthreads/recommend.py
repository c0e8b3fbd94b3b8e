"""Recommend thread pool sizes from the CPU budget, with every rule explained.

The rules are deliberately simple, so that each number can be explained in one sentence:

1. **Budget.** ``B = topology.cpu_budget``, the smaller of the affinity mask and the
   cgroup CPU quota (TensorFlow itself looks only at the mask). Each of ``processes``
   processes gets ``b = B / processes`` and ``c = max(1, floor(b))`` whole CPUs; a
   fractional remainder (a 1.5-CPU quota gives ``c = 1``) is headroom for the inter-op
   and ``tf.data`` threads.
2. **Never oversubscribe.** ``intra_op * processes <= floor(B)``. When there are more
   processes than whole CPUs, the processes alone oversubscribe the budget, and each gets
   the minimum ``intra_op=1, inter_op=1``.
3. **Latency** (one request at a time, small batches): ``intra_op = c`` to split each op
   across the CPUs; ``inter_op = 1`` if ``c <= 2`` else ``2``, since a single request has
   little op-level concurrency. With SMT, ``intra_op`` is capped at this process's share of
   the physical cores (the cores scaled by the affinity share and divided by
   ``processes``), because two hardware threads of one core share its execution units.
4. **Throughput** (large batches, many concurrent requests): ``intra_op = c``;
   ``inter_op = 2`` when ``c >= 2`` to keep two ops in flight, else ``1``. Several
   processes with fewer threads each often beat one process: see ``processes``.

The inter-op threads are not counted against the budget: they mostly dispatch ops and
wait while the intra-op threads compute.

Every :class:`Recommendation` also says how it differs from TensorFlow's defaults (both
pools = the affinity count, per process) and from Intel's published rule (intra-op =
physical cores per socket, inter-op = sockets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tfthreads._checks import Choice
from tfthreads.options import PROCESSES
from tfthreads.settings import MAX_THREADS, ThreadSettings
from tfthreads.topology import Topology
from tfthreads.topology import topology as read_topology

__all__ = ["GOAL", "GOALS", "Recommendation", "recommend"]

#: The goals :func:`recommend`, :func:`~tfthreads.tune.tune` and sweeps understand.
GOALS = ("latency", "throughput")
GOAL = Choice(GOALS)
_NO_INTEL = (
    "Intel's rule (intra_op = physical cores per socket, inter_op = sockets) cannot be "
    "applied: the physical cores or sockets are unknown here."
)


def _num(value: float) -> str:
    """Format a CPU count: ``2``, ``1.5``, ``0.33``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _many(value: float, noun: str, plural: str = "s") -> str:
    return f"{_num(value)} {noun}" + ("" if value == 1 else plural)


def _procs(count: int) -> str:
    return _many(count, "process", "es")


def _cpus(value: float) -> str:
    return _many(value, "CPU")


def _pools(settings: ThreadSettings) -> dict[str, int]:
    return {
        "intra_op_parallelism_threads": settings.intra_op,
        "inter_op_parallelism_threads": settings.inter_op,
    }


@dataclass(frozen=True)
class Recommendation:
    """Thread settings for one process, with the rules behind them.

    Attributes
    ----------
    settings : ThreadSettings
        The recommended pool sizes, for each process.
    goal : str
        ``"latency"`` or ``"throughput"``.
    processes : int
        Processes sharing the CPU budget.
    cpu_budget : float
        The budget of the whole group of processes (:attr:`tfthreads.topology.Topology.cpu_budget`).
    per_process_budget : float
        ``cpu_budget / processes``.
    reasons : tuple of str
        Each rule applied and why, with the numbers.
    tensorflow_default : ThreadSettings
        What ``0``/``0`` gives here: both pools sized to the affinity count.
    intel_rule : ThreadSettings or None
        Intel's rule (physical cores per socket / sockets); ``None`` if those are unknown.
    comparison : tuple of str
        How the recommendation differs from ``tensorflow_default`` and ``intel_rule``.
    """

    settings: ThreadSettings
    goal: str
    processes: int
    cpu_budget: float
    per_process_budget: float
    reasons: tuple[str, ...]
    tensorflow_default: ThreadSettings
    intel_rule: ThreadSettings | None
    comparison: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """Return the recommendation as JSON-ready data (lists, not tuples)."""
        return {
            **_pools(self.settings),
            "goal": self.goal,
            "processes": self.processes,
            "cpu_budget": self.cpu_budget,
            "per_process_budget": self.per_process_budget,
            "reasons": list(self.reasons),
            "comparison": list(self.comparison),
            "tensorflow_default": _pools(self.tensorflow_default),
            "intel_rule": None if self.intel_rule is None else _pools(self.intel_rule),
        }

    def describe(self) -> str:
        """Summarize the recommendation in a few lines for a terminal."""
        each = "" if self.processes == 1 else " each"
        head = f"Recommended for {self.goal}, {_procs(self.processes)}:"
        lines = [
            f"{head} {self.settings.describe()}{each}",
            f"CPU budget: {_cpus(self.cpu_budget)}, {_num(self.per_process_budget)} per process",
            "Why:",
            *(f"  - {reason}" for reason in self.reasons),
            "Compared with:",
            *(f"  - {line}" for line in self.comparison),
        ]
        return "\n".join(lines)


def _check(goal: object, processes: object, topology: object) -> None:
    GOAL.check("goal", goal)
    PROCESSES.check("processes", processes)
    if topology is not None and not isinstance(topology, Topology):
        raise TypeError(
            f"topology: got {topology!r} ({type(topology).__name__}); "
            "expected a tfthreads.topology.Topology or None"
        )


def _budget_reason(topo: Topology) -> str:
    mask, quota = topo.affinity_cpus, topo.quota_cpus
    budget = _cpus(topo.cpu_budget)
    if quota is not None and quota < mask:
        return (
            f"The cgroup quota allows {_cpus(quota)}' worth of time although {mask} CPUs are "
            f"in the affinity mask, so the CPU budget is {budget} (TensorFlow sizes its "
            "pools from the mask and ignores the quota)."
        )
    if quota is not None:
        found = f"The cgroup quota ({_cpus(quota)}) is no tighter than the mask"
    else:
        found = "No cgroup CPU quota " + ("could be read" if topo.quota is None else "applies")
    return f"{found}, so the CPU budget is the {budget} of the affinity mask."


def _intel_rule(topo: Topology) -> ThreadSettings | None:
    cores, sockets = topo.physical_cores, topo.sockets
    if not cores or not sockets:
        return None
    return ThreadSettings(min(MAX_THREADS, max(1, cores // sockets)), min(MAX_THREADS, sockets))


def _compare(
    topo: Topology, processes: int, chosen: ThreadSettings, intel: ThreadSettings | None
) -> tuple[str, ...]:
    mask, budget = topo.affinity_cpus, topo.cpu_budget
    total = mask * processes
    if total <= budget:
        fit = "which fits the budget"
    else:
        ratio = "unboundedly over" if budget <= 0 else f"{_num(total / budget)}x"
        throttle = " and the quota throttles them" if topo.quota_cpus == budget else ""
        fit = f"{ratio} the budget, so threads queue for CPU time{throttle}"
    default = (
        f"TensorFlow's defaults (0/0) give each process intra_op={mask} and inter_op={mask}, "
        f"the affinity count, ignoring the quota and other processes: {total} intra-op "
        f"threads (plus {total} inter-op) across {_procs(processes)} for a budget of "
        f"{_cpus(budget)}, {fit}; this recommendation starts {chosen.intra_op * processes} "
        f"intra-op and {chosen.inter_op * processes} inter-op threads in total."
    )
    if intel is None:
        return (default, _NO_INTEL)
    cores = _many(topo.physical_cores or 0, "physical core")
    rule = (
        f"Intel's rule gives intra_op={intel.intra_op}, inter_op={intel.inter_op} ({cores} "
        f"on {_many(intel.inter_op, 'socket')}); it assumes one process owning the whole "
        "machine and ignores cgroup quotas and affinity masks"
    )
    if intel.intra_op > chosen.intra_op:
        rule += (
            f", so here it would start {intel.intra_op * processes} intra-op threads for a "
            f"budget of {_cpus(budget)}."
        )
    elif intel.intra_op == chosen.intra_op:
        rule += ", and here it agrees on intra_op."
    else:
        rule += (
            f"; here it uses fewer intra-op threads than the {chosen.intra_op} the budget "
            f"allows and relies on {intel.inter_op} concurrent ops to use the rest."
        )
    return (default, rule)


def recommend(
    goal: str = "latency", *, processes: int = 1, topology: Topology | None = None
) -> Recommendation:
    """Recommend intra-op and inter-op pool sizes for the CPU budget, explaining each rule.

    Parameters
    ----------
    goal : {"latency", "throughput"}, default "latency"
        ``"latency"`` for one request at a time with small batches, ``"throughput"`` for
        large batches or many concurrent requests.
    processes : int, default 1
        TensorFlow processes sharing the CPU budget (1 to
        :data:`~tfthreads.options.MAX_PROCESSES`); the settings are per process.
    topology : Topology, optional
        The CPUs and budget to plan for; :func:`tfthreads.topology.topology` by default.

    Returns
    -------
    Recommendation
        The settings, the reasons, and how they compare with TensorFlow's defaults and
        Intel's rule. The rules are listed in the module documentation.

    Raises
    ------
    SettingError
        ``goal`` is not a known goal, or ``processes`` is out of range.
    TypeError
        ``processes`` is not an int, ``goal`` not a str, or ``topology`` not a Topology.

    Examples
    --------
    >>> from tfthreads.topology import CgroupQuota, Topology
    >>> topo = Topology(logical_cpus=64, affinity=tuple(range(64)), physical_cores=32,
    ...                 sockets=2, numa_nodes=2, smt=True, cpuset=None,
    ...                 quota=CgroupQuota(2, "/sys/fs/cgroup", 200_000, 100_000))
    >>> rec = recommend("latency", topology=topo)
    >>> rec.settings.describe()
    'intra_op=2, inter_op=1'
    >>> recommend("fast", topology=topo)
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: goal: got 'fast'; expected 'latency' or 'throughput'
    """
    _check(goal, processes, topology)
    topo = read_topology() if topology is None else topology
    budget = topo.cpu_budget
    per_process = budget / processes
    whole = math.floor(budget)
    reasons = [_budget_reason(topo)]
    if processes > 1:
        reasons.append(f"{processes} processes share it: {_cpus(per_process)} per process.")
    if processes > whole:
        reasons.append(
            f"The budget of {_cpus(budget)} is less than one whole CPU, so the process gets "
            "the minimum, intra_op=1 and inter_op=1; expect it to be throttled."
            if processes == 1
            else f"{processes} processes alone oversubscribe the budget of {_cpus(budget)} "
            "(more processes than whole CPUs), so each gets the minimum, intra_op=1 and "
            f"inter_op=1; run at most {_procs(max(1, whole))} to stop them competing."
        )
        chosen = ThreadSettings(1, 1)
    else:
        chosen = _rules(goal, topo, processes, per_process, reasons)
        reasons.append(
            f"In total {chosen.intra_op} x {processes} = "
            f"{_many(chosen.intra_op * processes, 'intra-op thread')} for "
            f"{_many(whole, 'whole CPU')}: no oversubscription."
        )
    default = min(MAX_THREADS, topo.tensorflow_default_threads)
    intel = _intel_rule(topo)
    return Recommendation(
        settings=chosen,
        goal=goal,
        processes=processes,
        cpu_budget=budget,
        per_process_budget=per_process,
        reasons=tuple(reasons),
        tensorflow_default=ThreadSettings(default, default),
        intel_rule=intel,
        comparison=_compare(topo, processes, chosen, intel),
    )


def _rules(
    goal: str, topo: Topology, processes: int, per_process: float, reasons: list[str]
) -> ThreadSettings:
    """Apply the goal's rules for ``processes <= floor(budget)``, appending the reasons."""
    whole = min(MAX_THREADS, max(1, math.floor(per_process)))
    if whole < per_process < whole + 1:  # a fractional share, not the MAX_THREADS cap
        reasons.append(
            f"{_cpus(per_process)} per process rounds down to {_cpus(whole)}; the remaining "
            f"{_cpus(per_process - whole)} is headroom for the inter-op and tf.data threads."
        )
    if goal == "throughput":
        reasons.append(
            f"Throughput goal: large batches keep every thread busy, so intra_op uses all "
            f"{_cpus(whole)} of the process."
        )
        inter = 2 if whole >= 2 else 1
        reasons.append(
            "inter_op=2 keeps two ops in flight, so the intra-op pool does not idle between ops."
            if inter == 2
            else "inter_op=1: with one CPU, a second op in flight would only compete for it."
        )
        reasons.append(
            "For many concurrent requests, several processes with fewer threads each often "
            "beat one process with all of them; pass processes=N to split the budget."
            if processes == 1
            else f"Splitting the budget across {processes} processes of {_cpus(whole)} each "
            "often beats one process with all the threads when requests arrive concurrently."
        )
        return ThreadSettings(whole, inter)
    intra = whole
    reasons.append(
        f"Latency goal: one request at a time gains most from splitting each op, so intra_op "
        f"uses the {_cpus(whole)} of the process."
    )
    cores = topo.physical_cores
    if topo.smt and cores and cores < topo.logical_cpus:
        # Assumes the mask holds whole cores in proportion: a share, not an exact count.
        share = cores * min(1.0, topo.affinity_cpus / topo.logical_cpus) / processes
        cap = max(1, math.floor(share))
        if cap < intra:
            intra = cap
            reasons.append(
                f"SMT: the {topo.logical_cpus} logical CPUs are {cores} physical cores, and this "
                f"process's share is about {_num(share)} cores; two hardware threads of a core "
                f"share its execution units, so intra_op is capped at {cap}."
            )
    inter = 1 if whole <= 2 else 2
    reasons.append(
        f"inter_op={inter}: a single request has little op-level concurrency, and with "
        + (
            f"{_cpus(whole)} a second op in flight would take CPUs from the first."
            if inter == 1
            else "more CPUs a second thread lets a small op run while a large one fills the "
            "intra-op pool."
        )
    )
    return ThreadSettings(intra, inter)
