"""Tell TensorFlow's intra-op and inter-op pool threads apart: by name, else by what they run.

TensorFlow 2.21 names its inter-op threads ``tf_Compute`` (the intra-op pool keeps the
inherited name, :mod:`tfthreads.inventory`), so there the names tell the pools apart.
TensorFlow 2.16 to 2.20 name none of their threads: every pool thread is called
``python``, like the thread that started it. There the pools are told apart by what
they run and by the order in which they were created:

1. *Behaviour.* A large matmul is split over the intra-op pool only: the threads that
   gain CPU time while it runs are intra-op threads. A step of many small independent
   ops is dispatched over the inter-op pool only (each op is too small to split): the
   threads that gain CPU time while it runs are inter-op threads. A thread is *active*
   in a phase from :data:`ACTIVE_SHARE` of the process's CPU time, *idle* up to
   :data:`IDLE_SHARE`; on the 2-CPU machine this was written on, active threads took
   0.04 to 0.59 and idle ones 0.000 (2.16.2 and 2.21.0 alike).
2. *Creation order.* When the runtime starts, TensorFlow creates the intra-op pool
   first, then the inter-op pool, then one graph-runner thread, each pool with all its
   threads at once, so thread ids rise block by block. Measured on 2.21.0, where the
   names show it (``python`` x N, then ``tf_Compute`` x M, then ``tf_graph_runner``), and
   on 2.16.2 by the two phases above. Order places the threads that ran nothing: the
   single thread of a 1-thread intra-op pool never runs a matmul (TensorFlow runs it on
   the caller), but it sits before the inter-op block.

So: the new threads before the first inter-op-active thread are the intra-op pool, those
up to the last inter-op-active thread the inter-op pool, later ones are other threads.
A thread that ran the small ops is an inter-op thread even if it also ran part of the
matmul (a session runs each kernel on an inter-op thread, which takes a share of the
split work itself).
The phases are repeated until two rounds give the same split (at most
:data:`ROUNDS`); a share between the two thresholds, an intra-op-active thread after the
inter-op block, no inter-op-active thread at all, or rounds that disagree leave the
pools *not decided*, a valid answer (:data:`~tfthreads.catalog.facts.UNDECIDED`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfthreads.catalog.facts import UNDECIDED
from tfthreads.inventory import ThreadInventory, classify, inventory

__all__ = [
    "ACTIVE_SHARE",
    "IDLE_SHARE",
    "ROUNDS",
    "PoolThreads",
    "identify_pools",
    "independent_ops",
    "names_tell",
    "small_ops",
    "threads_running",
]

#: A thread that ran a phase's work took at least this share of the process's CPU time.
ACTIVE_SHARE = 0.01
#: A thread that ran none of it took at most this share (wake-ups only).
IDLE_SHARE = 0.002
#: Rounds of both phases at most; two that agree decide.
ROUNDS = 4
#: CPU seconds of the process one phase runs for, and its wall-clock limit.
_MIN_CPU = 0.3
_MAX_SECONDS = 10.0
#: Independent small ops in the inter-op phase's step (at least; more with more threads).
_BRANCHES = 32


@dataclass(frozen=True)
class PoolThreads:
    """The new threads of the two pools, and how they were told apart.

    Attributes
    ----------
    intra_op, inter_op : frozenset of int
        Thread ids of each pool's new threads.
    other : frozenset of int
        New threads of neither pool (the graph runner, for example).
    method : str
        ``"names"`` (TensorFlow named its pool threads) or ``"behaviour"``
        (what the threads ran, and the order they were created in).
    undecided : str
        Empty when decided, else ``"not decided on this machine: ..."`` with what was seen.
    """

    intra_op: frozenset[int]
    inter_op: frozenset[int]
    other: frozenset[int] = frozenset()
    method: str = "names"
    undecided: str = ""

    def counts(self) -> dict[str, Any]:
        """``{"intra_op": n, "inter_op": m}``, or the undecided text as both values."""
        if self.undecided:
            return {"intra_op": self.undecided, "inter_op": self.undecided}
        return {"intra_op": len(self.intra_op), "inter_op": len(self.inter_op)}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts, the method and the undecided text."""
        return {**self.counts(), "method": self.method, "undecided": self.undecided}


def names_tell(snapshot: ThreadInventory) -> bool:
    """Whether this TensorFlow names its threads: some thread of the process has a ``tf_`` name.

    Every started runtime has an inter-op pool (eager context or session), named
    ``tf_Compute`` by releases that name threads, so after the first op this is
    ``False`` only on a release that names none.
    """
    return any(classify(thread.name) != "unnamed" for thread in snapshot.threads)


