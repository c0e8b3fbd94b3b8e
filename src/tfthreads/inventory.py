"""Thread inventory: the threads of a process, grouped by name, from ``/proc``.

TensorFlow 2.21 names its inter-op threads ``tf_Compute``, while the threads of the
intra-op Eigen pool keep the name of the thread that created them (usually ``python``):
the name TensorFlow gives that pool is longer than the 15 characters Linux allows for a
thread name, so setting it fails and the inherited name stays.
Threads that cannot be told apart by name can be told apart by difference: take an
inventory before the runtime starts and one after, and compare them with :func:`diff`.
TensorFlow 2.16 to 2.20 name no thread at all; there :func:`pool_counts` tells the pools
apart by what their threads run (:mod:`tfthreads.pool_identity`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfthreads.errors import UnsupportedPlatformError

__all__ = [
    "ThreadGroup",
    "ThreadInfo",
    "ThreadInventory",
    "classify",
    "count_pools",
    "diff",
    "inventory",
    "pool_counts",
]

#: Thread-name prefixes TensorFlow uses, and what each pool is.
#: Longer prefixes come first so that the most specific one wins.
_KNOWN_PREFIXES: tuple[tuple[str, str], ...] = (
    ("tf_Compute", "inter-op pool"),
    ("tf_numa_", "intra-op pool (Eigen)"),
    ("tf_data_private", "tf.data private pool"),
    ("tf_data_", "tf.data"),
    ("tf_graph_runner", "graph runner"),
    ("tf_gpu_", "GPU host threads"),
    ("tf_", "other TensorFlow"),
)

#: The scheduler states of /proc/<pid>/task/<tid>/stat, in words.
_STATES = {
    "R": "running",
    "S": "sleeping",
    "D": "disk sleep",
    "T": "stopped",
    "t": "tracing stop",
    "Z": "zombie",
    "X": "dead",
    "I": "idle",
}


def classify(name: str) -> str:
    """Say which TensorFlow pool a thread name belongs to.

    Parameters
    ----------
    name : str
        A thread name as Linux reports it (at most 15 characters).

    Returns
    -------
    str
        The pool, or ``"unnamed"`` for a name TensorFlow did not set: such threads
        include the intra-op pool of recent releases, which can only be counted by
        difference.

    Examples
    --------
    >>> classify("tf_Compute")
    'inter-op pool'
    >>> classify("python")
    'unnamed'
    """
    for prefix, pool in _KNOWN_PREFIXES:
        if name.startswith(prefix):
            return pool
    return "unnamed"


@dataclass(frozen=True)
class ThreadInfo:
    """One thread of a process.

    Attributes
    ----------
    tid : int
        The thread id.
    name : str
        The thread name (``comm``), at most 15 characters.
    state : str
        The scheduler state in words, for example ``"sleeping"``.
    cpu_seconds : float
        User plus system CPU time the thread has used: to the nanosecond from
        ``/proc/.../schedstat`` where the kernel has it, else in clock ticks from ``stat``.
    """

    tid: int
    name: str
    state: str
    cpu_seconds: float


@dataclass(frozen=True)
class ThreadGroup:
    """Threads that share a name.

    Attributes
    ----------
    name : str
        The shared thread name.
    pool : str
        What :func:`classify` says the name belongs to.
    count : int
        How many threads have the name.
    active : int
        How many of them have used any CPU time.
    cpu_seconds : float
        Their CPU time, added up.
    states : dict
        How many are in each scheduler state.
    """

    name: str
    pool: str
    count: int
    active: int
    cpu_seconds: float
    states: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ThreadInventory:
    """The threads of one process at one moment.

    Attributes
    ----------
    pid : int
        The process id.
    threads : tuple of ThreadInfo
        Every thread that could be read, ordered by thread id.
    """

    pid: int
    threads: tuple[ThreadInfo, ...]

    @property
    def count(self) -> int:
        """Number of threads."""
        return len(self.threads)

    def counts(self) -> Counter[str]:
        """Count threads by name."""
        return Counter(thread.name for thread in self.threads)

    def groups(self) -> list[ThreadGroup]:
        """Group the threads by name, largest group first."""
        by_name: dict[str, list[ThreadInfo]] = {}
        for thread in self.threads:
            by_name.setdefault(thread.name, []).append(thread)
        groups = [
            ThreadGroup(
                name=name,
                pool=classify(name),
                count=len(members),
                active=sum(1 for member in members if member.cpu_seconds > 0),
                cpu_seconds=sum(member.cpu_seconds for member in members),
                states=dict(Counter(member.state for member in members)),
            )
            for name, members in by_name.items()
        ]
        return sorted(groups, key=lambda group: (-group.count, group.name))

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary: the pid, the total and one entry per group."""
        return {
            "pid": self.pid,
            "count": self.count,
            "groups": [
                {
                    "name": group.name,
                    "pool": group.pool,
                    "count": group.count,
                    "active": group.active,
                    "cpu_seconds": round(group.cpu_seconds, 3),
                    "states": group.states,
                }
                for group in self.groups()
            ],
        }


def diff(before: ThreadInventory, after: ThreadInventory) -> dict[str, int]:
    """Count the threads that appeared between two inventories, by name.

    Threads are matched by thread id, so a thread that ended and another that started
    under the same name are both counted correctly.

    Parameters
    ----------
    before, after : ThreadInventory
        Two inventories of the same process.

    Returns
    -------
    dict
        Names of new threads and how many of each appeared, largest first.

    Examples
    --------
    >>> a = ThreadInventory(1, (ThreadInfo(1, "python", "running", 0.1),))
    >>> b = ThreadInventory(1, a.threads + (ThreadInfo(2, "tf_Compute", "sleeping", 0.0),))
    >>> diff(a, b)
    {'tf_Compute': 1}
    """
    if before.pid != after.pid:
        raise ValueError(
            f"diff: inventories come from different processes ({before.pid} and {after.pid})"
        )
    old = {thread.tid for thread in before.threads}
    new = Counter(thread.name for thread in after.threads if thread.tid not in old)
    return dict(new.most_common())


