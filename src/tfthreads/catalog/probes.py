"""Probes: small checks, run in a fresh process, that observe what the catalog claims.

Each public function here is a probe. It is run by :func:`tfthreads.isolation.run_function`
(never in the calling process) with the environment in :data:`PROBES`, and returns a flat
dict of JSON values that catalog facts (:class:`tfthreads.catalog.facts.Observed`) name by
key. One probe observes many facts: a TensorFlow import costs seconds, so a probe imports
TensorFlow once and then runs each case in a forked copy of itself
(:func:`tfthreads.isolation.run_forked`), which starts its own runtime in a fraction of a
second. Forking is safe here because the probe never starts TensorFlow's runtime itself
(no pool thread exists yet) and each copy ends with ``os._exit``.

Keys that depend on the machine are observed, never assumed: ``cpus`` is the affinity
mask the probe saw, and facts compare against it.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tfthreads.inventory import ThreadInventory, classify, diff, inventory, pool_counts
from tfthreads.isolation import run_forked

__all__ = ["PROBES", "Probe", "data_pipeline", "onednn", "runtime", "sessions"]

#: CPU seconds the intra-op pool's threads must gain for an op to count as split over
#: it: six 1000x1000 matmuls split over the pool give it about 0.1 s or more, while a
#: pool that ran nothing gains at most one clock tick (0.01 s) from wake-ups.
_SPLIT_CPU = 0.03


@dataclass(frozen=True)
class Probe:
    """A probe function and the environment it is started with.

    Attributes
    ----------
    function : callable
        A top-level function of this module returning a flat dict of JSON values.
    env : mapping
        Environment changes for its process (``None`` removes a variable).
    """

    function: Callable[[], dict[str, Any]]
    env: Mapping[str, str | None] = field(default_factory=dict)


def _check_failure(stderr: str) -> str:
    """Return the ``Check failed: ...`` text of a TensorFlow abort, or ``""``."""
    for line in stderr.splitlines():
        if "Check failed:" in line:
            return line[line.index("Check failed:") :].strip()
    return ""


def _intra_pool_tids(before: ThreadInventory, after: ThreadInventory) -> set[int]:
    old = {t.tid for t in before.threads}
    return {t.tid for t in after.threads if t.tid not in old and classify(t.name) == "unnamed"}


def _cpu_of(tids: set[int]) -> float:
    return sum(t.cpu_seconds for t in inventory().threads if t.tid in tids)


def _error_line(error: str) -> str:
    """``"Type: reason"`` of an error text, skipping TensorFlow's generic first lines."""
    kind, _, message = error.partition(": ")
    for raw in message.splitlines():
        line = raw.strip()
        if line and not line.startswith(("Graph execution error", "Detected at node", "File ")):
            return f"{kind}: {line}"
    return error.strip()


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


# ----------------------------------------------------------------------------- runtime


