"""Recommend thread pool sizes from the CPU budget: one rule, with its evidence and limits.

This docstring is the one statement of the rule; the pages of the site show what
:func:`recommend` gives for their scenarios rather than restating it. Each part rests on
evidence that its reasons name, in words and by the label of the page of the site that
shows it (:data:`EVIDENCE`): ``results-many-core`` (16 CPUs, interleaved rounds of fresh
processes), ``engine-benchmark`` (2 CPUs, 6 interleaved rounds of fresh processes,
``benchmarks/results/engine.md``), ``gallery-containers`` and ``gallery-workers``
(gallery examples, measured on the machine that builds the site) and
``explanation-inter-op-deadlock`` (hangs reproduced on every build). Each
:class:`Recommendation` states how far it can be trusted (``confidence``) and, where the
rule cannot know the answer, which ``tfthreads tune`` command measures it instead.

**Budget.** ``B = topology.cpu_budget``, the smaller of the affinity mask and the cgroup
CPU quota (TensorFlow itself looks only at the mask). ``P = processes`` share it: each
gets ``b = B / P`` and ``c = max(1, floor(b))`` whole CPUs; a fractional remainder (a
1.5-CPU quota gives ``c = 1``) is headroom for the inter-op and ``tf.data`` threads.

**Intra-op: the intra-op threads of all processes fit the whole CPUs of the budget**,
``intra_op * P <= floor(B)``, with ``intra_op = c`` in each process, under an affinity
mask and under a quota alike. The intra-op pool is the one that splits an op over CPUs.

- Under a quota below the mask, for both goals: busy threads beyond a quota spend it
  early in each period and then all wait; under a 1-CPU quota the defaults' p99 step was
  12.9 [9.9, 15.6] times that of ``1/1``, at the same throughput within the noise
  (``engine-benchmark``; ``gallery-containers``). Confidence high for latency, medium for
  throughput (a tie there, on one workload).
- Without a quota, latency: ``c``, with SMT this process's share of the physical cores.
  A large op splits across the CPUs, but a small model kept one thread busy whatever the
  size (``results-many-core``); the model decides, so the confidence is low and the
  recommendation names ``tfthreads tune``.
- Without a quota, throughput, one process: ``c``; on 16 CPUs every 16-thread setting was
  within 3 % of the defaults and fewer intra-op threads lost (``results-many-core``).
  Confidence medium.
- Without a quota, throughput, several processes with ``b < 2``: ``c``; two processes on
  2 CPUs gave 1.15x the defaults' throughput at ``1/1`` (``engine-benchmark``,
  ``gallery-workers``). Confidence medium.

Two cases leave the rule. Several processes without a quota, throughput, ``b >= 2``:
**keep TensorFlow's defaults** (``0/0``), because four processes on 16 CPUs gave the most
total throughput with them, dividing the CPUs was at best indistinguishable and smaller
pools lost: each step has serial gaps that the other processes' threads fill
(``results-many-core``); confidence medium at 4 CPUs per process, low between the measured
points. More processes than whole CPUs (``P > floor(B)``): ``intra_op = 1`` each, which
no budget of ``floor(B)`` holds; the reasons say to run at most ``floor(B)`` processes.

**Inter-op: never below 2.** ``inter_op = 2``, and for latency without a quota
``min(c, 4)`` when ``c > 2``.

- Why never 1: with one inter-op thread a ``tf.py_function`` whose body calls a
  ``tf.function`` hangs for ever, and with two it returns: the body holds the thread that
  its nested ops would run on (``explanation-inter-op-deadlock``, reproduced on every
  build). TensorFlow's own default is 1 on a one-CPU mask, so the rule sets 2 there too.
  Two such ops running at once need 3, which no rule can see.
- What 2 costs against 1: nothing measurable. On 2 CPUs, inter-op 2 against 1 at the same
  intra-op size tied in all 24 comparisons of the engine grid (6 workloads, intra-op 1 to
  4), and two processes at ``1/2`` each were tied with ``1/1`` for throughput
  (``engine-benchmark``).
- What more than 1 gains: independent branches of ops run at once only with 2 or more;
  8 independent chains on 16 CPUs were 2.6x to 2.8x slower at ``inter_op=1``
  (``results-many-core``), hence up to 4 for latency without a quota.
- Under a quota, 2 and no more: each further inter-op thread lets one more independent op
  compute at once and spend the quota. Not measured: the quota measurements run one op at
  a time.

**Thread totals.** Within the budget means the intra-op threads: ``intra_op * P <=
floor(B)``. Each process also starts ``inter_op`` inter-op threads, not counted against
the budget: they compute only while independent ops run at once (at most about
``intra_op + inter_op`` threads of a process compute at once), and a thread that waits
spends no CPU time and no quota. :attr:`Recommendation.pool_threads` gives the totals of
all processes, and the reasons say them.

Every :class:`Recommendation` also says how it differs from TensorFlow's defaults (both
pools = the affinity count, per process) and from Intel's published rule (intra-op =
physical cores per socket, inter-op = sockets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tfthreads.options import GOAL, PROCESSES
from tfthreads.settings import MAX_THREADS, ThreadSettings
from tfthreads.topology import Topology
from tfthreads.topology import topology as read_topology

__all__ = [
    "CONFIDENCES",
    "EVIDENCE",
    "MIN_INTER_OP",
    "Recommendation",
    "recommend",
]

#: How far a :class:`Recommendation` can be trusted, most first.
CONFIDENCES = ("high", "medium", "low")
#: The pages of the site that show the measurements the rules rest on, by label.
EVIDENCE = {
    "results-many-core": "the 16-CPU results: interleaved rounds of fresh processes",
    "gallery-containers": "the containers example: a 1-CPU quota against a 1-CPU mask",
    "gallery-workers": "the workers example: several worker processes on one CPU budget",
    "engine-benchmark": "the engine benchmark: 2 CPUs, interleaved rounds of fresh processes",
    "explanation-inter-op-deadlock": (
        "the inter-op deadlock page: hangs with one inter-op thread, reproduced on every build"
    ),
}
_MANY_CORE, _CONTAINERS, _WORKERS, _ENGINE, _DEADLOCK = EVIDENCE
#: The fewest inter-op threads :func:`recommend` gives: one deadlocks a ``tf.py_function``
#: whose body calls a ``tf.function`` (``explanation-inter-op-deadlock``).
MIN_INTER_OP = 2
_ENGINE_WORDS = "the engine benchmark on 2 CPUs, 6 interleaved rounds"
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


def _seen(words: str, *labels: str) -> str:
    """Name the evidence of a reason: in words, then the site's labels."""
    pages = f"; on the site: {', '.join(labels)}" if labels else ""
    return f" [evidence: {words}{pages}]."


