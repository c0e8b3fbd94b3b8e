"""What :func:`tfthreads.compare.compare` returns: a :class:`Comparison` of settings.

The settings' measurements round by round, and what they allow to say: the ratio of two
settings with its 95 % interval, the best, and the settings that cannot be told apart
from it. Reading a comparison measures nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tfthreads._text_table import text_table
from tfthreads.errors import SettingError
from tfthreads.results import Failure, Measurement, score
from tfthreads.settings import ThreadSettings
from tfthreads.stats import RatioInterval, geometric_mean, ratio_interval
from tfthreads.workloads import WorkloadSpec

__all__ = ["Comparison"]


@dataclass
class Comparison:
    """Settings measured in interleaved rounds, and what can be said about them.

    Attributes
    ----------
    workload : WorkloadSpec
        What ran.
    goal : str
        ``"latency"`` or ``"throughput"``.
    settings : tuple of ThreadSettings
        The settings compared; the first is the baseline of :meth:`interval`.
    rounds : list of list of Measurement or Failure
        ``rounds[r][i]``: setting ``i`` in round ``r``.
    stopped : str
        Why the rounds stopped: ``"precision"``, ``"budget"`` or ``"rounds"``.
    method : str
        How each round was measured, in words, such as ``"4 settings at once, 6 turns
        each"``.
    seconds : float
        Wall time the rounds took.
    """

    workload: WorkloadSpec
    goal: str
    settings: tuple[ThreadSettings, ...]
    rounds: list[list[Measurement | Failure]] = field(default_factory=list)
    stopped: str = ""
    method: str = ""
    seconds: float = 0.0

    def label(self, index: int) -> str:
        """Name setting ``index`` for a table: ``"defaults"`` or ``"2/1"`` (intra/inter)."""
        settings = self.settings[index]
        if settings == ThreadSettings():
            return "defaults"
        return f"{settings.intra_op}/{settings.inter_op}"

    def failed(self, index: int) -> Failure | None:
        """Return the first failure of setting ``index``, if it failed in any round."""
        return next((r for row in self.rounds if isinstance(r := row[index], Failure)), None)

    def measured(self, index: int) -> list[Measurement]:
        """Return setting ``index``'s measurements, one per round it succeeded in."""
        return [r for row in self.rounds if isinstance(r := row[index], Measurement)]

    def scores(self, index: int, of: Callable[[Measurement], float] | None = None) -> list[float]:
        """Return setting ``index``'s score in each round (higher is better).

        ``of`` scores one measurement instead of the goal's :func:`~tfthreads.results.score`, such as
        ``lambda m: 1 / m.wall.p99`` to compare tails; it must be positive, higher better.
        """
        return [score(m, self.goal) if of is None else of(m) for m in self.measured(index)]

    def interval(
        self,
        candidate: int,
        baseline: int = 0,
        *,
        of: Callable[[Measurement], float] | None = None,
    ) -> RatioInterval | None:
        """How many times better ``candidate`` is than ``baseline``, with a 95 % interval.

        Above 1 is better. ``None`` when either failed or fewer than 2 rounds ran. ``of``
        compares another score of each round's measurement (see :meth:`scores`).
        """
        if self.failed(candidate) or self.failed(baseline) or len(self.rounds) < 2:
            return None
        return ratio_interval(self.scores(baseline, of), self.scores(candidate, of))

    @property
    def best(self) -> int:
        """Index of the setting with the best score.

        Ranked by each setting's paired ratio to the first setting that did not fail, the
        same estimate as :meth:`interval`, so the best is never reported worse than
        another setting; with one round, by the score itself.
        """
        candidates = [i for i in range(len(self.settings)) if not self.failed(i)]
        if not candidates or not self.rounds:
            raise SettingError("compare: every setting failed; nothing to rank")
        if len(self.rounds) < 2:
            return max(candidates, key=lambda i: geometric_mean(self.scores(i)))
        reference = self.scores(candidates[0])
        return max(candidates, key=lambda i: ratio_interval(reference, self.scores(i)).ratio)

    def indistinguishable_from_best(self) -> list[int]:
        """Indexes of the settings tied with the best, the best too.

        A tie is :attr:`tfthreads.stats.RatioInterval.tie`: an interval that includes 1, or
        a difference smaller than :data:`tfthreads.stats.TIE`.
        """
        best = self.best
        tied = [best]
        for index in range(len(self.settings)):
            interval = self.interval(index, best) if index != best else None
            if interval is not None and interval.tie:
                tied.append(index)
        return sorted(tied)

    def verdict(
        self,
        candidate: int,
        baseline: int = 0,
        *,
        of: Callable[[Measurement], float] | None = None,
        settled: bool = False,
    ) -> str:
        """Return the interval's :attr:`~tfthreads.stats.RatioInterval.verdict`, or ``"failed"``.

        ``"better"``, ``"worse"``, ``"indistinguishable"`` or ``"inconclusive"``;
        ``"failed"`` when the candidate failed, ``"baseline failed"`` when only the
        baseline did, ``"unknown"`` before two rounds (``of``:
        see :meth:`scores`). ``settled``: the
        :attr:`~tfthreads.stats.RatioInterval.settled_verdict` that a page states instead.
        """
        interval = self.interval(candidate, baseline, of=of)
        if interval is None:
            if self.failed(candidate):
                return "failed"
            return "baseline failed" if self.failed(baseline) else "unknown"
        return interval.settled_verdict if settled else interval.verdict

    def precise(self, precision: float) -> bool:
        """Whether every interval against the first setting is within ``precision`` (0.05: ±5 %)."""
        intervals = [self.interval(i) for i in range(1, len(self.settings))]
        known = [interval for interval in intervals if interval is not None]
        return bool(known) and all(interval.half_width <= precision for interval in known)

    def table_rows(self, baseline: int = 0) -> list[dict[str, Any]]:
        """Return one JSON-ready row per setting: its typical step and ratio to ``baseline``.

        ``step_ms`` and ``throughput`` are geometric means over the rounds of each
        round's median step time and throughput.
        """
        rows = []
        for index, settings in enumerate(self.settings):
            interval = self.interval(index, baseline) if index != baseline else None
            measured = self.measured(index)
            rows.append(
                {
                    "intra_op": settings.intra_op,
                    "inter_op": settings.inter_op,
                    "rounds": len(measured),
                    # Geometric means over rounds, to describe; ranks come from ratios.
                    "step_ms": geometric_mean([m.wall.median * 1e3 for m in measured]) or None,
                    "throughput": geometric_mean([m.throughput for m in measured]) or None,
                    "ratio": None if interval is None else interval.ratio,
                    "low": None if interval is None else interval.low,
                    "high": None if interval is None else interval.high,
                    "verdict": "baseline" if index == baseline else self.verdict(index, baseline),
                }
            )
        return rows

    def table(self, baseline: int = 0) -> str:
        """Format :meth:`table_rows` as text: each ratio with its interval, ties named."""
        head = [
            "intra/inter",
            "rounds",
            "ms/step",
            f"x better than {self.label(baseline)} [95 % CI]",
            "verdict",
        ]
        body = []
        for index, row in enumerate(self.table_rows(baseline)):
            interval = self.interval(index, baseline) if index != baseline else None
            body.append(
                [
                    f"{row['intra_op']}/{row['inter_op']}",
                    str(row["rounds"]),
                    "-" if row["step_ms"] is None else f"{row['step_ms']:.3f}",
                    "-" if interval is None else interval.describe(),
                    row["verdict"],
                ]
            )
        return "\n".join(text_table(head, body, left=[4]))

    def as_dict(self) -> dict[str, Any]:
        """Return everything, JSON-ready: rows, intervals and every measurement."""
        return {
            "workload": self.workload.as_dict(),
            "goal": self.goal,
            "stopped": self.stopped,
            "method": self.method,
            "seconds": self.seconds,
            "rows": self.table_rows(),
            "best": self.best
            if any(not self.failed(i) for i in range(len(self.settings)))
            else None,
            "rounds": [[result.as_dict() for result in row] for row in self.rounds],
        }