def _by_names(new: list[Any]) -> PoolThreads:
    intra = frozenset(t.tid for t in new if classify(t.name) == "unnamed")
    inter = frozenset(t.tid for t in new if classify(t.name) == "inter-op pool")
    other = frozenset(t.tid for t in new) - intra - inter
    return PoolThreads(intra, inter, other, "names")


def identify_pools(
    before: ThreadInventory,
    after: ThreadInventory | None = None,
    *,
    session: Any = None,
) -> PoolThreads:
    """Tell apart the pool threads that appeared since ``before``, in this process.

    Parameters
    ----------
    before : ThreadInventory
        Taken before the runtime (or the session) started.
    after : ThreadInventory, optional
        Taken after; a fresh :func:`~tfthreads.inventory.inventory` by default.
    session : optional
        A ``tf.compat.v1.Session``: exercise its pools (its graph gets the phases' ops); by default the
        eager context's. Only used where names do not tell.

    Returns
    -------
    PoolThreads
        The threads of each pool; without names, found by the module's rule.

    Examples
    --------
    >>> from tfthreads.inventory import ThreadInfo
    >>> a = ThreadInventory(1, (ThreadInfo(1, "python", "running", 0.1),))
    >>> b = ThreadInventory(1, a.threads + (ThreadInfo(2, "tf_Compute", "sleeping", 0.0),))
    >>> identify_pools(a, b).counts()
    {'intra_op': 0, 'inter_op': 1}
    """
    after = inventory() if after is None else after
    old = {t.tid for t in before.threads}
    new = sorted((t for t in after.threads if t.tid not in old), key=lambda t: t.tid)
    if not new or names_tell(after) or after.pid != before.pid:
        return _by_names(new)
    return _by_behaviour([t.tid for t in new], session)


def _phases(session: Any) -> tuple[Callable[[], object], Callable[[], object]]:
    """Return the intra-op phase's work (a large matmul) and the inter-op phase's (small ops)."""
    import tensorflow as tf

    if session is None:
        matrix = tf.random.uniform((1000, 1000))
        vector = tf.random.uniform((100,))
        independent = tf.function(independent_ops())

        return (
            lambda: float(tf.reduce_sum(tf.matmul(matrix, matrix))),
            lambda: independent(vector),
        )
    with session.graph.as_default():
        matrix = tf.random.uniform((1000, 1000))
        product = tf.reduce_sum(tf.matmul(matrix, matrix))
    return lambda: session.run(product), small_ops(session)


def independent_ops(at_least: int = _BRANCHES) -> Callable[[Any], list[Any]]:
    """Return a function that builds many small independent ops on a tensor.

    Each op is too small to split over the intra-op pool, and none waits for another.
    Called on a tensor in eager mode it runs them one by one; wrapped in
    ``tf.function``, or called inside a session's graph, it builds one graph of
    independent branches, which TensorFlow's executor can spread over the inter-op pool.
    There are ``at_least`` branches (32 by default), or four per thread of the process
    if that is more.
    """
    import tensorflow as tf

    branches = max(at_least, 4 * len(inventory().threads))

    def branches_of(x: Any) -> list[Any]:
        return [tf.reduce_sum(tf.sin(x) * float(i)) for i in range(branches)]

    return branches_of


def small_ops(session: Any, pool: int | None = None) -> Callable[[], object]:
    """Return a step of many small independent ops in ``session``'s graph, run on its ``pool``.

    ``pool`` is the index of one of the session's ``session_inter_op_thread_pool`` pools
    (``RunOptions.inter_op_thread_pool``); ``None`` runs on its default inter-op pool.
    """
    import tensorflow as tf

    with session.graph.as_default():
        small = independent_ops()(tf.random.uniform((100,)))
    if pool is None:
        return lambda: session.run(small)
    options = tf.compat.v1.RunOptions(inter_op_thread_pool=pool)
    return lambda: session.run(small, options=options)