def _pools(settings: ThreadSettings) -> dict[str, int]:
    return {
        "intra_op_parallelism_threads": settings.intra_op,
        "inter_op_parallelism_threads": settings.inter_op,
    }


@dataclass(frozen=True)
class Recommendation:
    """Thread settings for one process, with the rules behind them and how far they hold.

    Attributes
    ----------
    settings : ThreadSettings
        The recommended pool sizes, for each process; ``0/0`` means "keep TensorFlow's
        defaults" (leave both pools unset).
    goal : str
        ``"latency"`` or ``"throughput"``.
    processes : int
        Processes sharing the CPU budget.
    cpu_budget : float
        The budget of the whole group of processes (:attr:`tfthreads.topology.Topology.cpu_budget`).
    per_process_budget : float
        ``cpu_budget / processes``.
    reasons : tuple of str
        Each rule applied and why, with the numbers and the evidence it rests on.
    tensorflow_default : ThreadSettings
        What ``0``/``0`` gives here: both pools sized to the affinity count.
    intel_rule : ThreadSettings or None
        Intel's rule (physical cores per socket / sockets); ``None`` if those are unknown.
    comparison : tuple of str
        How the recommendation differs from ``tensorflow_default`` and ``intel_rule``.
    confidence : {"high", "medium", "low"}
        ``"high"``: a large effect measured where the rule applies; ``"medium"``: measured,
        but on one model or without an interval; ``"low"``: the best setting depends on the
        model (its op sizes, its branches), which no rule can see.
    confidence_reason : str
        Why the confidence is what it is.
    measure_instead : str or None
        The ``tfthreads tune`` command to run instead of trusting the rule, whenever the
        confidence is not high; ``None`` when it is.
    evidence : tuple of str
        Labels of the site's pages that show the measurements behind the reasons
        (keys of :data:`EVIDENCE`).
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
    confidence: str = "low"
    confidence_reason: str = ""
    measure_instead: str | None = None
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCES:
            raise ValueError(
                f"confidence: got {self.confidence!r}; expected one of {', '.join(CONFIDENCES)}"
            )

    @property
    def keeps_defaults(self) -> bool:
        """Whether the recommendation is to leave both pools at TensorFlow's defaults."""
        return self.settings.intra_op == 0 and self.settings.inter_op == 0

    @property
    def pool_threads(self) -> dict[str, int]:
        """The pool threads all the processes start together, by pool.

        ``0`` counts as the pool TensorFlow's defaults start here. The rule keeps
        ``pool_threads["intra_op"]`` within the whole CPUs of the budget, and does not count
        the inter-op threads against it (see the module documentation).
        """
        chosen, default = self.settings, self.tensorflow_default
        return {
            "intra_op": (chosen.intra_op or default.intra_op) * self.processes,
            "inter_op": (chosen.inter_op or default.inter_op) * self.processes,
        }

    def as_dict(self) -> dict[str, object]:
        """Return the recommendation as JSON-ready data (lists, not tuples)."""
        return {
            **_pools(self.settings),
            "goal": self.goal,
            "processes": self.processes,
            "cpu_budget": self.cpu_budget,
            "per_process_budget": self.per_process_budget,
            "confidence": self.confidence,
            "confidence_reason": self.confidence_reason,
            "measure_instead": self.measure_instead,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
            "comparison": list(self.comparison),
            "pool_threads": self.pool_threads,
            "tensorflow_default": _pools(self.tensorflow_default),
            "intel_rule": None if self.intel_rule is None else _pools(self.intel_rule),
        }

    def describe(self) -> str:
        """Summarize the recommendation in a few lines for a terminal."""
        each = "" if self.processes == 1 else " each"
        head = f"Recommended for {self.goal}, {_procs(self.processes)}:"
        chosen = self.settings.describe()
        if self.keeps_defaults:
            default = self.tensorflow_default
            chosen = (
                f"TensorFlow's defaults, {chosen} (here intra_op={default.intra_op}, "
                f"inter_op={default.inter_op})"
            )
        lines = [
            f"{head} {chosen}{each}",
            f"CPU budget: {_cpus(self.cpu_budget)}, {_num(self.per_process_budget)} per process",
            f"Confidence: {self.confidence}: {self.confidence_reason}",
        ]
        if self.measure_instead:
            lines.append(f"Measure instead: {self.measure_instead}")
        lines += [
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
    topo: Topology,
    processes: int,
    chosen: ThreadSettings,
    default: ThreadSettings,
    intel: ThreadSettings | None,
) -> tuple[str, ...]:
    mask, budget = topo.affinity_cpus, topo.cpu_budget
    total = mask * processes
    if total <= budget:
        fit = "which fits the budget"
    else:
        ratio = "unboundedly over" if budget <= 0 else f"{_num(total / budget)}x"
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
        f"processes: {_many(default.intra_op * processes, 'intra-op thread')} (plus "
        f"{default.inter_op * processes} inter-op) across {_procs(processes)} for a budget "
        f"of {_cpus(budget)}, {fit}; {starts}"
    )
    if intel is None:
        return (text, _NO_INTEL)
    intra = default.intra_op if chosen.intra_op == 0 else chosen.intra_op
    cores = _many(topo.physical_cores or 0, "physical core")
    rule = (
        f"Intel's rule gives intra_op={intel.intra_op}, inter_op={intel.inter_op} ({cores} "
        f"on {_many(intel.inter_op, 'socket')}); it assumes one process owning the whole "
        "machine and ignores cgroup quotas and affinity masks"
    )
    if intel.intra_op > intra:
        rule += (
            f", so here it would start {intel.intra_op * processes} intra-op threads for a "
            f"budget of {_cpus(budget)}."
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


def _tune_command(goal: str, processes: int) -> str:
    flags = f" --goal {goal}" + ("" if processes == 1 else f" --processes {processes}")
    return (
        f"tfthreads tune MODEL{flags} (MODEL: your saved .keras model with --input-shape, "
        "or package.module:function) measures the candidates on this machine and says "
        "which are indistinguishable from the best."
    )


@dataclass
class _Verdict:
    """What a rule decided: the settings, how sure it is, and the pages it cites."""

    settings: ThreadSettings
    confidence: str
    why: str
    evidence: tuple[str, ...] = ()


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
        The settings, the reasons with their evidence, the confidence, the ``tfthreads
        tune`` command to run where the rule cannot know, and how the settings compare with
        TensorFlow's defaults and Intel's rule. The rule is stated, with its evidence, in
        the module documentation.

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
    >>> rec.settings.describe(), rec.confidence
    ('intra_op=2, inter_op=2', 'high')
    >>> rec.pool_threads
    {'intra_op': 2, 'inter_op': 2}
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
    quota = topo.quota_cpus is not None and topo.quota_cpus < topo.affinity_cpus
    reasons = [_budget_reason(topo)]
    if processes > 1:
        reasons.append(f"{processes} processes share it: {_cpus(per_process)} per process.")
    if processes > whole:
        verdict = _too_many(topo, processes, quota, reasons)
    elif quota:
        verdict = _under_quota(goal, topo, processes, per_process, reasons)
    elif goal == "throughput" and processes > 1 and per_process < 2:
        verdict = _divide(topo, per_process, reasons)
    elif goal == "throughput" and processes > 1:
        verdict = _keep_defaults(topo, processes, per_process, reasons)
    elif goal == "throughput":
        verdict = _throughput(topo, per_process, reasons)
    else:
        verdict = _latency(topo, processes, per_process, reasons)
    chosen = verdict.settings
    if not (chosen.intra_op == 0 and chosen.inter_op == 0):
        reasons.append(_totals(chosen, processes, whole))
    size = min(MAX_THREADS, topo.tensorflow_default_threads)
    default = ThreadSettings(size, size)
    intel = _intel_rule(topo)
    high = verdict.confidence == "high"
    return Recommendation(
        settings=chosen,
        goal=goal,
        processes=processes,
        cpu_budget=budget,
        per_process_budget=per_process,
        reasons=tuple(reasons),
        tensorflow_default=default,
        intel_rule=intel,
        comparison=_compare(topo, processes, chosen, default, intel),
        confidence=verdict.confidence,
        confidence_reason=verdict.why,
        measure_instead=None if high else _tune_command(goal, processes),
        evidence=verdict.evidence,
    )


def _totals(chosen: ThreadSettings, processes: int, whole: int) -> str:
    """Say the thread totals, and what the rule counts against the budget."""
    intra, inter = chosen.intra_op * processes, chosen.inter_op * processes
    each = "" if processes == 1 else f" ({chosen.inter_op} per process)"
    fits = (
        "within the budget"
        if intra <= whole
        else f"more than the {_many(max(1, whole), 'whole CPU')}: run fewer processes"
    )
    return (
        f"Threads in total: {chosen.intra_op} x {processes} = "
        f"{_many(intra, 'intra-op thread')} for {_many(whole, 'whole CPU')}, {fits}; the "
        f"{_many(inter, 'inter-op thread')}{each} are not counted against it: they compute "
        "only while independent ops run at once (at most about "
        "intra_op + inter_op threads of a process compute at once), and a thread that waits "
        "spends no CPU time and no quota."
    )


#: The branches workload on 2 CPUs, inter_op 2 against 1 at intra_op 2 (the defaults there).
_GRID_TIES = (
    "On 2 CPUs a second inter-op thread cost nothing measurable: inter_op=2 against 1 at "
    "the same intra_op (1 to 4) tied in all 24 comparisons of the engine grid (6 "
    "workloads); for the branches workload, 8 independent chains, inter_op=2 was 1.20 "
    "[0.80, 1.52] times as fast at intra_op=2"
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
        + _seen("the inter-op deadlock page, reproduced on every build", _DEADLOCK)
        + " "
        + _GRID_TIES
        + _seen(_ENGINE_WORDS, _ENGINE)
    )
    if quota:
        text += (
            " Under a quota, 2 and no more: each further inter-op thread lets one more "
            "independent op compute at once and spend the quota. Not measured: the quota "
            "measurements run one op at a time."
        )
    return text, (_DEADLOCK, _ENGINE)


_QUOTA_TAIL = (
    "busy threads beyond a quota spend it early in each 100 ms period and then all wait "
    "for the next one: under a 1-CPU quota, 1/1 had a p99 step 12.9 [9.9, 15.6] times "
    "shorter than TensorFlow's defaults (2/2 on 2 CPUs), with the same throughput within "
    "the noise, 1.04 [0.93, 1.37]; its median step was slower, 0.63 of the defaults' speed "
    "[0.56, 1.03], because the defaults' two threads run fast until the quota is spent "
    "(6 interleaved rounds)"
)


def _too_many(topo: Topology, processes: int, quota: bool, reasons: list[str]) -> _Verdict:
    """More processes than whole CPUs in the budget: the minimum for each."""
    budget, whole = topo.cpu_budget, math.floor(topo.cpu_budget)
    reasons.append(
        f"The budget of {_cpus(budget)} is less than one whole CPU, so the process gets "
        "the fewest threads, intra_op=1; expect it to be throttled."
        if processes == 1
        else f"{processes} processes alone oversubscribe the budget of {_cpus(budget)} "
        "(more processes than whole CPUs), so each gets the fewest threads, intra_op=1; "
        f"run at most {_procs(max(1, whole))} to stop them competing."
    )
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota)
    reasons.append(inter)
    if quota:
        reasons.append(
            "Under a CPU quota, " + _QUOTA_TAIL + _seen(_ENGINE_WORDS, _ENGINE, _CONTAINERS)
        )
        return _Verdict(
            ThreadSettings(1, MIN_INTER_OP),
            "high",
            "threads beyond a CPU quota cost a long tail wherever it was measured.",
            _unique(_ENGINE, _CONTAINERS, *inter_evidence),
        )
    return _Verdict(
        ThreadSettings(1, MIN_INTER_OP),
        "low",
        "more processes than CPUs without a quota has not been measured by this project.",
        inter_evidence,
    )