def runtime() -> dict[str, Any]:
    """Observe default pool sizes, how 0/negative/environment values resolve, freeze errors."""
    import tensorflow as tf

    threading = tf.config.threading

    def start_and_count() -> dict[str, int]:
        before = inventory()
        float(tf.reduce_sum(tf.ones((64, 64))))
        return pool_counts(before)

    def with_env(name: str, value: str, then: Callable[[], Any] = start_and_count) -> Any:
        def case() -> Any:
            os.environ[name] = value  # read when the runtime starts, which is after this
            return then()

        return case

    def set_then_start(intra: int | None, inter: int | None) -> Callable[[], dict[str, int]]:
        def case() -> dict[str, int]:
            if intra is not None:
                threading.set_intra_op_parallelism_threads(intra)
            if inter is not None:
                threading.set_inter_op_parallelism_threads(inter)
            return start_and_count()

        return case

    def late(setter: Callable[[int], None]) -> Callable[[], None]:
        def case() -> None:
            float(tf.reduce_sum(tf.ones((4, 4))))
            setter(2)

        return case

    default = run_forked(start_and_count)
    env_intra = run_forked(with_env("TF_NUM_INTRAOP_THREADS", "3"))
    env_inter = run_forked(with_env("TF_NUM_INTEROP_THREADS", "3"))
    config_wins = run_forked(with_env("TF_NUM_INTRAOP_THREADS", "3", set_then_start(1, None)))
    env_intra_negative = run_forked(with_env("TF_NUM_INTRAOP_THREADS", "-1"))
    env_inter_negative = run_forked(with_env("TF_NUM_INTEROP_THREADS", "-1"))
    intra_negative = run_forked(set_then_start(-1, None))
    inter_negative = run_forked(set_then_start(None, -1))
    late_intra = run_forked(late(threading.set_intra_op_parallelism_threads))
    late_inter = run_forked(late(threading.set_inter_op_parallelism_threads))
    late_zero = run_forked(late(lambda _: threading.set_intra_op_parallelism_threads(0)))
    return {
        "cpus": _cpus(),
        "tensorflow_version": tf.__version__,
        "unset_getter": threading.get_intra_op_parallelism_threads(),
        "default_intra_op": default["value"]["intra_op"],
        "default_inter_op": default["value"]["inter_op"],
        "env_intra_op_3": env_intra["value"]["intra_op"],
        "env_inter_op_3": env_inter["value"]["inter_op"],
        "config_1_over_env_3": config_wins["value"]["intra_op"],
        "env_intra_op_negative_exit": env_intra_negative["exit"],
        "env_intra_op_negative_check": _check_failure(env_intra_negative["stderr"]),
        "env_inter_op_negative": (env_inter_negative["value"] or {}).get("inter_op"),
        "intra_op_negative_exit": intra_negative["exit"],
        "intra_op_negative_check": _check_failure(intra_negative["stderr"]),
        "inter_op_negative_eager": (inter_negative["value"] or {}).get("inter_op"),
        "late_intra_op_error": late_intra["error"],
        "late_inter_op_error": late_inter["error"],
        "late_intra_op_zero_error": late_zero["error"],
    }


# ----------------------------------------------------------------------------- tf.data


