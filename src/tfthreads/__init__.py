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
from tfthreads.probe import PoolObservation, observe_pools
from tfthreads.provenance import provenance
from tfthreads.settings import PoolOption, ResolvedPools, ThreadSettings, resolve_pools
from tfthreads.topology import Topology, topology

__all__ = [
    "CATALOG",
    "Kind",
    "PoolObservation",
    "PoolOption",
    "ResolvedPools",
    "Setting",
    "SettingError",
    "TFThreadsError",
    "TensorFlowUnavailableError",
    "ThreadInventory",
    "ThreadSettings",
    "TooLateError",
    "Topology",
    "UnsupportedPlatformError",
    "__version__",
    "inventory",
    "observe_pools",
    "provenance",
    "resolve_pools",
    "topology",
]