def threads_running(work: Callable[[], object], candidates: Iterable[int]) -> frozenset[int] | str:
    """Return the threads among ``candidates`` that take part in ``work``, decided by share.

    A thread takes part from :data:`ACTIVE_SHARE` of the process's CPU time and not up to
    :data:`IDLE_SHARE`, in any round with no share between the two. A thread of the pool
    may get none of a round's ops (three threads on two CPUs, say), so the pool is the
    threads seen taking part in any such round; it is decided when a round (the second
    at the earliest, at most :data:`ROUNDS`) adds no thread to those seen before, else
    the text ``"not decided on this machine: ..."``. Used for one pool of a session
    where the names do not tell (run ``work`` on that pool only).
    """
    tids = sorted(set(candidates) - {threading.get_native_id()})
    if not tids:
        return frozenset()
    work()
    seen: frozenset[int] = frozenset()
    rounds = 0
    shares: dict[int, float] = {}
    for _ in range(ROUNDS):
        shares = _shares(work, tids)
        if any(IDLE_SHARE < share < ACTIVE_SHARE for share in shares.values()):
            continue
        active = frozenset(tid for tid in tids if shares[tid] >= ACTIVE_SHARE)
        rounds += 1
        if rounds >= 2 and active <= seen:
            return seen
        seen |= active
    last = ", ".join(f"{shares[tid]:.3f}" for tid in tids)
    return (
        f"{UNDECIDED}: the new threads' shares of CPU time in small independent ops on one "
        f"pool were {last} in the last of {ROUNDS} rounds (active from {ACTIVE_SHARE}, idle "
        f"up to {IDLE_SHARE})"
    )


def _shares(work: Callable[[], object], tids: list[int]) -> dict[int, float]:
    """Run ``work`` for ``_MIN_CPU`` s of process CPU; each thread's share of that time."""
    start = {t.tid: t.cpu_seconds for t in inventory().threads}
    process, began = time.process_time(), time.perf_counter()
    while True:
        work()
        used = time.process_time() - process
        if used >= _MIN_CPU or time.perf_counter() - began > _MAX_SECONDS:
            break
    end = {t.tid: t.cpu_seconds for t in inventory().threads}
    return {tid: max(0.0, end.get(tid, 0.0) - start.get(tid, 0.0)) / used for tid in tids}


def _split(
    tids: list[int], intra_shares: Mapping[int, float], inter_shares: Mapping[int, float]
) -> tuple[int, int] | str:
    """Where the inter-op block starts and ends (indexes into ``tids``), or why not known."""

    def seen() -> str:
        return ", ".join(f"{intra_shares[tid]:.3f}/{inter_shares[tid]:.3f}" for tid in tids)

    # A thread that ran the small ops is an inter-op thread even if it also took part in
    # the matmul: a session's step runs the matmul kernel on an inter-op thread, which
    # does a share of the split work itself.
    inter = [i for i, tid in enumerate(tids) if inter_shares[tid] >= ACTIVE_SHARE]
    intra = [
        i for i, tid in enumerate(tids) if intra_shares[tid] >= ACTIVE_SHARE and i not in inter
    ]
    unclear = [
        tid
        for i, tid in enumerate(tids)
        if IDLE_SHARE < inter_shares[tid] < ACTIVE_SHARE
        or (i not in inter and IDLE_SHARE < intra_shares[tid] < ACTIVE_SHARE)
    ]
    what = (
        f"the new threads' shares of CPU time in a matmul/in small independent ops were "
        f"{seen()} (active from {ACTIVE_SHARE}, idle up to {IDLE_SHARE})"
    )
    if unclear:
        return what
    if not inter:
        return f"no new thread ran the small independent ops; {what}"
    if intra and max(intra) > min(inter):
        return f"a thread that split the matmul came after the inter-op pool; {what}"
    return min(inter), max(inter)


def _by_behaviour(tids: list[int], session: Any) -> PoolThreads:
    intra_work, inter_work = _phases(session)
    intra_work()
    inter_work()  # traced and warmed: the rounds measure running, not building
    caller = threading.get_native_id()
    tids = [tid for tid in tids if tid != caller]
    splits: list[tuple[int, int] | str] = []
    for _ in range(ROUNDS):
        splits.append(_split(tids, _shares(intra_work, tids), _shares(inter_work, tids)))
        decided = [s for s in splits if not isinstance(s, str)]
        if len(decided) >= 2 and decided[-1] == decided[-2]:
            start, end = decided[-1]
            return PoolThreads(
                frozenset(tids[:start]),
                frozenset(tids[start : end + 1]),
                frozenset(tids[end + 1 :]),
                "behaviour",
            )
    why = next((s for s in reversed(splits) if isinstance(s, str)), "")
    reason = f"{len(splits)} rounds gave no two equal splits" + (f"; last: {why}" if why else "")
    return PoolThreads(
        frozenset(), frozenset(), frozenset(tids), "behaviour", f"{UNDECIDED}: {reason}"
    )
