"""The rules of :mod:`tfthreads.recommend`, one function a case: settings, reasons, evidence.

Each rule appends its reasons, with the numbers and the evidence they rest on, and
returns a :class:`Verdict`; :func:`tfthreads.recommend.recommend` picks the rule that
applies. The rules are stated, with their evidence, in :mod:`tfthreads.recommend`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tfthreads.recommend._words import (
    CONTAINERS,
    DEADLOCK,
    ENGINE,
    ENGINE_WORDS,
    MANY_CORE,
    WORKERS,
    cpus,
    many,
    num,
    procs,
    seen,
    unique,
)
from tfthreads.settings import MAX_THREADS, ThreadSettings
from tfthreads.topology import Topology

# The fewest inter-op threads recommend() gives; documented where tfthreads.recommend
# re-exports it as MIN_INTER_OP.
MIN_INTER_OP = 2


@dataclass
class Verdict:
    """What a rule decided: the settings, how sure it is, and the pages it cites."""

    settings: ThreadSettings
    confidence: str
    why: str
    evidence: tuple[str, ...] = ()


def budget_reason(topo: Topology) -> str:
    """Say what the CPU budget is: the affinity mask, or a cgroup quota below it."""
    mask, quota = topo.affinity_cpus, topo.quota_cpus
    budget = cpus(topo.cpu_budget)
    if quota is not None and quota < mask:
        return (
            f"The cgroup quota allows {cpus(quota)}' worth of time although {mask} CPUs are "
            f"in the affinity mask, so the CPU budget is {budget} (TensorFlow sizes its "
            "pools from the mask and ignores the quota)."
        )
    if quota is not None:
        found = f"The cgroup quota ({cpus(quota)}) is no tighter than the mask"
    else:
        found = "No cgroup CPU quota " + ("could be read" if topo.quota is None else "applies")
    return f"{found}, so the CPU budget is the {budget} of the affinity mask."


def thread_totals(chosen: ThreadSettings, processes: int, whole: int) -> str:
    """Say the thread totals, and what the rule counts against the budget."""
    intra, inter = chosen.intra_op * processes, chosen.inter_op * processes
    each = "" if processes == 1 else f" ({chosen.inter_op} per process)"
    fits = (
        "within the budget"
        if intra <= whole
        else f"more than the {many(max(1, whole), 'whole CPU')}: run fewer processes"
    )
    return (
        f"Threads in total: {chosen.intra_op} x {processes} = "
        f"{many(intra, 'intra-op thread')} for {many(whole, 'whole CPU')}, {fits}; the "
        f"{many(inter, 'inter-op thread')}{each} are not counted against it: they compute "
        "only while independent ops run at once (at most about "
        "intra_op + inter_op threads of a process compute at once), and a thread that waits "
        "spends no CPU time and no quota."
    )


#: The engine grid's screening on 2 CPUs, inter_op 2 against 1 at each intra_op; the
#: branches workload at intra_op 2 (the defaults there).
_GRID_TIES = (
    "On 2 CPUs a second inter-op thread was never slower: inter_op=2 against 1 at the "
    "same intra_op (1 to 4) was faster in 4 of the 24 comparisons of the engine grid's "
    "screening (6 workloads) and tied in the other 20; for the branches workload, 8 "
    "independent chains, inter_op=2 was 1.13 [1.04, 1.29] times as fast at intra_op=2"
)


def _inter_op(inter: int, topo: Topology, quota: bool) -> tuple[str, tuple[str, ...]]:
    """Why inter_op is ``inter``, never 1: the deadlock, and what 2 costs; its evidence."""
    text = (
        f"inter_op={inter}, never 1: with one inter-op thread a tf.py_function whose body "
        "calls a tf.function hangs for ever, because the body holds the only thread its "
        "nested ops could run on, and with two it returns"
        + (
            "; TensorFlow's own default on this one-CPU mask is 1"
            if topo.affinity_cpus == 1
            else ""
        )
        + ". Two such ops running at once need 3, which no rule can see"
        + seen("the inter-op deadlock page, reproduced on every build", DEADLOCK)
        + " "
        + _GRID_TIES
        + seen(ENGINE_WORDS, ENGINE)
    )
    if quota:
        text += (
            " Under a quota, 2 and no more: each further inter-op thread lets one more "
            "independent op compute at once and spend the quota. Not measured: the quota "
            "measurements run one op at a time."
        )
    return text, (DEADLOCK, ENGINE)


_QUOTA_TAIL = (
    "busy threads beyond a quota spend it early in each 100 ms period and then all wait "
    "for the next one: under a 1-CPU quota, 1/2 had a p99 step 11.3 [4.4, 15.6] times "
    "shorter than TensorFlow's defaults (2/2 on 2 CPUs), with the same throughput within "
    "the noise, 1.17 [0.99, 1.32]; its median step was slower, 0.82 of the defaults' speed "
    "[0.74, 0.94], because the defaults' two threads run fast until the quota is spent "
    "(6 interleaved rounds)"
)


def too_many(topo: Topology, processes: int, quota: bool, reasons: list[str]) -> Verdict:
    """More processes than whole CPUs in the budget: the minimum for each."""
    budget, whole = topo.cpu_budget, math.floor(topo.cpu_budget)
    reasons.append(
        f"The budget of {cpus(budget)} is less than one whole CPU, so the process gets "
        "the fewest threads, intra_op=1; expect it to be throttled."
        if processes == 1
        else f"{processes} processes alone oversubscribe the budget of {cpus(budget)} "
        "(more processes than whole CPUs), so each gets the fewest threads, intra_op=1; "
        f"run at most {procs(max(1, whole))} to stop them competing."
    )
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota)
    reasons.append(inter)
    if quota:
        reasons.append("Under a CPU quota, " + _QUOTA_TAIL + seen(ENGINE_WORDS, ENGINE, CONTAINERS))
        return Verdict(
            ThreadSettings(1, MIN_INTER_OP),
            "high",
            "threads beyond a CPU quota cost a long tail wherever it was measured.",
            unique(ENGINE, CONTAINERS, *inter_evidence),
        )
    return Verdict(
        ThreadSettings(1, MIN_INTER_OP),
        "low",
        "more processes than CPUs without a quota has not been measured by this project.",
        inter_evidence,
    )


def _share(per_process: float, reasons: list[str]) -> int:
    """Return the whole CPUs of one process's share, explaining a fractional remainder."""
    whole = min(MAX_THREADS, max(1, math.floor(per_process)))
    if whole < per_process < whole + 1:  # a fractional share, not the MAX_THREADS cap
        reasons.append(
            f"{cpus(per_process)} per process rounds down to {cpus(whole)}; the remaining "
            f"{cpus(per_process - whole)} is headroom for the inter-op and tf.data threads."
        )
    return whole


