"""Tune thread settings by measurement, starting from the recommendation.

Rather than a blind full grid, :func:`tune` measures TensorFlow's defaults and the
:func:`~tfthreads.recommend.recommend` settings, then walks to neighbouring settings
(intra-op halved, doubled, one up or down; inter-op one up or down) while a neighbour is
better by more than the measurement noise, until the budget of measurements is spent.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from tfthreads._checks import WholeNumber
from tfthreads.isolation import WorkerError
from tfthreads.measure import check_workloads
from tfthreads.options import MeasureOptions
from tfthreads.recommend import Recommendation, recommend
from tfthreads.results import Failure, Measurement, Result
from tfthreads.settings import ThreadSettings
from tfthreads.sweep import SweepResult, sweep
from tfthreads.topology import topology
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["BUDGET", "TuneResult", "tune"]

#: How many settings :func:`tune` may measure, the defaults and the recommendation included.
BUDGET = WholeNumber(2, 1000)


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
    best_measurement : tfthreads.results.Measurement
        The measurement of the best settings.
    default_measurement : tfthreads.results.Measurement or None
        The measurement of TensorFlow's defaults (0, 0), if it succeeded.
    """

    best: ThreadSettings
    goal: str
    recommendation: Recommendation
    tried: SweepResult
    best_measurement: Measurement
    default_measurement: Measurement | None

    @property
    def speedup_over_default(self) -> float | None:
        """How much better the best is than the defaults (1 or more, since they were tried)."""
        default, best = self.default_measurement, self.best_measurement
        if default is None:
            return None
        if self.goal == "latency":
            return default.wall.median / best.wall.median
        return best.throughput / default.throughput

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary with every result tried."""
        default = self.default_measurement
        return {
            "goal": self.goal,
            "intra_op_parallelism_threads": self.best.intra_op,
            "inter_op_parallelism_threads": self.best.inter_op,
            "speedup_over_default": self.speedup_over_default,
            "recommendation": self.recommendation.as_dict(),
            "best": self.best_measurement.as_dict(),
            "default": None if default is None else default.as_dict(),
            "tried": [result.as_dict() for result in self.tried.rows],
        }


def _score(result: Result, goal: str) -> float:
    """Lower is better for both goals; a failure is worst."""
    if isinstance(result, Failure):
        return math.inf
    return result.wall.median if goal == "latency" else -result.throughput


def _noise(result: Result, goal: str) -> float:
    """Half the relative IQR of the wall times, at least 1 %: what counts as no change."""
    if isinstance(result, Failure):
        return 0.0
    wall = result.wall
    relative = wall.iqr / wall.median if wall.median else 0.0
    return max(0.01, relative / 2) * abs(_score(result, goal))


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
    options: MeasureOptions | None = None,
    results: str | os.PathLike[str] | None = None,
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
        Most settings to measure, the defaults and the recommendation included (2 to 1000).
    options : tfthreads.options.MeasureOptions, optional
        How to measure each setting; with ``processes=P`` the recommendation is for P
        processes sharing the CPUs, and settings are per process.
    results : path-like, optional
        JSON-lines file for every measurement (resumable, as for a sweep).
    progress : bool, optional
        As for :func:`tfthreads.sweep.sweep`.

    Returns
    -------
    TuneResult
        The best settings, the recommendation and every result tried.
    """
    spec = parse_workload(workload)
    BUDGET.check("budget", budget)
    options = MeasureOptions() if options is None else options
    advice = recommend(goal, processes=options.processes, topology=None)
    max_threads = topology().affinity_cpus
    tried: dict[ThreadSettings, Result] = {}

    check_workloads([spec], options)  # once, not in every sweep below

    def run(candidates: list[ThreadSettings]) -> None:
        fresh = [c for c in candidates if c not in tried][: budget - len(tried)]
        if fresh:
            found = sweep(
                spec, fresh, options=options, results=results, progress=progress, check=False
            )
            tried.update(zip(fresh, found.rows, strict=True))

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
    best_result = tried[best]
    if isinstance(best_result, Failure):
        raise WorkerError(
            f"every measurement of {spec.name!r} failed; first error: {best_result.error}",
            reason=best_result.reason,
        )
    default_result = tried.get(default)
    return TuneResult(
        best=best,
        goal=goal,
        recommendation=advice,
        tried=SweepResult(rows=list(tried.values())),
        best_measurement=best_result,
        default_measurement=default_result if isinstance(default_result, Measurement) else None,
    )