def data_pipeline() -> dict[str, Any]:
    """Observe what tf.data's threading options create and cap, per iterator.

    Private-pool threads keep their creator's name, so they are counted by difference:
    the threads an iterator adds with the option, minus those it adds with
    ``private_threadpool_size = -1`` (which, as the probe observes, creates no pool).
    Whether ops in a dataset function split their work is read from the CPU time the
    intra-op pool's threads gain while the iterator runs matmuls.
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

    def intra_pool_cpu(cap: int | None) -> float:
        before = inventory()
        matrix = tf.random.uniform((1000, 1000))
        float(tf.reduce_sum(tf.matmul(matrix, matrix)))
        pool = _intra_pool_tids(before, inventory())
        dataset = tf.data.Dataset.range(6).map(lambda _: tf.reduce_sum(tf.matmul(matrix, matrix)))
        if cap is not None:
            options = tf.data.Options()
            options.threading.max_intra_op_parallelism = cap
            dataset = dataset.with_options(options)
        start = _cpu_of(pool)
        for _ in dataset:
            pass
        return _cpu_of(pool) - start

    counts = {
        str(size): run_forked(functools.partial(iterator_threads, size))["value"]
        for size in (None, 0, 1, 3, -1)
    }
    no_pool = counts["-1"]
    split = {
        str(cap): run_forked(functools.partial(intra_pool_cpu, cap))["value"]
        for cap in (None, 1, 2)
    }
    return {
        "cpus": _cpus(),
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
        "ops_split_default": split["None"] > _SPLIT_CPU,
        "ops_split_cap_1": split["1"] > _SPLIT_CPU,
        "ops_split_cap_2": split["2"] > _SPLIT_CPU,
    }


# ---------------------------------------------------------------------------- sessions


def sessions() -> dict[str, Any]:
    """Observe what a tf.compat.v1.Session does with executor types and negative sizes."""
    import tensorflow as tf

    v1 = tf.compat.v1

    def session_run(config: Any, run_options: Any = None, size: int = 1000) -> dict[str, Any]:
        with tf.Graph().as_default():
            matrix = tf.random.uniform((size, size))  # not constant-folded away
            product = tf.reduce_sum(tf.matmul(matrix, matrix))
            before = inventory()
            with v1.Session(config=config) as session:
                started = inventory()
                pool = _intra_pool_tids(before, started)
                inter = {t.tid for t in started.threads if classify(t.name) == "inter-op pool"}
                cpu_intra, cpu_inter = _cpu_of(pool), _cpu_of(inter)
                for _ in range(3):
                    session.run(product, options=run_options)
                return {
                    "intra_op_cpu": _cpu_of(pool) - cpu_intra,
                    "inter_op_cpu": _cpu_of(inter) - cpu_inter,
                    "inter_op_threads": len(inter),
                }

    def executor(name: str) -> Callable[[], dict[str, Any]]:
        def case() -> dict[str, Any]:
            config = v1.ConfigProto()
            config.experimental.executor_type = name
            return session_run(config)

        return case

    def inter_negative() -> dict[str, Any]:
        return session_run(v1.ConfigProto(inter_op_parallelism_threads=-1), size=64)

    def per_session_negative() -> dict[str, Any]:
        config = v1.ConfigProto(inter_op_parallelism_threads=-1, use_per_session_threads=True)
        return session_run(config, size=64)

    def pool_index_past_end() -> dict[str, Any]:
        return session_run(v1.ConfigProto(), v1.RunOptions(inter_op_thread_pool=3), size=8)

    def server_negative() -> None:
        # A tf.distribute.Server sizes its compute pool without DirectSession's
        # "negative means run in the caller's thread" rule.
        config = v1.ConfigProto(inter_op_parallelism_threads=-1)
        tf.distribute.Server.create_local_server(config=config)

    single = run_forked(executor("SINGLE_THREADED_EXECUTOR"))
    server = run_forked(server_negative)
    unknown = run_forked(executor("NO_SUCH_EXECUTOR"))
    negative = run_forked(inter_negative)
    per_session = run_forked(per_session_negative)
    past_end = run_forked(pool_index_past_end)
    return {
        "cpus": _cpus(),
        "single_threaded_ops_split": single["value"]["intra_op_cpu"] > _SPLIT_CPU,
        "single_threaded_inter_op_idle": single["value"]["inter_op_cpu"] < _SPLIT_CPU,
        # The list of registered factories that follows varies; the reason does not.
        "unknown_executor_error": _error_line(unknown["error"]).split(" Registered")[0],
        "session_inter_op_negative_exit": negative["exit"],
        "session_inter_op_negative_check": _check_failure(negative["stderr"]),
        "per_session_inter_op_negative_exit": per_session["exit"],
        "per_session_inter_op_negative_check": _check_failure(per_session["stderr"]),
        "pool_index_past_end_error": _error_line(past_end["error"]),
        "server_inter_op_negative_exit": server["exit"],
        "server_inter_op_negative_check": _check_failure(server["stderr"]),
    }


# ------------------------------------------------------------------------------ oneDNN


def onednn() -> dict[str, Any]:
    """Observe whether oneDNN is on by default here, and that OpenMP variables size no pool.

    Run with ``OMP_NUM_THREADS=1`` and ``KMP_*`` set (see :data:`PROBES`): variables read
    at import can only be observed in a process started with them.
    """
    import tensorflow as tf
    from tensorflow.python.util import _pywrap_util_port

    before = inventory()
    float(tf.reduce_sum(tf.ones((64, 64))))
    sizes = pool_counts(before)
    flags = set()
    with open("/proc/cpuinfo") as cpuinfo:  # noqa: PTH123 - one read of a proc file
        for line in cpuinfo:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    return {
        "cpus": _cpus(),
        "onednn_on_by_default": bool(_pywrap_util_port.IsMklEnabled()),
        # The Linux x86 features tensorflow/core/util/port.cc tests for its default.
        "cpu_has_onednn_feature": bool(flags & _ONEDNN_FEATURES),
        "omp_1_intra_op": sizes["intra_op"],
        "omp_1_inter_op": sizes["inter_op"],
        "python": sys.version.split()[0],
    }


_ONEDNN_FEATURES = {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}

#: Every probe by name, with the environment its process starts with. oneDNN is off
#: where ops must split over the intra-op pool (oneDNN kernels split on their own terms).
PROBES: dict[str, Probe] = {
    "runtime": Probe(runtime),
    "data_pipeline": Probe(data_pipeline, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "sessions": Probe(sessions, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "onednn": Probe(
        onednn,
        {
            "TF_ENABLE_ONEDNN_OPTS": None,
            "OMP_NUM_THREADS": "1",
            "KMP_BLOCKTIME": "0",
            "KMP_AFFINITY": "granularity=fine,compact",
        },
    ),
}
