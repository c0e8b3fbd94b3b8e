"""Read the CPU quota and cpuset of a process's cgroup (v1 or v2) from cgroupfs.

Private helpers of :mod:`tfthreads.topology`. Every reader takes a ``root`` so that tests
can point it at a fake tree; a file that is missing, unreadable or garbled is skipped,
never raised on, because the answer then is only "unknown".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupQuota", "find_cpuset", "find_quota", "parse_cpu_list"]

# The kernel's default CFS period; used when a v2 cpu.max holds only "max".
_DEFAULT_PERIOD_US = 100_000


@dataclass(frozen=True)
class CgroupQuota:
    """A CFS bandwidth limit read from one cgroup directory.

    Attributes
    ----------
    version : int
        The cgroup version it came from, 1 or 2.
    path : str
        The cgroup directory that was read, as an absolute path under ``root``.
    quota_us : int or None
        CPU time allowed per period in microseconds; ``None`` when unlimited
        (``max`` in v2, ``-1`` in v1).
    period_us : int
        Length of the period in microseconds.
    """

    version: int
    path: str
    quota_us: int | None
    period_us: int

    @property
    def cpus(self) -> float | None:
        """CPUs' worth of time per period (``quota_us / period_us``), ``None`` if unlimited."""
        if self.quota_us is None:
            return None
        return self.quota_us / self.period_us


def parse_cpu_list(text: str) -> tuple[int, ...] | None:
    """Parse a kernel CPU list such as ``"0-3,8,10-11"``; ``None`` if it is garbled."""
    cpus: set[int] = set()
    try:
        for part in text.strip().split(","):
            if not part:
                continue
            lo, sep, hi = part.partition("-")
            first, last = int(lo), int(hi) if sep else int(lo)
            if first < 0 or last < first:
                return None
            cpus.update(range(first, last + 1))
    except ValueError:
        return None
    return tuple(sorted(cpus))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def _memberships(root: Path, pid: int | None) -> list[tuple[list[str], str]]:
    """Return ``(controllers, group path)`` per line of ``/proc/<pid>/cgroup``."""
    text = _read(root / "proc" / ("self" if pid is None else str(pid)) / "cgroup")
    result: list[tuple[list[str], str]] = []
    for line in (text or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:  # "hierarchy-id:controllers:path"
            controllers = [c for c in parts[1].split(",") if c]
            result.append((controllers, parts[2].strip()))
    return result


def _group_dirs(root: Path, controller: str, version: int, pid: int | None) -> list[Path]:
    """Return the process's group directory for ``controller`` and its ancestors.

    The list runs from the group up to the mount root. When the group path does not exist
    under the mount, the mount root itself is the group: inside a container the host's
    path is not mounted and the container's own group sits at the mount root.
    """
    base = root / "sys" / "fs" / "cgroup"
    for controllers, group in _memberships(root, pid):
        if version == 2 and controllers:
            continue
        if version == 1 and controller not in controllers:
            continue
        if version == 2:
            # Hybrid systems mount the unified hierarchy below "unified".
            mounts = [base, base / "unified"]
        else:
            mounts = [base / ",".join(controllers), base / ",".join(sorted(controllers))]
            mounts += [base / c for c in controllers]
        mounts = [m for m in mounts if m.is_dir()]
        # "/.." paths name groups outside this process's cgroup namespace.
        inside = ".." not in Path(group).parts
        for mount in mounts:
            group_dir = mount / group.lstrip("/")
            if inside and group_dir.is_dir():
                dirs = [group_dir]
                while dirs[-1] != mount:
                    dirs.append(dirs[-1].parent)
                return dirs
        if mounts:
            return mounts[:1]
    return []


def _v2_limit(group_dir: Path) -> tuple[int | None, int] | None:
    text = _read(group_dir / "cpu.max")
    if text is None:
        return None
    fields = text.split()
    try:
        if not 1 <= len(fields) <= 2:
            return None
        period = int(fields[1]) if len(fields) == 2 else _DEFAULT_PERIOD_US
        quota = None if fields[0] == "max" else int(fields[0])
    except ValueError:
        return None
    if period <= 0 or (quota is not None and quota <= 0):
        return None
    return quota, period


def _v1_limit(group_dir: Path) -> tuple[int | None, int] | None:
    quota_text = _read(group_dir / "cpu.cfs_quota_us")
    period_text = _read(group_dir / "cpu.cfs_period_us")
    if quota_text is None or period_text is None:
        return None
    try:
        quota, period = int(quota_text), int(period_text)
    except ValueError:
        return None
    if period <= 0 or (quota <= 0 and quota != -1):
        return None
    return (None if quota == -1 else quota), period


def _tightest(root: Path, version: int, dirs: list[Path]) -> CgroupQuota | None:
    reader = _v2_limit if version == 2 else _v1_limit
    best: CgroupQuota | None = None
    for group_dir in dirs:
        limit = reader(group_dir)
        if limit is None:
            continue
        found = CgroupQuota(version, "/" + group_dir.relative_to(root).as_posix(), *limit)
        # An unlimited group only counts when nothing on the path is limited.
        if best is None or (found.cpus or math.inf) < (best.cpus or math.inf):
            best = found
    return best


def find_quota(root: Path, pid: int | None = None) -> CgroupQuota | None:
    """Return the tightest CPU quota between the process's cgroup and the hierarchy root.

    A v1 ``cpu`` controller wins over the unified hierarchy on hybrid systems, since that
    is where the kernel enforces CFS bandwidth there. ``None`` means no quota file could be
    read; a :class:`CgroupQuota` with ``quota_us=None`` means the files say "unlimited".
    """
    quota = _tightest(root, 1, _group_dirs(root, "cpu", 1, pid))
    if quota is None:
        quota = _tightest(root, 2, _group_dirs(root, "cpu", 2, pid))
    return quota


def find_cpuset(root: Path, pid: int | None = None) -> tuple[int, ...] | None:
    """Return the CPUs of the process's cpuset cgroup, or ``None`` if unreadable."""
    candidates = [(d, "cpuset.effective_cpus") for d in _group_dirs(root, "cpuset", 1, pid)[:1]]
    candidates += [(d, "cpuset.cpus.effective") for d in _group_dirs(root, "cpuset", 2, pid)[:1]]
    for group_dir, name in candidates:
        text = _read(group_dir / name)
        cpus = parse_cpu_list(text) if text is not None else None
        if cpus:
            return cpus
    return None