def count_pools(new_threads: Mapping[str, int]) -> dict[str, int]:
    """Count the pool threads among threads that appeared when the runtime started.

    Inter-op threads are counted by name (``tf_Compute``); intra-op threads keep their
    creator's name, so they are the unnamed threads that appeared. Count before any
    ``tf.data`` iterator exists: every iterator's private pool (one per CPU by default)
    is unnamed too and would be counted as intra-op.

    Examples
    --------
    >>> count_pools({"python": 2, "tf_Compute": 2, "tf_graph_runner": 1})
    {'intra_op': 2, 'inter_op': 2}
    """
    pools = {"intra_op": 0, "inter_op": 0}
    for name, count in new_threads.items():
        pool = classify(name)
        if pool == "unnamed":
            pools["intra_op"] += int(count)
        elif pool == "inter-op pool":
            pools["inter_op"] += int(count)
    return pools


def pool_counts(
    before: ThreadInventory, after: ThreadInventory | None = None, *, session: Any = None
) -> dict[str, Any]:
    """Count the pool threads that appeared between two inventories of this process.

    The one way pages, examples and tests count pools: by name where this TensorFlow
    names its threads (:func:`count_pools` of :func:`diff`), else by what the threads
    run (:func:`tfthreads.pool_identity.identify_pools`, which exercises the pools).

    Parameters
    ----------
    before : ThreadInventory
        Taken before the runtime started (before the first op, or before ``import``).
    after : ThreadInventory, optional
        Taken after; a fresh :func:`inventory` by default.
    session : optional
        A ``tf.compat.v1.Session``: where names do not tell, exercise this session's
        pools instead of the eager context's (for threads a session created).

    Returns
    -------
    dict
        ``{"intra_op": n, "inter_op": m}``; both values are the text
        ``"not decided on this machine: ..."`` when the threads could not be told apart.

    Examples
    --------
    >>> a = ThreadInventory(1, (ThreadInfo(1, "python", "running", 0.1),))
    >>> b = ThreadInventory(1, a.threads + (ThreadInfo(2, "tf_Compute", "sleeping", 0.0),))
    >>> pool_counts(a, b)
    {'intra_op': 0, 'inter_op': 1}
    """
    from tfthreads.pool_identity import identify_pools  # it needs this module

    return identify_pools(before, after, session=session).counts()


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _read_thread(task_dir: Path, ticks: int) -> ThreadInfo | None:
    try:
        name = (task_dir / "comm").read_text().rstrip("\n")
        stat = (task_dir / "stat").read_text()
    except OSError:
        return None  # the thread ended while we were reading; it is simply not listed
    # The name in stat is in parentheses and may hold spaces or ')'; fields follow the
    # last ')'. Field 3 is the state, fields 14 and 15 are utime and stime in ticks.
    rest = stat[stat.rfind(")") + 2 :].split()
    state = _STATES.get(rest[0], rest[0])
    cpu_seconds = _schedstat_seconds(task_dir)
    if cpu_seconds is None:
        cpu_seconds = (int(rest[11]) + int(rest[12])) / ticks
    return ThreadInfo(tid=int(task_dir.name), name=name, state=state, cpu_seconds=cpu_seconds)


def _schedstat_seconds(task_dir: Path) -> float | None:
    """CPU seconds of one thread from ``schedstat`` (nanoseconds), or ``None`` without it.

    ``stat`` counts in clock ticks (10 ms on most kernels): over a timed loop of tens of
    milliseconds, a thread that worked for 8 ms can show no CPU time there at all, which
    once made a process that kept 1.8 CPUs busy report a single thread that used CPU.
    """
    try:
        return int((task_dir / "schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def inventory(pid: int | None = None, *, proc: str | os.PathLike[str] = "/proc") -> ThreadInventory:
    """List the threads of a process, from ``/proc/<pid>/task``.

    Parameters
    ----------
    pid : int, optional
        The process to inspect; this process by default.
    proc : path-like, optional
        Where the proc file system is mounted (a test can point it at a fake tree).

    Returns
    -------
    ThreadInventory
        The threads, with name, state and CPU time.

    Raises
    ------
    UnsupportedPlatformError
        When there is no ``/proc`` file system (not Linux).
    ProcessLookupError
        When no process has that pid.

    Examples
    --------
    >>> threads = inventory()
    >>> threads.count >= 1
    True
    """
    proc_root = Path(proc)
    target = os.getpid() if pid is None else pid
    if not (proc_root / "self").exists() and not (proc_root / str(target)).exists():
        raise UnsupportedPlatformError(
            f"inventory: {proc_root} is not a proc file system; thread inventories need Linux"
        )
    task_root = proc_root / str(target) / "task"
    try:
        task_dirs = sorted(task_root.iterdir(), key=lambda path: int(path.name))
    except FileNotFoundError:
        raise ProcessLookupError(f"inventory: no process with pid {target}") from None
    ticks = _clock_ticks()
    threads = tuple(
        info for task_dir in task_dirs if (info := _read_thread(task_dir, ticks)) is not None
    )
    return ThreadInventory(pid=target, threads=threads)