def _unique(*labels: str) -> tuple[str, ...]:
    """Return the labels in order, each once."""
    return tuple(dict.fromkeys(labels))


def _share(per_process: float, reasons: list[str]) -> int:
    """Return the whole CPUs of one process's share, explaining a fractional remainder."""
    whole = min(MAX_THREADS, max(1, math.floor(per_process)))
    if whole < per_process < whole + 1:  # a fractional share, not the MAX_THREADS cap
        reasons.append(
            f"{_cpus(per_process)} per process rounds down to {_cpus(whole)}; the remaining "
            f"{_cpus(per_process - whole)} is headroom for the inter-op and tf.data threads."
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
        f"process's share is about {_num(share)} cores; two hardware threads of a core share "
        f"its execution units, so intra_op is capped at {cap}"
        + _seen("none yet: this project has not measured an SMT machine")
    )
    return cap


def _under_quota(
    goal: str, topo: Topology, processes: int, per_process: float, reasons: list[str]
) -> _Verdict:
    """Apply the rule under a quota below the mask: the intra-op threads fit its whole CPUs."""
    whole = _share(per_process, reasons)
    reasons.append(
        "Under a CPU quota, the intra-op threads of all processes fit the whole CPUs of the "
        "budget (intra_op x processes), because "
        + _QUOTA_TAIL
        + _seen(_ENGINE_WORDS, _ENGINE, _CONTAINERS)
    )
    intra = whole if goal == "throughput" else _smt_cap(topo, processes, whole, reasons)
    reasons.append(f"{goal.capitalize()} goal: intra_op uses the {_cpus(intra)} of the process.")
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota=True)
    reasons.append(inter)
    evidence = _unique(_ENGINE, _CONTAINERS, *inter_evidence)
    if goal == "throughput":
        return _Verdict(
            ThreadSettings(intra, MIN_INTER_OP),
            "medium",
            "under a 1-CPU quota throughput was the same within the noise with 1/1 and "
            "with the defaults (one workload, 2 CPUs); what a quota costs is the tail.",
            evidence,
        )
    return _Verdict(
        ThreadSettings(intra, MIN_INTER_OP),
        "high",
        "threads beyond a CPU quota cost a long tail wherever it was measured.",
        evidence,
    )


