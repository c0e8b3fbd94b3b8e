"""The CPUs this process may use, and the CPU time it can really get.

TensorFlow sizes both of its thread pools (intra-op and inter-op) from the affinity mask,
through ``tsl::port::NumSchedulableCPUs()`` (``sched_getaffinity``), and ignores the
cgroup CPU quota. In a container limited to 2 CPUs on a 64-core host it therefore starts
64 threads per pool. :func:`topology` reads both and reports the budget that actually
applies, ``min(affinity, quota)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from tfthreads._cgroup import CgroupQuota, find_cpuset, find_quota, parse_cpu_list

__all__ = ["CgroupQuota", "Topology", "topology"]


def _plural(count: int | None, noun: str, unknown: str) -> str:
    if count is None:
        return unknown
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Topology:
    """CPU topology and CPU budget of one process.

    Attributes
    ----------
    logical_cpus : int
        CPUs online on the machine.
    affinity : tuple of int
        Sorted ids of the CPUs in the process's affinity mask.
    physical_cores : int or None
        Distinct physical cores among the online CPUs; ``None`` if unknown.
    sockets : int or None
        Distinct CPU packages; ``None`` if unknown.
    numa_nodes : int or None
        NUMA nodes; ``None`` if the system does not expose them.
    smt : bool or None
        Whether a core runs more than one hardware thread; ``None`` if unknown.
    quota : CgroupQuota or None
        The tightest cgroup CPU quota on the path to the hierarchy root; ``None`` if no
        quota file could be read.
    cpuset : tuple of int or None
        The CPUs of the process's cpuset cgroup, if readable.
    """

    logical_cpus: int
    affinity: tuple[int, ...]
    physical_cores: int | None
    sockets: int | None
    numa_nodes: int | None
    smt: bool | None
    quota: CgroupQuota | None
    cpuset: tuple[int, ...] | None

    @property
    def affinity_cpus(self) -> int:
        """Number of CPUs in the affinity mask."""
        return len(self.affinity)

    @property
    def quota_cpus(self) -> float | None:
        """CPUs' worth of time the cgroup quota allows, ``None`` if unlimited or unknown."""
        return None if self.quota is None else self.quota.cpus

    @property
    def cpu_budget(self) -> float:
        """The CPUs' worth of time this process can actually get, ``min(affinity, quota)``."""
        quota = self.quota_cpus
        return float(self.affinity_cpus) if quota is None else min(self.affinity_cpus, quota)

    @property
    def tensorflow_default_threads(self) -> int:
        """The threads TensorFlow gives each pool when its setting is 0 (the affinity count)."""
        return self.affinity_cpus

    @property
    def oversubscribed(self) -> bool:
        """Whether TensorFlow's default pool size exceeds :attr:`cpu_budget`."""
        return self.tensorflow_default_threads > self.cpu_budget

    def describe(self) -> str:
        """Summarize the topology and budget in one line."""
        smt = {None: "SMT unknown", True: "SMT", False: "no SMT"}[self.smt]
        if self.quota is None:
            quota = "cgroup quota: not found"
        elif self.quota.cpus is None:
            quota = f"cgroup v{self.quota.version} quota: none"
        else:
            quota = (
                f"cgroup v{self.quota.version} quota: {_number(self.quota.cpus)} CPUs"
                f" ({self.quota.quota_us}/{self.quota.period_us} us)"
            )
        parts = [
            f"{_plural(self.logical_cpus, 'logical CPU', '')} ({self.affinity_cpus} in affinity mask)",
            _plural(self.sockets, "socket", "sockets unknown"),
            _plural(self.physical_cores, "physical core", "physical cores unknown"),
            smt,
            _plural(self.numa_nodes, "NUMA node", "NUMA nodes unknown"),
            quota,
        ]
        return ", ".join(parts) + f" -> CPU budget {_number(self.cpu_budget)}"

    def as_dict(self) -> dict[str, object]:
        """Return the fields and derived values as JSON-ready data (lists, not tuples)."""
        quota: dict[str, object] | None = None
        if self.quota is not None:
            quota = {**asdict(self.quota), "cpus": self.quota.cpus}
        return {
            "logical_cpus": self.logical_cpus,
            "affinity": list(self.affinity),
            "physical_cores": self.physical_cores,
            "sockets": self.sockets,
            "numa_nodes": self.numa_nodes,
            "smt": self.smt,
            "quota": quota,
            "cpuset": None if self.cpuset is None else list(self.cpuset),
            "affinity_cpus": self.affinity_cpus,
            "quota_cpus": self.quota_cpus,
            "cpu_budget": self.cpu_budget,
            "tensorflow_default_threads": self.tensorflow_default_threads,
            "oversubscribed": self.oversubscribed,
        }


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def _online_cpus(cpu_dir: Path) -> tuple[int, ...] | None:
    """Online CPU ids from sysfs: the ``online`` list, else the ``cpuN`` directories."""
    text = _read(cpu_dir / "online")
    online = parse_cpu_list(text) if text is not None else None
    if online:
        return online
    try:
        found = [int(p.name[3:]) for p in cpu_dir.iterdir() if re.fullmatch(r"cpu\d+", p.name)]
    except OSError:
        return None
    return tuple(sorted(found)) or None


