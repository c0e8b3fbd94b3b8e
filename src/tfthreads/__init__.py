"""tfthreads: TensorFlow CPU parallelism, documented and measured.

The package never imports TensorFlow at import time: the thread pools are fixed once per
process, so importing ``tfthreads`` must not start or configure anything.

Every submodule is importable as a module (``import tfthreads.measure as m``), and
functions are called through their module: ``tfthreads.measure.measure(...)``,
``tfthreads.topology.topology()``. The package itself also gives the types and errors,
whose names never clash with a module.

Examples
--------
>>> import tfthreads
>>> tfthreads.ThreadSettings(intra_op=2).to_env()
{'TF_NUM_INTRAOP_THREADS': '2'}
>>> tfthreads.topology.topology().cpu_budget > 0
True
"""

from __future__ import annotations

from tfthreads import (
    catalog,
    errors,
    inventory,
    measure,
    options,
    probe,
    provenance,
    recommend,
    results,
    settings,
    sweep,
    topology,
    tune,
    workloads,
)
from tfthreads._version import __version__
from tfthreads.catalog import CATALOG, Kind, Setting
from tfthreads.errors import (
    SettingError,
    TensorFlowUnavailableError,
    TFThreadsError,
    TooLateError,
    UnsupportedPlatformError,
)
from tfthreads.inventory import ThreadInventory
from tfthreads.options import MeasureOptions
from tfthreads.probe import PoolObservation
from tfthreads.recommend import Recommendation
from tfthreads.results import Failure, Measurement
from tfthreads.settings import PoolOption, ResolvedPools, ThreadSettings
from tfthreads.sweep import SweepResult
from tfthreads.topology import Topology
from tfthreads.tune import TuneResult
from tfthreads.workloads import WorkloadSpec

__all__ = [
    "CATALOG",
    "Failure",
    "Kind",
    "MeasureOptions",
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
    "catalog",
    "errors",
    "inventory",
    "measure",
    "options",
    "probe",
    "provenance",
    "recommend",
    "results",
    "settings",
    "sweep",
    "topology",
    "tune",
    "workloads",
]
