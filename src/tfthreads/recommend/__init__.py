"""Recommend thread pool sizes from the CPU budget: one rule, with its evidence and limits.

This docstring is the one statement of the rule; the pages of the site show what
:func:`recommend` gives for their scenarios rather than restating it. Each part rests on
evidence that its reasons name, in words and by the label of the page of the site that
shows it (:data:`EVIDENCE`): ``results-many-core`` (16 CPUs, interleaved rounds of fresh
processes), ``engine-benchmark`` (2 CPUs, paired rounds of processes taking turns,
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
  11.3 [4.4, 15.6] times that of ``1/2``, at the same throughput within the noise
  (``engine-benchmark``; ``gallery-containers``). Confidence high for latency, medium for
  throughput (a tie there, on one workload).
- Without a quota, latency: ``c``, with SMT this process's share of the physical cores.
  A large op splits across the CPUs, but a small model kept one thread busy whatever the
  size (``results-many-core``); the model decides, so the confidence is low and the
  recommendation names ``tfthreads tune``.
- Without a quota, throughput, one process: ``c``; on 16 CPUs every 16-thread setting was
  within 3 % of the defaults and fewer intra-op threads lost (``results-many-core``).
  Confidence medium: on 2 CPUs the engine benchmark found one model where fewer won, the
  batch-1024 MLP, where ``2/2`` gave 0.900 [0.869, 0.937] of ``1/1``'s throughput
  (``engine-benchmark``).
- Without a quota, throughput, several processes with ``b < 2``: ``c``; two processes on
  2 CPUs gave 1.09x the defaults' throughput at ``1/1`` (``engine-benchmark``,
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
- What 2 costs against 1: nothing measured. On 2 CPUs, inter-op 2 against 1 at the same
  intra-op size was faster in 4 of the 24 comparisons of the engine grid's screening (6
  workloads, intra-op 1 to 4) and tied in the other 20, and two processes at ``1/2`` each
  were tied with ``1/1`` for throughput (``engine-benchmark``).
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
from tfthreads.recommend import _words, rules
from tfthreads.recommend._words import cpus, num, procs
from tfthreads.recommend.baselines import compare, intel_settings
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

# EVIDENCE and MIN_INTER_OP are defined where the parts of the rule use them; they are
# documented here, where autodoc finds their ``#:`` comments.

#: The pages of the site that show the measurements the rules rest on, by label.
EVIDENCE = _words.EVIDENCE
#: The fewest inter-op threads :func:`recommend` gives: one deadlocks a ``tf.py_function``
#: whose body calls a ``tf.function`` (``explanation-inter-op-deadlock``).
MIN_INTER_OP = rules.MIN_INTER_OP


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
        head = f"Recommended for {self.goal}, {procs(self.processes)}:"
        chosen = self.settings.describe()
        if self.keeps_defaults:
            default = self.tensorflow_default
            chosen = (
                f"TensorFlow's defaults, {chosen} (here intra_op={default.intra_op}, "
                f"inter_op={default.inter_op})"
            )
        lines = [
            f"{head} {chosen}{each}",
            f"CPU budget: {cpus(self.cpu_budget)}, {num(self.per_process_budget)} per process",
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


def _tune_command(goal: str, processes: int) -> str:
    flags = f" --goal {goal}" + ("" if processes == 1 else f" --processes {processes}")
    return (
        f"tfthreads tune MODEL{flags} (MODEL: your saved .keras model with --input-shape, "
        "or package.module:function) measures the candidates on this machine and says "
        "which are indistinguishable from the best."
    )


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
    reasons = [rules.budget_reason(topo)]
    if processes > 1:
        reasons.append(f"{processes} processes share it: {cpus(per_process)} per process.")
    if processes > whole:
        verdict = rules.too_many(topo, processes, quota, reasons)
    elif quota:
        verdict = rules.under_quota(goal, topo, processes, per_process, reasons)
    elif goal == "throughput" and processes > 1 and per_process < 2:
        verdict = rules.divide(topo, per_process, reasons)
    elif goal == "throughput" and processes > 1:
        verdict = rules.keep_defaults(topo, processes, per_process, reasons)
    elif goal == "throughput":
        verdict = rules.throughput(topo, per_process, reasons)
    else:
        verdict = rules.latency(topo, processes, per_process, reasons)
    chosen = verdict.settings
    if not (chosen.intra_op == 0 and chosen.inter_op == 0):
        reasons.append(rules.thread_totals(chosen, processes, whole))
    size = min(MAX_THREADS, topo.tensorflow_default_threads)
    default = ThreadSettings(size, size)
    intel = intel_settings(topo)
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
        comparison=compare(topo, processes, chosen, default, intel),
        confidence=verdict.confidence,
        confidence_reason=verdict.why,
        measure_instead=None if high else _tune_command(goal, processes),
        evidence=verdict.evidence,
    )