_TWO_ON_TWO = (
    "2 processes on 2 CPUs (a batch-1024 MLP) gave the most total throughput at 1/1 each: "
    "1.15x the defaults' (2/2 each), [1.07, 1.23], with 1/2 indistinguishable from 1/1 "
    "(95 % intervals from 6 interleaved rounds)"
)


def _divide(topo: Topology, per_process: float, reasons: list[str]) -> _Verdict:
    """Less than 2 CPUs per process, throughput: divide them; no gap is left for others to fill."""
    whole = _share(per_process, reasons)
    reasons += [
        f"Throughput with several processes, no quota, and less than 2 CPUs per process: "
        f"divide the CPUs, intra_op={whole}. "
        + _TWO_ON_TWO
        + _seen(_ENGINE_WORDS, _ENGINE, _WORKERS),
        "With 4 CPUs per process it went the other way: 4 processes on 16 CPUs gave the "
        "most throughput with TensorFlow's defaults, whose extra threads fill each "
        "process's serial gaps (Python dispatch, small ops); one CPU per process leaves "
        "little such gap" + _seen("the 16-CPU results", _MANY_CORE),
    ]
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota=False)
    reasons.append(
        inter + " Here 1/2 each, the setting given, was tied with 1/1, 0.926 [0.810, 1.002] "
        "of its throughput, and with the defaults, 1.04 [0.93, 1.15]"
        + _seen(_ENGINE_WORDS, _ENGINE)
    )
    return _Verdict(
        ThreadSettings(whole, MIN_INTER_OP),
        "medium",
        "measured on one model (a batch-1024 MLP) with 2 processes on 2 CPUs; a model with "
        "longer serial gaps in each step may favour the defaults.",
        _unique(_ENGINE, _WORKERS, _MANY_CORE, *inter_evidence),
    )


