"""What a tune returns: :class:`TuneResult`, the best settings and how sure that is.

:func:`tfthreads.tune.tune` makes one; reading it needs only the final comparison and
the measurements, so it lives apart from the code that measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tfthreads.comparison import Comparison
from tfthreads.recommend import Recommendation
from tfthreads.results import Measurement, score
from tfthreads.settings import ThreadSettings
from tfthreads.stats import RatioInterval
from tfthreads.sweep_result import SweepResult

__all__ = ["TuneResult"]


@dataclass(frozen=True)
class TuneResult:
    """What :func:`~tfthreads.tune.tune` found.

    Attributes
    ----------
    best : ThreadSettings
        The best settings of the final comparison.
    goal : str
        ``"latency"`` (lowest median time per step) or ``"throughput"``.
    recommendation : Recommendation
        The rule-based starting point.
    tried : SweepResult
        Every measurement, screening and final rounds, in the order made.
    comparison : Comparison
        The final comparison; its first setting is TensorFlow's defaults.
    seconds : float
        Wall time the whole tune took, screening and final rounds.
    precision : float
        The target each final ratio's interval was to reach (0.05: ±5 %).
    """

    best: ThreadSettings
    goal: str
    recommendation: Recommendation
    tried: SweepResult
    comparison: Comparison
    seconds: float = 0.0
    precision: float = 0.05

    @property
    def indistinguishable(self) -> tuple[ThreadSettings, ...]:
        """The settings tied with the best (:attr:`tfthreads.stats.RatioInterval.tie`)."""
        settings = self.comparison.settings
        best = settings.index(self.best)
        return tuple(
            settings[i] for i in self.comparison.indistinguishable_from_best() if i != best
        )

    @property
    def speedup(self) -> RatioInterval | None:
        """How many times better the best is than the defaults, with its 95 % interval.

        ``None`` when the defaults are the best (a ratio of a setting to itself says
        nothing) or when they could not be compared.
        """
        best = self.comparison.settings.index(self.best)
        return None if best == 0 else self.comparison.interval(best, 0)

    @property
    def speedup_over_default(self) -> float | None:
        """The point estimate of :attr:`speedup` (above 1 is better than the defaults)."""
        return None if self.speedup is None else self.speedup.ratio

    @property
    def conclusion(self) -> str:
        """What the final comparison allows to say about the best against the defaults.

        ``"defaults best"``, ``"defaults failed"`` (TensorFlow's defaults did not run
        here), or the :attr:`~tfthreads.stats.RatioInterval.verdict` of :attr:`closest`:
        ``"better"`` (its interval above 1 and its ratio at least ``1 + TIE``,
        :data:`tfthreads.stats.TIE`), ``"indistinguishable"`` (a tie: keeping the
        defaults is as good) or ``"inconclusive"`` (a tie whose interval is too wide to
        decide).
        """
        if self.comparison.failed(0):
            return "defaults failed"
        closest = self.closest
        if closest is None:
            return "defaults best"
        verdict = closest.verdict
        if verdict == "inconclusive":
            return verdict
        return "defaults best" if self.best == ThreadSettings() else verdict

    @property
    def closest(self) -> RatioInterval | None:
        """Return the interval that decides :attr:`conclusion`.

        The best against the defaults or, when the defaults are the best, the runner-up
        against them (``None`` if no other setting ran).
        """
        comparison = self.comparison
        best = comparison.settings.index(self.best)
        if best != 0:
            return comparison.interval(best, 0)
        others = [
            one for i in range(1, len(comparison.settings)) if (one := comparison.interval(i, 0))
        ]
        return max(others, key=lambda one: one.ratio, default=None)

    @property
    def precise(self) -> bool:
        """Whether every final interval against the defaults reached :attr:`precision`."""
        return self.comparison.precise(self.precision)

    @property
    def best_measurement(self) -> Measurement:
        """The best setting's measurement with the median score in the final rounds."""
        return _middle(self.comparison, self.comparison.settings.index(self.best))

    @property
    def default_measurement(self) -> Measurement | None:
        """The defaults' measurement with the median score, if they ran."""
        return None if self.comparison.failed(0) else _middle(self.comparison, 0)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary: best, ties, the interval and every measurement."""
        speedup = self.speedup
        return {
            "goal": self.goal,
            "intra_op_parallelism_threads": self.best.intra_op,
            "inter_op_parallelism_threads": self.best.inter_op,
            "speedup_over_default": None if speedup is None else speedup.as_dict(),
            "indistinguishable": [s.describe() for s in self.indistinguishable],
            "recommendation": self.recommendation.as_dict(),
            "conclusion": self.conclusion,
            "final_comparison": self.comparison.table_rows(),
            "final_rounds": len(self.comparison.rounds),
            "method": self.comparison.method,
            "stopped": self.comparison.stopped,
            "precision": self.precision,
            "precise": self.precise,
            "seconds": self.seconds,
            "tried": [result.as_dict() for result in self.tried.rows],
        }


def _middle(comparison: Comparison, index: int) -> Measurement:
    measured = sorted(comparison.measured(index), key=lambda m: score(m, comparison.goal))
    return measured[len(measured) // 2]