def _smt_cap(topo: Topology, processes: int, intra: int, reasons: list[str]) -> int:
    """Cap intra-op at this process's share of the physical cores on an SMT machine."""
    cores = topo.physical_cores
    if not (topo.smt and cores and cores < topo.logical_cpus):
        return intra
    # Assumes the mask holds whole cores in proportion: a share, not an exact count.
    share = cores * min(1.0, topo.affinity_cpus / topo.logical_cpus) / processes
    cap = max(1, math.floor(share))
    if cap >= intra:
        return intra
    reasons.append(
        f"SMT: the {topo.logical_cpus} logical CPUs are {cores} physical cores, and this "
        f"process's share is about {num(share)} cores; two hardware threads of a core share "
        f"its execution units, so intra_op is capped at {cap}"
        + seen("none yet: this project has not measured an SMT machine")
    )
    return cap


def under_quota(
    goal: str, topo: Topology, processes: int, per_process: float, reasons: list[str]
) -> Verdict:
    """Apply the rule under a quota below the mask: the intra-op threads fit its whole CPUs."""
    whole = _share(per_process, reasons)
    reasons.append(
        "Under a CPU quota, the intra-op threads of all processes fit the whole CPUs of the "
        "budget (intra_op x processes), because "
        + _QUOTA_TAIL
        + seen(ENGINE_WORDS, ENGINE, CONTAINERS)
    )
    intra = whole if goal == "throughput" else _smt_cap(topo, processes, whole, reasons)
    reasons.append(f"{goal.capitalize()} goal: intra_op uses the {cpus(intra)} of the process.")
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota=True)
    reasons.append(inter)
    evidence = unique(ENGINE, CONTAINERS, *inter_evidence)
    if goal == "throughput":
        return Verdict(
            ThreadSettings(intra, MIN_INTER_OP),
            "medium",
            "under a 1-CPU quota throughput was the same within the noise with 1/1 and "
            "with the defaults (one workload, 2 CPUs); what a quota costs is the tail.",
            evidence,
        )
    return Verdict(
        ThreadSettings(intra, MIN_INTER_OP),
        "high",
        "threads beyond a CPU quota cost a long tail wherever it was measured.",
        evidence,
    )


