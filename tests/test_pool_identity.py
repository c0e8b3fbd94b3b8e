"""Telling the intra-op and inter-op pools apart, by name or by what their threads run.

The slow tests run on every release ``nox -s compat`` installs (2.16.2 names no thread,
2.21.0 names its inter-op threads): each starts real TensorFlow in a fresh process.
"""

from __future__ import annotations

import os

import pytest

from tfthreads.inventory import ThreadInfo, ThreadInventory
from tfthreads.pool_identity import ACTIVE_SHARE, _split, identify_pools, names_tell
from tfthreads.probe import observe_pools
from tfthreads.provenance import installed_tensorflow_version
from tfthreads.settings import ThreadSettings

CPUS = len(os.sched_getaffinity(0))
VERSION = installed_tensorflow_version() or "0"
NAMES_EXPECTED = tuple(int(p) for p in VERSION.split(".")[:2]) >= (2, 21)


def _inventory(*names: str) -> ThreadInventory:
    return ThreadInventory(
        1, tuple(ThreadInfo(tid, name, "sleeping", 0.0) for tid, name in enumerate(names, 1))
    )


def test_names_tell_where_some_thread_has_a_tensorflow_name():
    assert names_tell(_inventory("python", "tf_Compute"))
    assert not names_tell(_inventory("python", "python"))


def test_by_name_the_unnamed_new_threads_are_intra_op_and_tf_compute_inter_op():
    before = _inventory("python")
    after = _inventory("python", "python", "python", "tf_Compute", "tf_graph_runner")
    pools = identify_pools(before, after)
    assert pools.method == "names"
    assert (sorted(pools.intra_op), sorted(pools.inter_op), sorted(pools.other)) == (
        [2, 3],
        [4],
        [5],
    )


# Shares of the process's CPU time per thread (tid 1..5, in creation order), in the
# matmul and in the small independent ops, as measured on 2.16.2 with 2 CPUs.
IDLE, BUSY = 0.0, 0.3
TIDS = [1, 2, 3, 4, 5]


def _by_tid(*phases: tuple[float, ...]) -> list[dict[int, float]]:
    return [dict(zip(TIDS, shares, strict=True)) for shares in phases]


@pytest.mark.parametrize(
    ("intra", "inter", "split"),
    [
        # intra-op 2, inter-op 2, graph runner: 2 CPUs, defaults
        ((BUSY, BUSY, IDLE, IDLE, IDLE), (IDLE, IDLE, BUSY, BUSY, IDLE), (2, 3)),
        # a 1-thread intra-op pool never runs the matmul: placed by creation order
        ((IDLE, IDLE, IDLE, IDLE, IDLE), (IDLE, BUSY, IDLE, IDLE, IDLE), (1, 1)),
        # a session's inter-op thread runs the matmul kernel and takes part in it
        ((BUSY, BUSY, BUSY, IDLE, IDLE), (IDLE, IDLE, BUSY, BUSY, IDLE), (2, 3)),
    ],
)
def test_by_behaviour_the_inter_op_block_is_the_threads_that_ran_small_ops(intra, inter, split):
    assert _split(TIDS, *_by_tid(intra, inter)) == split


@pytest.mark.parametrize(
    ("intra", "inter", "why"),
    [
        ((BUSY,) * 5, (IDLE,) * 5, "no new thread ran the small independent ops"),
        ((IDLE, IDLE, IDLE, BUSY, IDLE), (BUSY, IDLE, IDLE, IDLE, IDLE), "came after"),
        ((BUSY, IDLE, IDLE, IDLE, IDLE), (IDLE, ACTIVE_SHARE / 2, BUSY, IDLE, IDLE), "active"),
    ],
)
def test_by_behaviour_what_does_not_fit_the_order_is_not_decided(intra, inter, why):
    seen = _split(TIDS, *_by_tid(intra, inter))
    assert isinstance(seen, str)
    assert why in seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("settings", "cpus", "expected"),
    [
        (ThreadSettings(), None, (CPUS, CPUS)),
        (ThreadSettings(intra_op=3, inter_op=1), None, (3, 1)),
        (ThreadSettings(), [0], (1, 1)),
    ],
)
def test_a_fresh_process_reports_the_pool_sizes_on_this_release(settings, cpus, expected):
    """The doctor's observed column: right on every release, by names or by behaviour."""
    seen = observe_pools(settings, cpus=cpus)
    assert seen.pools_undecided == ""
    assert (seen.observed_intra_op, seen.observed_inter_op) == expected
    assert seen.pools_method == ("names" if NAMES_EXPECTED else "behaviour")


def _session_pools_by_behaviour() -> dict[str, object]:
    """In a fresh process: a session with pools of 1 and of 3 threads, told apart by behaviour."""
    import tensorflow as tf

    from tfthreads.inventory import inventory
    from tfthreads.pool_identity import small_ops, threads_running

    v1 = tf.compat.v1
    config = v1.ConfigProto()
    for size in (1, 3):
        config.session_inter_op_thread_pool.add().num_threads = size
    with tf.Graph().as_default():
        before = inventory()
        session = v1.Session(config=config)
        new = {t.tid for t in inventory().threads} - {t.tid for t in before.threads}
        pools = [threads_running(small_ops(session, k), new) for k in (0, 1)]
        told = identify_pools(before, session=session)
    sizes = [p if isinstance(p, str) else len(p) for p in pools]
    disjoint = not isinstance(pools[0], str) and not isinstance(pools[1], str)
    return {
        "sizes": sizes,
        "disjoint": disjoint and not (pools[0] & pools[1]),
        "intra_op": len(told.intra_op),
        "undecided": told.undecided,
    }


@pytest.mark.slow
def test_each_pool_of_a_session_is_the_threads_that_run_small_ops_on_it():
    """Whatever the release names: the behaviour is the same on 2.16 and 2.21."""
    from tfthreads.process import run_function

    seen = run_function(_session_pools_by_behaviour, timeout=300)
    assert seen == {"sizes": [1, 3], "disjoint": True, "intra_op": CPUS, "undecided": ""}
