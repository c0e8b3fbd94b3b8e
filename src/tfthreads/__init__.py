"""tfthreads: TensorFlow CPU parallelism, documented and measured.

The package never imports TensorFlow at import time: the thread pools are fixed once per
process, so importing ``tfthreads`` must not start or configure anything.

Examples
--------
>>> import tfthreads
>>> tfthreads.ThreadSettings(intra_op=2).to_env()
{'TF_NUM_INTRAOP_THREADS': '2'}
"""

from __future__ import annotations

from tfthreads._version import __version__
from tfthreads.catalog import CATALOG, Kind, Setting
from tfthreads.errors import (
    SettingError,
    TensorFlowUnavailableError,
    TFThreadsError,
    TooLateError,
    UnsupportedPlatformError,
)
from tfthreads.inventory import ThreadInventory, inventory
from tfthreads.measure import Measurement, measure, measure_many
from tfthreads.probe import PoolObservation, observe_pools
from tfthreads.provenance import provenance
from tfthreads.recommend import Recommendation, recommend
from tfthreads.settings import PoolOption, ResolvedPools, ThreadSettings, resolve_pools
from tfthreads.sweep import SweepResult, grid, sweep
from tfthreads.topology import Topology, topology
from tfthreads.tune import TuneResult, tune
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = [
    "CATALOG",
    "Kind",
    "Measurement",
    "PoolObservation",
    "PoolOption",
    "Recommendation",
    "ResolvedPools",
    "Setting",
    "SettingError",
    "SweepResult",
    "TFThreadsError",
    "TensorFlowUnavailableError",
    "ThreadInventory",
    "ThreadSettings",
    "TooLateError",
    "Topology",
    "TuneResult",
    "UnsupportedPlatformError",
    "WorkloadSpec",
    "__version__",
    "grid",
    "inventory",
    "measure",
    "measure_many",
    "observe_pools",
    "parse_workload",
    "provenance",
    "recommend",
    "resolve_pools",
    "sweep",
    "topology",
    "tune",
]