_TWO_ON_TWO = (
    "2 processes on 2 CPUs (a batch-1024 MLP) gave more total throughput with the CPUs "
    "divided: 1/1 each gave 1.09x the defaults' (2/2 each), [1.06, 1.13], and 1/2 each was "
    "tied with 1/1 (95 % intervals from 10 interleaved rounds)"
)


def divide(topo: Topology, per_process: float, reasons: list[str]) -> Verdict:
    """Less than 2 CPUs per process, throughput: divide them; no gap is left for others to fill."""
    whole = _share(per_process, reasons)
    reasons += [
        f"Throughput with several processes, no quota, and less than 2 CPUs per process: "
        f"divide the CPUs, intra_op={whole}. " + _TWO_ON_TWO + seen(ENGINE_WORDS, ENGINE, WORKERS),
        "With 4 CPUs per process it went the other way: 4 processes on 16 CPUs gave the "
        "most throughput with TensorFlow's defaults, whose extra threads fill each "
        "process's serial gaps (Python dispatch, small ops); one CPU per process leaves "
        "little such gap" + seen("the 16-CPU results", MANY_CORE),
    ]
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota=False)
    reasons.append(
        inter + " Here 1/2 each, the setting given, gave the most total throughput, 1.09 "
        "[1.05, 1.14] times the defaults'; 1/1 had 0.998 [0.957, 1.038] of it"
        + seen(ENGINE_WORDS, ENGINE)
    )
    return Verdict(
        ThreadSettings(whole, MIN_INTER_OP),
        "medium",
        "measured on one model (a batch-1024 MLP) with 2 processes on 2 CPUs; a model with "
        "longer serial gaps in each step may favour the defaults.",
        unique(ENGINE, WORKERS, MANY_CORE, *inter_evidence),
    )


def keep_defaults(
    topo: Topology, processes: int, per_process: float, reasons: list[str]
) -> Verdict:
    """2 CPUs or more per process, throughput, no quota: TensorFlow's defaults."""
    size = min(MAX_THREADS, topo.tensorflow_default_threads)
    reasons += [
        "Throughput with several processes, no quota, and 2 CPUs or more per process: keep "
        f"TensorFlow's defaults (leave both pools unset; here {size}/{size} per process). "
        "With 4 processes on 16 CPUs the "
        "defaults gave the most total throughput; dividing the CPUs as 4/2 each was "
        "indistinguishable from them, 0.90 [0.77, 1.06] times their throughput, 4/1 not "
        "decided, 0.83 [0.63, 1.08], and 2/2 and 1/1 were worse, 0.78 [0.66, 0.92] and "
        "0.62 [0.59, 0.66] (95 % intervals from 4 interleaved rounds). With 1 CPU per "
        "process it went the other "
        "way: " + _TWO_ON_TWO + seen(f"the 16-CPU results; {ENGINE_WORDS}", MANY_CORE, ENGINE),
        "Why oversubscribing pays here: each step has serial gaps (Python dispatch, the "
        ".numpy() copy, small ops). One process at the defaults kept only 2.6 CPUs busy "
        "(CPU time / wall time 2.62); 4 at the defaults kept 9.0 of 16 busy, 4 at 4/2 only "
        "7.3: the other processes' threads fill each one's gaps, and without a quota a "
        "thread that waits costs no throttling" + seen("the 16-CPU results", MANY_CORE),
        "Tail latency: the p99 step time was no worse with the defaults (8.25 ms against "
        "8.70 ms at 4/2, no interval); the p99 of small requests arriving at random under "
        "this load is not measured. If it matters, divide the CPUs as for the latency goal "
        "and measure both" + seen("the 16-CPU results", MANY_CORE, WORKERS),
        (
            f"The defaults' inter-op pool has {size} threads per process, 2 or more, as the "
            "rule for the inter-op pool asks."
        ),
    ]
    measured = per_process >= 4
    return Verdict(
        ThreadSettings(),
        "medium" if measured else "low",
        "measured on one model (a batch-256 MLP) with 4 CPUs per process; a model with "
        "fewer serial gaps in each step may favour dividing the CPUs."
        if measured
        else f"{cpus(per_process)} per process lies between the measured cases (1 CPU per "
        "process: dividing won; 4: the defaults won).",
        (MANY_CORE, ENGINE, WORKERS),
    )


