"""The tf.data probe: private thread pools, ``max_intra_op_parallelism`` and parallel calls.

oneDNN is off in its process (:data:`ENV`): oneDNN kernels split over the intra-op pool
on their own terms, and this probe observes what tf.data's options do to TensorFlow's.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from tfthreads.catalog.probes._common import cpu_count, dataset_matmul_split, onednn_enabled
from tfthreads.inventory import diff, inventory
from tfthreads.process import run_forked

__all__ = ["ENV", "probe"]

#: With oneDNN off, ops split over the intra-op pool only as TensorFlow's own kernels do.
ENV: dict[str, str | None] = {"TF_ENABLE_ONEDNN_OPTS": "0"}


def probe() -> dict[str, Any]:
    """Observe what tf.data's threading options create and cap, per iterator.

    Private-pool threads keep their creator's name, so they are counted by difference:
    the threads an iterator adds with the option, minus those it adds with
    ``private_threadpool_size = -1`` (which, as the probe observes, creates no pool).
    Whether ops in a dataset function split their work is read from the share of the
    process's CPU time the intra-op pool's threads take while the iterator runs matmuls
    (:func:`~tfthreads.catalog.probes._common.dataset_matmul_split`).
    """
    import tensorflow as tf

    def iterator_threads(size: int | None) -> int:
        dataset = tf.data.Dataset.range(8).map(lambda x: x * 2)
        if size is not None:
            options = tf.data.Options()
            options.threading.private_threadpool_size = size
            dataset = dataset.with_options(options)
        float(tf.reduce_sum(tf.ones((4, 4))))  # start the runtime first: count only tf.data
        before = inventory()
        iterator = iter(dataset)
        next(iterator)
        added = sum(diff(before, inventory()).values())
        del iterator
        return added

    def when_created(size: int) -> dict[str, int]:
        dataset = tf.data.Dataset.range(8).map(lambda x: x * 2)
        float(tf.reduce_sum(tf.ones((4, 4))))
        options = tf.data.Options()
        options.threading.private_threadpool_size = size
        before = inventory()
        with_options = dataset.with_options(options)
        out = {"with_options": sum(diff(before, inventory()).values())}
        before = inventory()
        iterator = iter(with_options)
        out["iter"] = sum(diff(before, inventory()).values())
        del iterator
        return out

    def reapplied() -> int:
        first, second = tf.data.Options(), tf.data.Options()
        first.threading.private_threadpool_size = 3
        second.threading.private_threadpool_size = 1
        dataset = tf.data.Dataset.range(8).map(lambda x: x * 2)
        dataset = dataset.with_options(first).with_options(second)
        float(tf.reduce_sum(tf.ones((4, 4))))
        before = inventory()
        iterator = iter(dataset)
        next(iterator)
        return sum(diff(before, inventory()).values())

    def not_an_integer() -> None:
        tf.data.Options().threading.private_threadpool_size = 1.5

    def parallel_calls() -> float:
        # Four 0.25 s sleeps with the ops capped at one thread: overlapping elements
        # finish well before 1 s.
        def slow(x: Any) -> Any:
            time.sleep(0.25)
            return x

        dataset = tf.data.Dataset.range(4).map(
            lambda x: tf.py_function(slow, [x], tf.int64), num_parallel_calls=4
        )
        options = tf.data.Options()
        options.threading.max_intra_op_parallelism = 1
        start = time.perf_counter()
        list(dataset.with_options(options))
        return time.perf_counter() - start

    counts = {
        str(size): run_forked(functools.partial(iterator_threads, size))["value"]
        for size in (None, 0, 1, 3, -1)
    }
    created = {size: run_forked(functools.partial(when_created, size))["value"] for size in (3, -1)}
    calls = run_forked(parallel_calls)["value"]
    no_pool = counts["-1"]
    split = {
        str(cap): run_forked(functools.partial(dataset_matmul_split, cap))["value"]
        for cap in (None, 1, 2)
    }
    return {
        "cpus": cpu_count(),
        "private_pool_default": counts["None"] - no_pool,
        "private_pool_0": counts["0"] - no_pool,
        "private_pool_1": counts["1"] - no_pool,
        "private_pool_3": counts["3"] - no_pool,
        "iterator_threads_negative": no_pool,
        "options_default_private_threadpool_size": repr(
            tf.data.Options().threading.private_threadpool_size
        ),
        "options_default_max_intra_op_parallelism": repr(
            tf.data.Options().threading.max_intra_op_parallelism
        ),
        "ops_split_default": split["None"],
        "ops_split_cap_1": split["1"],
        "ops_split_cap_2": split["2"],
        "pool_threads_at_with_options": created[3]["with_options"],
        "pool_threads_at_iter": created[3]["iter"] - created[-1]["iter"],
        "private_pool_3_then_1": run_forked(reapplied)["value"] - no_pool,
        "non_integer_error": run_forked(not_an_integer)["error"],
        "parallel_calls_seconds": round(calls, 2),
        "parallel_calls_overlap": calls < 0.9,
        "options_default_cpu_budget": repr(tf.data.Options().autotune.cpu_budget),
        "onednn_on_with_0": onednn_enabled(),
    }
