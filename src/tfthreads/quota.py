"""Temporary cgroups with a CPU quota, to measure what a container limit does.

``docker --cpus`` and Kubernetes CPU limits are CFS quotas: the processes may run on every
CPU of the affinity mask but only for a share of the time. :func:`cpu_quota` creates such
a group where the machine allows it (root, a writable cgroup file system with the ``cpu``
controller); worker processes join it before they import TensorFlow when
:func:`tfthreads.measure.measure` is given ``cgroup=``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tfthreads.errors import SettingError, UnsupportedPlatformError

__all__ = ["cpu_quota", "join_cgroup"]

_counter = itertools.count()


def _v1_cpu_root(root: Path) -> Path | None:
    for name in ("cpu", "cpu,cpuacct"):
        if (root / name / "cpu.cfs_quota_us").exists():
            return root / name
    return None


def _create(root: Path, cpus: float, period_us: int) -> Path:
    quota_us = max(1000, round(cpus * period_us))
    name = f"tfthreads-{os.getpid()}-{next(_counter)}"
    if (root / "cgroup.controllers").exists():  # cgroup v2
        if "cpu" not in (root / "cgroup.subtree_control").read_text().split():
            (root / "cgroup.subtree_control").write_text("+cpu")
        group = root / name
        group.mkdir()
        (group / "cpu.max").write_text(f"{quota_us} {period_us}")
        return group
    v1 = _v1_cpu_root(root)
    if v1 is None:
        raise FileNotFoundError(f"no cpu controller under {root}")
    group = v1 / name
    group.mkdir()
    (group / "cpu.cfs_period_us").write_text(str(period_us))
    (group / "cpu.cfs_quota_us").write_text(str(quota_us))
    return group


@contextlib.contextmanager
def cpu_quota(
    cpus: float, *, root: str | os.PathLike[str] = "/sys/fs/cgroup", period_us: int = 100_000
) -> Iterator[Path]:
    """Create a cgroup limited to ``cpus`` CPUs' worth of time, and remove it afterwards.

    Parameters
    ----------
    cpus : float
        The quota in CPUs, as ``docker --cpus`` takes it (``1.5`` is one and a half).
    root : path-like
        Where the cgroup file system is mounted.
    period_us : int
        The CFS period in microseconds (Docker uses 100000).

    Yields
    ------
    Path
        The cgroup's folder; pass it as ``cgroup=`` to :func:`tfthreads.measure.measure`.

    Raises
    ------
    SettingError
        For a quota that is not a positive number.
    UnsupportedPlatformError
        When this machine does not let this process create the group (not root, no
        writable cgroup file system, no ``cpu`` controller); the message says which.
    """
    if isinstance(cpus, bool) or not isinstance(cpus, int | float) or not 0.01 <= cpus <= 4096:
        raise SettingError(f"cpus: got {cpus!r}; expected a number of CPUs from 0.01 to 4096")
    try:
        group = _create(Path(root), float(cpus), period_us)
    except OSError as error:
        raise UnsupportedPlatformError(
            f"cannot create a cgroup with a CPU quota under {root}: "
            f"{error.strerror or error} (needs root and a writable cgroup file system)"
        ) from None
    try:
        yield group
    finally:
        # The kernel refuses to remove a group until its exited members are reaped.
        for _ in range(50):
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.05)


def join_cgroup(group: str | os.PathLike[str]) -> None:
    """Move this process into ``group`` (called by workers before importing TensorFlow)."""
    (Path(group) / "cgroup.procs").write_text(str(os.getpid()))