def _keep_defaults(
    topo: Topology, processes: int, per_process: float, reasons: list[str]
) -> _Verdict:
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
        "way: " + _TWO_ON_TWO + _seen(f"the 16-CPU results; {_ENGINE_WORDS}", _MANY_CORE, _ENGINE),
        "Why oversubscribing pays here: each step has serial gaps (Python dispatch, the "
        ".numpy() copy, small ops). One process at the defaults kept only 2.6 CPUs busy "
        "(CPU time / wall time 2.62); 4 at the defaults kept 9.0 of 16 busy, 4 at 4/2 only "
        "7.3: the other processes' threads fill each one's gaps, and without a quota a "
        "thread that waits costs no throttling" + _seen("the 16-CPU results", _MANY_CORE),
        "Tail latency: the p99 step time was no worse with the defaults (8.25 ms against "
        "8.70 ms at 4/2, no interval); the p99 of small requests arriving at random under "
        "this load is not measured. If it matters, divide the CPUs as for the latency goal "
        "and measure both" + _seen("the 16-CPU results", _MANY_CORE, _WORKERS),
        (
            f"The defaults' inter-op pool has {size} threads per process, 2 or more, as the "
            "rule for the inter-op pool asks."
        ),
    ]
    measured = per_process >= 4
    return _Verdict(
        ThreadSettings(),
        "medium" if measured else "low",
        "measured on one model (a batch-256 MLP) with 4 CPUs per process; a model with "
        "fewer serial gaps in each step may favour dividing the CPUs."
        if measured
        else f"{_cpus(per_process)} per process lies between the measured cases (1 CPU per "
        "process: dividing won; 4: the defaults won).",
        (_MANY_CORE, _ENGINE, _WORKERS),
    )


