"""What every probe shares: reading threads and errors, and deciding with a margin.

A probe's yes/no observation about CPU time ("the matmul split over the intra-op pool",
"the inter-op pool stayed idle") is never read from one short run against a fixed number
of CPU seconds: the same work gives a pool more or less time as the machine's other CPUs
are free or busy. :func:`pool_share` runs the work until the process has used enough CPU
time that clock-tick rounding no longer matters, and returns the pool's *share* of it;
:func:`decide` repeats that until two shares agree far from the boundary between the
answers, and otherwise returns a :data:`~tfthreads.catalog.facts.UNDECIDED` text saying
what was seen, which the catalog shows as "not decided on this machine" instead of
failing the build.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tfthreads.catalog.facts import UNDECIDED
from tfthreads.inventory import ThreadInventory, diff, inventory
from tfthreads.pool_identity import identify_pools

__all__ = [
    "UNDECIDED",
    "check_failure",
    "count_new",
    "cpu_count",
    "cpu_of",
    "dataset_matmul_split",
    "decide",
    "error_line",
    "factories",
    "import_tensorflow",
    "numa_nodes",
    "onednn_enabled",
    "pool_share",
    "thread_name",
]

#: A pool that ran the work takes at least this share of the process's CPU time. On the
#: 2-CPU machines this was written on, pools that split a matmul took 0.78 to 0.92 of it,
#: quiet or beside a CPU-burning process, and pools that ran nothing 0.00: the margins
#: on both sides are wide.
SPLIT_SHARE = 0.15
#: A pool that ran none of the work takes at most this share (wake-ups only).
IDLE_SHARE = 0.03
#: CPU seconds of work one share is measured over: 40 clock ticks or more, so rounding
#: to ticks moves a share by a few hundredths at most.
_MIN_CPU = 0.4
#: Wall-clock seconds after which a share is measured over whatever work ran.
_MAX_SECONDS = 10.0


def check_failure(stderr: str) -> str:
    """Return the ``Check failed: ...`` text of a TensorFlow abort, or ``""``."""
    for line in stderr.splitlines():
        if "Check failed:" in line:
            return line[line.index("Check failed:") :].strip()
    return ""


def _thread_cpu(tid: int) -> float | None:
    """CPU seconds of one thread from ``schedstat`` (nanoseconds), or ``None`` without it."""
    try:
        text = Path(f"/proc/self/task/{tid}/schedstat").read_text()
    except OSError:
        return None
    return int(text.split()[0]) / 1e9


def cpu_of(tids: set[int]) -> float:
    """CPU seconds the threads ``tids`` have used (nanosecond ``schedstat`` where it exists)."""
    total = 0.0
    ticks: set[int] = set()
    for tid in tids:
        seconds = _thread_cpu(tid)
        if seconds is None:
            ticks.add(tid)
        else:
            total += seconds
    if ticks:
        total += sum(t.cpu_seconds for t in inventory().threads if t.tid in ticks)
    return total


def pool_share(work: Callable[[], object], pool: set[int]) -> float:
    """Run ``work`` until the process used ``_MIN_CPU`` s; return the pool's share of that time.

    The share is the CPU time the threads ``pool`` gained over the CPU time of the whole
    process (every thread, :func:`time.process_time`) while ``work`` ran.
    """
    process, threads = time.process_time(), cpu_of(pool)
    started = time.perf_counter()
    while True:
        work()
        used = time.process_time() - process
        if used >= _MIN_CPU or time.perf_counter() - started > _MAX_SECONDS:
            break
    return max(0.0, cpu_of(pool) - threads) / max(used, 1e-9)


def decide(
    measure: Callable[[], float],
    what: str,
    *,
    yes_from: float = SPLIT_SHARE,
    no_up_to: float = IDLE_SHARE,
    tries: int = 5,
) -> bool | str:
    """Measure a share up to ``tries`` times until two agree on one side of the margin.

    Parameters
    ----------
    measure : callable
        Returns a share in [0, 1], such as :func:`pool_share`'s.
    what : str
        What the share is of, for the undecided text.
    yes_from, no_up_to : float
        A share of ``yes_from`` or more says yes; ``no_up_to`` or less says no; one
        between the two says nothing.

    Returns
    -------
    bool or str
        ``True`` or ``False`` when two measurements said so and none said the opposite,
        else the text ``"not decided on this machine: ..."`` with every share seen.
    """
    seen: list[float] = []
    for _ in range(tries):
        seen.append(measure())
        yes = sum(share >= yes_from for share in seen)
        no = sum(share <= no_up_to for share in seen)
        if yes and no:
            break
        if yes >= 2 or no >= 2:
            return yes >= 2
    shares = ", ".join(f"{share:.2f}" for share in seen)
    return (
        f"{UNDECIDED}: {what} took {shares} of the process's CPU time "
        f"(it takes part from {yes_from}, is idle up to {no_up_to})"
    )


def error_line(error: str) -> str:
    """``"Type: reason"`` of an error text, skipping TensorFlow's generic first lines."""
    kind, _, message = error.partition(": ")
    for raw in message.splitlines():
        line = raw.strip()
        if line and not line.startswith(("Graph execution error", "Detected at node", "File ")):
            return f"{kind}: {line}"
    return error.strip()