def throughput(topo: Topology, per_process: float, reasons: list[str]) -> Verdict:
    """One process, no quota, throughput: every CPU for intra-op, two ops in flight."""
    whole = _share(per_process, reasons)
    reasons.append(
        f"Throughput goal: intra_op uses all {cpus(whole)}. One process on 16 CPUs (a "
        "batch-1024 MLP): every 16-thread setting was within 3 % of the defaults, and 8 "
        "threads or fewer lost 19 % or more (single round)" + seen("the 16-CPU results", MANY_CORE)
    )
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota=False)
    reasons += [
        inter + " On 16 CPUs inter_op 1, 2 or 4 made no difference beyond the noise for this "
        "workload (0.979, 0.981, 0.970 of the defaults, single round)"
        + seen("the 16-CPU results", MANY_CORE),
        "For many concurrent requests, several processes may give more total throughput "
        "than one: 4 processes at the defaults on 16 CPUs gave about 3x the throughput of "
        "one process (different scenarios, no interval); pass processes=N"
        + seen("the 16-CPU results", MANY_CORE),
    ]
    return Verdict(
        ThreadSettings(whole, MIN_INTER_OP),
        "medium",
        "measured on MLPs in single rounds; a model with small ops or branches may differ.",
        unique(MANY_CORE, *inter_evidence),
    )


def latency(topo: Topology, processes: int, per_process: float, reasons: list[str]) -> Verdict:
    """Latency, no quota: split large ops, let branches run; the model decides."""
    whole = _share(per_process, reasons)
    intra = _smt_cap(topo, processes, whole, reasons)
    reasons.append(
        f"Latency goal: intra_op={intra} lets a large op split across the CPUs, but small "
        "models gain nothing: "
        "for a batch-1 and a batch-32 MLP on 16 CPUs one thread was active at every "
        "intra-op size from 1 to 16 and no size was faster than 1 beyond its interval (at "
        "batch 1, 16 threads were 0.82 [0.79, 0.86] times as fast as one, 2 rounds)"
        + seen("the 16-CPU results", MANY_CORE)
    )
    inter = max(MIN_INTER_OP, min(whole, 4))
    text, inter_evidence = _inter_op(inter, topo, quota=False)
    reasons.append(
        text + " More inter-op threads let more independent branches run at once: the "
        "branches workload was on 16 CPUs 2.6x to 2.8x slower at inter_op=1 against 1.05x "
        "to 1.28x at inter_op=4 with intra_op of 4 or more (single round); a chain of ops "
        "keeps one thread busy, so the others sleep. Hence one per CPU, from 2 up to 4"
        + seen("the 16-CPU results", MANY_CORE)
    )
    evidence = unique(MANY_CORE, *inter_evidence)
    if processes > 1:
        reasons.append(
            f"Several processes: each keeps to its share of {cpus(whole)}, a precaution "
            "that is not measured for latency; with 4 processes at the throughput goal the "
            "defaults cost no p99 step time (8.25 ms against 8.70 ms at 4/2, no interval)"
            + seen("the 16-CPU results; the workers example", MANY_CORE, WORKERS)
        )
        evidence += (WORKERS,)
    return Verdict(
        ThreadSettings(intra, inter),
        "low",
        "the best latency setting depends on the model's op sizes and branches, which no "
        "rule can see: more intra-op threads helped large ops and did nothing for small ones.",
        evidence,
    )
