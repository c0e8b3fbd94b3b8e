"""Tune thread settings by measurement, starting from the recommendation.

Rather than a blind full grid, :func:`tune` measures TensorFlow's defaults and the
:func:`~tfthreads.recommend.recommend` settings, then walks to neighbouring settings
(intra-op halved, doubled, one up or down; inter-op one up or down) while a neighbour is
better by more than the measurement noise, until the budget of measurements is spent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfthreads.errors import SettingError
from tfthreads.recommend import Recommendation, recommend
from tfthreads.settings import ThreadSettings
from tfthreads.sweep import SweepResult, sweep
from tfthreads.topology import topology
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["TuneResult", "tune"]


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    best : ThreadSettings
        The best settings measured.
    goal : str
        ``"latency"`` (lowest median time per step) or ``"throughput"``.
    recommendation : Recommendation
        The rule-based starting point.
    tried : SweepResult
        Every setting measured, in the order tried.
    best_row, default_row : dict
        The rows of the best settings and of TensorFlow's defaults (0, 0).
    """

    best: ThreadSettings
    goal: str
    recommendation: Recommendation
    tried: SweepResult
    best_row: dict[str, Any]
    default_row: dict[str, Any] | None

    @property
    def speedup_over_default(self) -> float | None:
        """How much better the best is than the defaults (above 1 means better)."""
        if self.default_row is None:
            return None
        if self.goal == "latency":
            return float(self.default_row["median_ms"] / self.best_row["median_ms"])
        return float(self.best_row["throughput"] / self.default_row["throughput"])

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary with every row tried."""
        return {
            "goal": self.goal,
            "intra_op_parallelism_threads": self.best.intra_op,
            "inter_op_parallelism_threads": self.best.inter_op,
            "speedup_over_default": self.speedup_over_default,
            "recommendation": self.recommendation.as_dict(),
            "best": self.best_row,
            "default": self.default_row,
            "tried": self.tried.rows,
        }


def _score(row: Mapping[str, Any], goal: str) -> float:
    """Lower is better for both goals."""
    if row.get("status") != "ok":
        return math.inf
    return float(row["median_ms"]) if goal == "latency" else -float(row["throughput"])


def _noise(row: Mapping[str, Any], goal: str) -> float:
    """Half the relative IQR of a row's wall times, at least 1 %: what counts as no change."""
    relative = float(row["iqr_ms"]) / float(row["median_ms"]) if row.get("median_ms") else 0.0
    return max(0.01, relative / 2) * abs(_score(row, goal))


def _neighbours(settings: ThreadSettings, max_threads: int) -> list[ThreadSettings]:
    intra, inter = max(1, settings.intra_op), max(1, settings.inter_op)
    candidates = {
        (intra // 2, inter),
        (intra * 2, inter),
        (intra - 1, inter),
        (intra + 1, inter),
        (intra, inter - 1),
        (intra, inter + 1),
    }
    return [
        ThreadSettings(intra_op=a, inter_op=b)
        for a, b in sorted(candidates)
        if 1 <= a <= max_threads and 1 <= b <= max_threads
    ]


def tune(
    workload: str | WorkloadSpec,
    goal: str = "latency",
    *,
    budget: int = 12,
    processes: int = 1,
    repeats: int = 20,
    warmup: int = 3,
    results: str | os.PathLike[str] | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    timeout: float = 300.0,
    progress: bool | None = None,
) -> TuneResult:
    """Find good thread settings for a workload by measuring from the recommendation.

    Parameters
    ----------
    workload : str or WorkloadSpec
        What to tune for (see :func:`tfthreads.workloads.parse_workload`).
    goal : {"latency", "throughput"}
        Minimise the median time per step, or maximise items per second.
    budget : int
        Most settings to measure, the defaults and the recommendation included.
    processes : int
        Worker processes sharing the CPUs; settings are per process.
    repeats, warmup, env, cpus, timeout, progress
        As for :func:`tfthreads.sweep.sweep`.
    results : path-like, optional
        JSON-lines file for every measurement (resumable, as for a sweep).

    Returns
    -------
    TuneResult
        The best settings, the recommendation and every row tried.
    """
    spec = parse_workload(workload)
    if isinstance(budget, bool) or not isinstance(budget, int) or not 2 <= budget <= 1000:
        raise SettingError(f"budget: got {budget!r}; expected a whole number from 2 to 1000")
    advice = recommend(goal, processes=processes, topology=None)
    max_threads = topology().affinity_cpus
    common: dict[str, Any] = {
        "results": results,
        "repeats": repeats,
        "warmup": warmup,
        "processes": processes,
        "env": env,
        "cpus": cpus,
        "timeout": timeout,
        "progress": progress,
    }
    tried: dict[ThreadSettings, dict[str, Any]] = {}

    def run(candidates: list[ThreadSettings]) -> None:
        fresh = [c for c in candidates if c not in tried][: budget - len(tried)]
        if fresh:
            for settings, row in zip(fresh, sweep(spec, fresh, **common).rows, strict=True):
                tried[settings] = row

    default = ThreadSettings()
    run([default, advice.settings])
    current = advice.settings
    while len(tried) < budget:
        run(_neighbours(current, max_threads))
        best = min(tried, key=lambda s: _score(tried[s], goal))
        better = _score(tried[best], goal) < _score(tried[current], goal) - _noise(
            tried[current], goal
        )
        if not better or best == current:
            break
        current = best
    best = min(tried, key=lambda s: _score(tried[s], goal))
    if _score(tried[best], goal) == math.inf:
        raise SettingError(
            f"tune: every measurement of {spec.name!r} failed; first error: "
            f"{next(iter(tried.values())).get('error', 'unknown')}"
        )
    return TuneResult(
        best=best,
        goal=goal,
        recommendation=advice,
        tried=SweepResult(rows=list(tried.values())),
        best_row=tried[best],
        default_row=tried.get(default),
    )
