"""The :class:`Recommendation`: settings for each process, the reasons and how far they hold.

:func:`tfthreads.recommend.recommend` makes one; the rule it applies is stated in
:mod:`tfthreads.recommend`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tfthreads.recommend._words import cpus, num, procs
from tfthreads.settings import ThreadSettings

# How far a Recommendation can be trusted, most first; documented where
# tfthreads.recommend re-exports it as CONFIDENCES.
CONFIDENCES = ("high", "medium", "low")


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
        the inter-op threads against it (see :mod:`tfthreads.recommend`).
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