def _throughput(topo: Topology, per_process: float, reasons: list[str]) -> _Verdict:
    """One process, no quota, throughput: every CPU for intra-op, two ops in flight."""
    whole = _share(per_process, reasons)
    reasons.append(
        f"Throughput goal: intra_op uses all {_cpus(whole)}. One process on 16 CPUs (a "
        "batch-1024 MLP): every 16-thread setting was within 3 % of the defaults, and 8 "
        "threads or fewer lost 19 % or more (single round)"
        + _seen("the 16-CPU results", _MANY_CORE)
    )
    inter, inter_evidence = _inter_op(MIN_INTER_OP, topo, quota=False)
    reasons += [
        inter + " On 16 CPUs inter_op 1, 2 or 4 made no difference beyond the noise for this "
        "workload (0.979, 0.981, 0.970 of the defaults, single round)"
        + _seen("the 16-CPU results", _MANY_CORE),
        "For many concurrent requests, several processes may give more total throughput "
        "than one: 4 processes at the defaults on 16 CPUs gave about 3x the throughput of "
        "one process (different scenarios, no interval); pass processes=N"
        + _seen("the 16-CPU results", _MANY_CORE),
    ]
    return _Verdict(
        ThreadSettings(whole, MIN_INTER_OP),
        "medium",
        "measured on MLPs in single rounds; a model with small ops or branches may differ.",
        _unique(_MANY_CORE, *inter_evidence),
    )