def _sysfs_cores(
    cpu_dir: Path, online: tuple[int, ...]
) -> tuple[int | None, int | None, bool | None]:
    """Return ``(physical cores, sockets, smt)`` from ``cpuN/topology``; ``None`` = unknown."""
    pairs: set[tuple[int | None, int | None]] = set()
    siblings: set[tuple[int, ...]] = set()
    for cpu in online:
        topo = cpu_dir / f"cpu{cpu}" / "topology"
        pairs.add((_read_int(topo / "physical_package_id"), _read_int(topo / "core_id")))
        text = _read(topo / "thread_siblings_list")
        sibling = parse_cpu_list(text) if text is not None else None
        if sibling:
            siblings.add(sibling)
    packages = {package for package, _ in pairs}
    sockets = None if None in packages else len(packages)
    if sockets is not None and all(core is not None for _, core in pairs):
        cores: int | None = len(pairs)
    else:
        # Without core ids, each distinct sibling set is one core.
        cores = len(siblings) or None
    if siblings:
        smt: bool | None = any(len(s) > 1 for s in siblings)
    else:
        smt = None if cores is None else len(online) > cores
    return cores, sockets, smt


def _numa_nodes(root: Path) -> int | None:
    try:
        nodes = (root / "sys" / "devices" / "system" / "node").iterdir()
        count = sum(1 for p in nodes if re.fullmatch(r"node\d+", p.name))
    except OSError:
        return None
    return count or None


def _affinity(pid: int | None, override: Iterable[int] | None) -> tuple[int, ...]:
    if override is not None:
        cpus = tuple(sorted({int(cpu) for cpu in override}))
        if not cpus or cpus[0] < 0:
            raise ValueError(f"affinity must name at least one CPU id >= 0, got {cpus!r}")
        return cpus
    if hasattr(os, "sched_getaffinity"):
        return tuple(sorted(os.sched_getaffinity(pid or 0)))
    try:  # Windows and some BSDs: psutil knows the mask where os does not.
        return tuple(sorted(psutil.Process(pid).cpu_affinity()))
    except (AttributeError, psutil.Error, OSError):
        return tuple(range(os.cpu_count() or 1))


def topology(
    *,
    root: str | os.PathLike[str] = "/",
    pid: int | None = None,
    affinity: Iterable[int] | None = None,
) -> Topology:
    """Describe the CPUs a process may use and the CPU time it can really get.

    Parameters
    ----------
    root : str or os.PathLike, default "/"
        Filesystem root under which ``proc/`` and ``sys/`` are read; tests point it at a
        fake tree. psutil answers only for the real root.
    pid : int, optional
        Process to describe; the calling process by default.
    affinity : iterable of int, optional
        CPU ids to use instead of the process's real affinity mask.

    Returns
    -------
    Topology
        Counts of CPUs, cores, sockets and NUMA nodes, the affinity mask, the tightest
        cgroup CPU quota and the resulting :attr:`Topology.cpu_budget`. Missing or garbled
        files make the matching field ``None``; nothing is raised for them.

    Raises
    ------
    ValueError
        If ``affinity`` is empty or names a negative CPU id.
    OSError
        If ``pid`` names no process (from ``os.sched_getaffinity``).

    Examples
    --------
    >>> from tfthreads.topology import topology
    >>> topo = topology()
    >>> topo.cpu_budget > 0
    True
    >>> topo.tensorflow_default_threads == len(topo.affinity)
    True
    """
    base = Path(root)
    real = base == Path("/")
    mask = _affinity(pid, affinity)
    cpu_dir = base / "sys" / "devices" / "system" / "cpu"
    online = _online_cpus(cpu_dir)
    cores, sockets, smt = _sysfs_cores(cpu_dir, online) if online else (None, None, None)
    logical = psutil.cpu_count(logical=True) if real else None
    logical = logical or (len(online) if online else None) or os.cpu_count() or len(mask)
    if cores is None and real:
        cores = psutil.cpu_count(logical=False)
        if smt is None and cores:
            smt = logical > cores
    return Topology(
        logical_cpus=logical,
        affinity=mask,
        physical_cores=cores,
        sockets=sockets,
        numa_nodes=_numa_nodes(base),
        smt=smt,
        quota=find_quota(base, pid),
        cpuset=find_cpuset(base, pid),
    )
