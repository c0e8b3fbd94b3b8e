"""The key of a measurement: everything that shapes its result, hashed.

A results file answers for a measurement with a row of the same key
(:func:`result_key`), so ``tfthreads sweep --output`` and ``tfthreads tune --output``
resume with it; each row also stores its :func:`measurement_conditions`, so that
``tfthreads report`` compares only rows measured under the same conditions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from tfthreads.options import MeasureOptions
from tfthreads.process import child_environment
from tfthreads.provenance import installed_tensorflow_version
from tfthreads.results_file import fingerprint
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import WorkloadSpec

__all__ = ["measurement_conditions", "result_key"]

#: Environment variables that shape a measurement: TensorFlow's, OpenMP's (GNU and
#: Intel) and every library's thread count. They are part of :func:`result_key`.
_SHAPING = re.compile(r"^(TF_|OMP_|KMP_|GOMP_|MKL_|DNNL_|ONEDNN_)|_NUM_THREADS$")


def measurement_conditions(workload: WorkloadSpec, options: MeasureOptions) -> dict[str, Any]:
    """Return everything that shapes a measurement except its thread settings.

    These are the workload (its parameters and input shape, and the content of a model
    file or of a user module), the repeats, warm-up and processes, every environment
    change the options make, the installed TensorFlow, and what the measuring process
    inherits: its affinity mask (``cpus``, or the caller's own mask), the cgroup it joins
    and the CPU quota over the caller, and every ``TF_*``, ``OMP_*``, ``KMP_*``,
    ``GOMP_*``, ``MKL_*``, ``DNNL_*``/``ONEDNN_*`` and ``*_NUM_THREADS`` variable of its
    environment (the caller's, with the options' changes). Results files store them
    with each row, so ``tfthreads report`` compares only rows measured under the same
    conditions.
    """
    environment = child_environment(options.env)
    inherited = topology(affinity=options.cpus)
    return {
        "workload": workload.fingerprint(),
        "repeats": options.repeats,
        "warmup": options.warmup,
        "processes": options.processes,
        "env": dict(options.env),  # what the caller set for the measurement, all of it
        "variables": {k: v for k, v in sorted(environment.items()) if _SHAPING.search(k)},
        "affinity": list(inherited.affinity),
        "quota_cpus": inherited.quota_cpus,
        "cgroup": None if options.cgroup is None else os.fspath(options.cgroup),
        "tensorflow": installed_tensorflow_version(),
    }


def result_key(
    workload: WorkloadSpec,
    settings: ThreadSettings,
    options: MeasureOptions,
    conditions: Mapping[str, Any] | None = None,
) -> str:
    """Return the key of a measurement: a hash of everything that shapes its result.

    Two measurements with the same key would measure the same thing, so a results file
    may answer for one with the other (``--output`` resumes with it). The key covers the
    settings and :func:`measurement_conditions` (pass them as ``conditions`` when they
    are already computed). A row measured under ``taskset -c 0`` or with
    ``TF_ENABLE_ONEDNN_OPTS=0`` is therefore never reused for a run without them.
    """
    if conditions is None:
        conditions = measurement_conditions(workload, options)
    return fingerprint({**conditions, "settings": settings.describe()})