def factories(error: str) -> str:
    """Return the registered factories an error lists, sorted: TensorFlow prints them in hash order.

    Examples
    --------
    >>> factories("... Registered factories are {GRPC_SESSION, DIRECT_SESSION}.")
    '{DIRECT_SESSION, GRPC_SESSION}'
    """
    names = error.rpartition("Registered factories are ")[2].rstrip(".").strip("{}")
    return "{" + ", ".join(sorted(name.strip() for name in names.split(","))) + "}"


def cpu_count() -> int:
    """CPUs in this process's affinity mask."""
    return len(os.sched_getaffinity(0))


def numa_nodes() -> int:
    """NUMA nodes the kernel lists (1 without a node folder)."""
    nodes = Path("/sys/devices/system/node")
    if not nodes.is_dir():
        return 1
    return sum(1 for node in nodes.iterdir() if node.name[4:].isdigit())


def import_tensorflow() -> tuple[Any, str]:
    """Import TensorFlow and return it with what the import wrote to stderr (its logs)."""
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        return tf, captured.read().decode(errors="replace")


def onednn_enabled() -> bool:
    """Whether this TensorFlow process uses oneDNN's kernels."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def thread_name(tid: int, labels: Mapping[int, str] | None = None) -> str:
    """``"caller"`` for the thread that runs the probe, else the thread's name.

    ``labels`` names threads whose pool was told apart by behaviour on a release that
    names no thread (:mod:`tfthreads.pool_identity`): each with the name TensorFlow 2.21
    gives that pool's threads, so that "which pool ran it" reads alike on every release.
    """
    if tid == threading.get_native_id():
        return "caller"
    if labels and tid in labels:
        return labels[tid]
    return next((t.name for t in inventory().threads if t.tid == tid), "gone")


def count_new(before: ThreadInventory, prefix: str = "") -> int:
    """Threads that appeared since ``before`` (only names starting with ``prefix``)."""
    return sum(n for name, n in diff(before, inventory()).items() if name.startswith(prefix))


def dataset_matmul_split(cap: int | None) -> bool | str:
    """Whether matmuls in a dataset function split over the intra-op pool, decided by share.

    ``cap`` is ``tf.data.Options.threading.max_intra_op_parallelism`` (``None``: unset).
    """
    import tensorflow as tf

    before = inventory()
    matrix = tf.random.uniform((1000, 1000))
    float(tf.reduce_sum(tf.matmul(matrix, matrix)))
    pools = identify_pools(before)
    if pools.undecided:
        return pools.undecided
    pool = set(pools.intra_op)
    dataset = tf.data.Dataset.range(6).map(lambda _: tf.reduce_sum(tf.matmul(matrix, matrix)))
    if cap is not None:
        options = tf.data.Options()
        options.threading.max_intra_op_parallelism = cap
        dataset = dataset.with_options(options)

    def iterate() -> None:
        for _ in dataset:
            pass

    return decide(lambda: pool_share(iterate, pool), "the intra-op pool")
