"""Results built by hand, for tests of the code that reads them (no TensorFlow involved)."""

from __future__ import annotations

from tfthreads.results import Measurement, ProcessResult
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload


def measured(settings: ThreadSettings, median: float, spread: float = 0.05) -> Measurement:
    """Return a one-process ``matmul`` measurement whose step times centre on ``median``."""
    times = (median * (1 - spread), median, median * (1 + spread))
    return Measurement(
        workload=parse_workload("matmul"),
        settings=settings,
        env={},
        unit="matmul",
        items_per_step=1.0,
        flops_per_step=0.0,
        processes=(ProcessResult(times, times, 3, 2),),
        configured={"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        observed_pools={"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        provenance={},
    )