def _latency(topo: Topology, processes: int, per_process: float, reasons: list[str]) -> _Verdict:
    """Latency, no quota: split large ops, let branches run; the model decides."""
    whole = _share(per_process, reasons)
    intra = _smt_cap(topo, processes, whole, reasons)
    reasons.append(
        f"Latency goal: intra_op={intra} lets a large op split across the CPUs, but small "
        "models gain nothing: "
        "for a batch-1 and a batch-32 MLP on 16 CPUs one thread was active at every "
        "intra-op size from 1 to 16 and no size was faster than 1 beyond its interval (at "
        "batch 1, 16 threads were 0.82 [0.79, 0.86] times as fast as one, 2 rounds)"
        + _seen("the 16-CPU results", _MANY_CORE)
    )
    inter = max(MIN_INTER_OP, min(whole, 4))
    text, inter_evidence = _inter_op(inter, topo, quota=False)
    reasons.append(
        text + " More inter-op threads let more independent branches run at once: the "
        "branches workload was on 16 CPUs 2.6x to 2.8x slower at inter_op=1 against 1.05x "
        "to 1.28x at inter_op=4 with intra_op of 4 or more (single round); a chain of ops "
        "keeps one thread busy, so the others sleep. Hence one per CPU, from 2 up to 4"
        + _seen("the 16-CPU results", _MANY_CORE)
    )
    evidence = _unique(_MANY_CORE, *inter_evidence)
    if processes > 1:
        reasons.append(
            f"Several processes: each keeps to its share of {_cpus(whole)}, a precaution "
            "that is not measured for latency; with 4 processes at the throughput goal the "
            "defaults cost no p99 step time (8.25 ms against 8.70 ms at 4/2, no interval)"
            + _seen("the 16-CPU results; the workers example", _MANY_CORE, _WORKERS)
        )
        evidence += (_WORKERS,)
    return _Verdict(
        ThreadSettings(intra, inter),
        "low",
        "the best latency setting depends on the model's op sizes and branches, which no "
        "rule can see: more intra-op threads helped large ops and did nothing for small ones.",
        evidence,
    )
