"""One row of a report: a setting of a scenario against the scenario's baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tfthreads.stats import RatioInterval

# The verdicts of a row against its baseline; documented where tfthreads.report
# re-exports it as VERDICTS (autodoc reads a ``#:`` comment only in the module it documents).
VERDICTS = (
    "baseline",
    "better",
    "worse",
    "indistinguishable",
    "inconclusive",
    "one round: no interval",
    "no round in common with the baseline",
)


@dataclass(frozen=True)
class ReportRow:
    """One setting of one scenario, against the scenario's baseline.

    Attributes
    ----------
    source : str
        The results file's name.
    scenario, title : str
        The scenario's key and what it compares.
    workload : str
        The workload and its parameters, such as ``"mlp_latency (batch=1, width=512)"``.
    goal : str
        ``"latency"`` (the score is steps per second of the median step) or
        ``"throughput"`` (items per second, all processes together).
    setting : str
        The setting's label; ``intra_op``/``inter_op`` are its thread counts.
    processes : int
        Worker processes running at once in each measurement.
    rounds : int
        Rounds the setting was measured in; ``failed`` rounds it failed in.
    median_ms, throughput : float
        Geometric means over rounds of each round's median step time (ms) and
        throughput, as :meth:`tfthreads.compare.Comparison.table_rows` gives them.
    unit : str
        The throughput's unit, such as ``"inferences/s"``.
    baseline : str
        The label of the setting it is compared with.
    best_is_baseline : bool
        Whether the baseline was chosen as the best score (then the others' ratios lean
        slightly against them: the winner's curse).
    ratio, low, high : float or None
        How many times better than the baseline (above 1 better): this setting's score
        over the baseline's, from the per-round ratios, and its 95 % interval
        (:func:`tfthreads.stats.ratio_interval`; ``None`` for the baseline itself, and
        ``low``/``high`` ``None`` with a single paired round).
    paired : int
        Rounds in which both this setting and the baseline were measured.
    verdict : str
        One of :data:`VERDICTS`.
    """

    source: str
    scenario: str
    title: str
    workload: str
    goal: str
    setting: str
    intra_op: int
    inter_op: int
    processes: int
    rounds: int
    failed: int
    median_ms: float
    throughput: float
    unit: str
    baseline: str
    best_is_baseline: bool
    ratio: float | None
    low: float | None
    high: float | None
    paired: int
    verdict: str
    conditions: str = ""

    @property
    def group(self) -> tuple[str, str, str, str, str]:
        """The key of this row's table (source, scenario, workload, goal and conditions)."""
        return (self.source, self.scenario, self.workload, self.goal, self.conditions)

    def ratio_text(self) -> str:
        """Write the ratio as ``"1.15 [1.01, 1.31]"``; ``"baseline"`` for the baseline."""
        if self.setting == self.baseline:
            return "baseline"
        if self.ratio is None:
            return "-"
        if self.low is None or self.high is None:
            return f"{self.ratio:.2f}"
        return RatioInterval(self.ratio, self.low, self.high, self.paired).describe()

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)
