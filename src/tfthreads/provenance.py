"""Where a measurement was taken: the machine, its CPU budget and the software.

Every number tfthreads shows comes with this record, because thread settings mean
different things on different machines. It is read without importing TensorFlow.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

from tfthreads._version import __version__
from tfthreads.topology import topology

__all__ = [
    "TENSORFLOW_DISTRIBUTIONS",
    "cpu_model",
    "describe_machine",
    "installed_tensorflow_version",
    "machine_fingerprint",
    "onednn_cpu_flags",
    "provenance",
]

#: The distributions that install the ``tensorflow`` package, in the order they are looked
#: up: the doctor, the provenance record and the documentation read the version from these.
TENSORFLOW_DISTRIBUTIONS = (
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-intel",
    "intel-tensorflow",
    "tf-nightly",
    "tf-nightly-cpu",
)

#: CPU flags that decide whether TensorFlow turns oneDNN on by default on Linux x86.
_ONEDNN_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    """Return the CPU's model name, or the platform's processor string off Linux.

    Examples
    --------
    >>> isinstance(cpu_model(), str)
    True
    """
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def onednn_cpu_flags() -> list[str]:
    """Return the CPU features, among those that decide TensorFlow's oneDNN default, present here."""
    for line in _cpuinfo().splitlines():
        if line.startswith(("flags", "Features")):
            flags = set(line.split(":", 1)[1].split())
            return [flag for flag in _ONEDNN_FLAGS if flag in flags]
    return []


def installed_tensorflow_version() -> str | None:
    """Return the version of the first installed :data:`TENSORFLOW_DISTRIBUTIONS`, without importing it.

    ``None`` when none of them is installed.
    """
    for distribution in TENSORFLOW_DISTRIBUTIONS:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def provenance() -> dict[str, Any]:
    """Describe this machine and software as a JSON-ready dictionary.

    Returns
    -------
    dict
        ``cpu_model``, ``topology`` (see :func:`tfthreads.topology.topology`),
        ``onednn_cpu_flags`` (the CPU features that turn oneDNN on by default),
        ``tensorflow_version``, ``tfthreads_version``, ``python_version``, ``platform``
        and ``date`` (UTC, ISO 8601).

    Examples
    --------
    >>> record = provenance()
    >>> record["topology"]["cpu_budget"] > 0
    True
    """
    return {
        "cpu_model": cpu_model(),
        "topology": topology().as_dict(),
        "onednn_cpu_flags": onednn_cpu_flags(),
        "tensorflow_version": installed_tensorflow_version(),
        "tfthreads_version": __version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def describe_machine(record: dict[str, Any] | None = None, *, sep: str = "; ") -> str:
    r"""Describe the machine, for the top of a page of measurements.

    Parameters
    ----------
    record : dict, optional
        A :func:`provenance` record; this machine's by default.
    sep : str
        Between the parts (CPU, topology and budget, software): ``"\\n"`` for lines.

    Examples
    --------
    >>> "TensorFlow" in describe_machine()
    True
    """
    record = record or provenance()
    topo = record["topology"]
    quota = topo["quota_cpus"]
    parts = [
        record["cpu_model"],
        (
            f"{topo['logical_cpus']} logical CPUs, {topo['affinity_cpus']} in the affinity mask, "
            f"cgroup CPU quota {'none' if quota is None else f'{quota:g} CPUs'}, "
            f"CPU budget {topo['cpu_budget']:g}"
        ),
        (
            f"TensorFlow {record['tensorflow_version']}, Python {record['python_version']}, "
            f"{record['platform']}"
        ),
    ]
    return sep.join(parts)


def machine_fingerprint() -> str:
    """Hash what measurements depend on: CPU, affinity, quota and software versions.

    The documentation build re-runs the gallery when this changes, since sphinx-gallery
    on its own only re-runs an example when its source changes. tfthreads' own version
    is left out: it comes from git and changes with every commit and every edit, and a
    probe's cache key and an example already change with their own source.

    Examples
    --------
    >>> len(machine_fingerprint())
    16
    """
    record = provenance()
    del record["date"], record["tfthreads_version"]
    text = json.dumps(record, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
