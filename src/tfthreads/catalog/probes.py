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
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
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


def _factories(error: str) -> str:
    """Return the registered factories an error lists, sorted: TensorFlow prints them in hash order.

    Examples
    --------
    >>> _factories("... Registered factories are {GRPC_SESSION, DIRECT_SESSION}.")
    '{DIRECT_SESSION, GRPC_SESSION}'
    """
    names = error.rpartition("Registered factories are ")[2].rstrip(".").strip("{}")
    return "{" + ", ".join(sorted(name.strip() for name in names.split(","))) + "}"


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _numa_nodes() -> int:
    nodes = Path("/sys/devices/system/node")
    if not nodes.is_dir():
        return 1
    return sum(1 for node in nodes.iterdir() if node.name[4:].isdigit())


def _import_tensorflow() -> tuple[Any, str]:
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


def _onednn_enabled() -> bool:
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def _thread_name(tid: int) -> str:
    """``"caller"`` for the thread that runs the probe, else the thread's name."""
    if tid == threading.get_native_id():
        return "caller"
    return next((t.name for t in inventory().threads if t.tid == tid), "gone")


def _new(before: ThreadInventory, prefix: str = "") -> int:
    """Threads that appeared since ``before`` (only names starting with ``prefix``)."""
    return sum(n for name, n in diff(before, inventory()).items() if name.startswith(prefix))


def _dataset_matmul_pool_cpu(cap: int | None) -> float:
    """CPU seconds the intra-op pool gains while a dataset function runs six matmuls."""
    import tensorflow as tf

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


# ----------------------------------------------------------------------------- runtime


def runtime() -> dict[str, Any]:
    """Observe default pool sizes, how 0/negative/environment values resolve, freeze errors.

    Also what the eager context does with devices, placement and the settings that only
    an internal or ``tf.compat.v1`` call reaches, and whether oneDNN is on by default
    (the process starts with ``TF_ENABLE_ONEDNN_OPTS`` unset).
    """
    tf, import_log = _import_tensorflow()
    from tensorflow.python.eager import context

    threading = tf.config.threading
    v1 = tf.compat.v1

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

    def env_after_start() -> dict[str, int]:
        float(tf.reduce_sum(tf.ones((4, 4))))
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = "3"
        before = inventory()
        with tf.Graph().as_default(), v1.Session() as session:
            session.run(tf.reduce_sum(tf.ones((4, 4))))
        return pool_counts(before)

    def three_cpu_devices(override: str | None, late: bool = False) -> Callable[[], int]:
        def case() -> int:
            if late:
                float(tf.reduce_sum(tf.ones((4, 4))))
            if override is not None:
                os.environ["TF_OVERRIDE_GLOBAL_THREADPOOL"] = override
            before = inventory()
            if late:  # the eager devices exist: a session asks for three CPU devices
                with tf.Graph().as_default():
                    config = v1.ConfigProto(device_count={"CPU": 3}, intra_op_parallelism_threads=2)
                    with v1.Session(config=config) as session:
                        session.run(tf.reduce_sum(tf.ones((64, 64))))
            else:
                cpu = tf.config.list_physical_devices("CPU")[0]
                logical = [tf.config.LogicalDeviceConfiguration()] * 3
                tf.config.set_logical_device_configuration(cpu, logical)
                threading.set_intra_op_parallelism_threads(2)
                float(tf.reduce_sum(tf.ones((64, 64))))
            return pool_counts(before)["intra_op"]

        return case

    def after_start(change: Callable[[], Any]) -> Callable[[], Any]:
        def case() -> Any:
            float(tf.reduce_sum(tf.ones((4, 4))))
            return change()

        return case

    def memory_limit() -> None:
        cpu = tf.config.list_physical_devices("CPU")[0]
        config = [tf.config.LogicalDeviceConfiguration(memory_limit=100)]
        tf.config.set_logical_device_configuration(cpu, config)

    def soft_placement_late() -> None:
        tf.config.set_soft_device_placement(False)
        with tf.device("/device:GPU:0"):
            float(tf.reduce_sum(tf.ones((2, 2))))

    def hard_gpu_request() -> None:
        tf.config.set_soft_device_placement(False)
        with tf.device("/device:GPU:0"):
            float(tf.reduce_sum(tf.ones((2, 2))))

    def log_placement() -> bool:
        tf.debugging.set_log_device_placement(True)
        float(tf.reduce_sum(tf.ones((3, 3))))
        return bool(tf.debugging.get_log_device_placement())

    def placement_log(stderr: str) -> str:
        lines = stderr.splitlines()
        return next((x[x.index("Executing op") :] for x in lines if "Executing op Sum" in x), "")

    def set_context(name: str, value: Any) -> Callable[[], None]:
        def case() -> None:
            setattr(context.context(), name, value)

        return case

    def streaming(route: str) -> bool:
        config = v1.ConfigProto()
        config.experimental.disable_eager_executor_streaming_enqueue = True
        if route == "after start":
            float(tf.reduce_sum(tf.ones((2, 2))))
        if route != "enable only":
            v1.disable_eager_execution()
        v1.enable_eager_execution(config=config)
        return bool(context.context().config.experimental.disable_eager_executor_streaming_enqueue)

    def onednn_env_after_import() -> bool:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0" if _onednn_enabled() else "1"
        return _onednn_enabled()

    def gpu_thread_env() -> dict[str, int]:
        os.environ["TF_GPU_THREAD_MODE"] = "gpu_private"
        os.environ["TF_GPU_THREAD_COUNT"] = "4"
        return start_and_count()

    default = run_forked(start_and_count)
    late_env = run_forked(env_after_start)
    override = run_forked(three_cpu_devices("1"))
    no_override = run_forked(three_cpu_devices(None))
    late_override = run_forked(three_cpu_devices("1", late=True))
    gpu_env = run_forked(gpu_thread_env)
    late_virtual = run_forked(
        after_start(
            lambda: tf.config.set_logical_device_configuration(
                tf.config.list_physical_devices("CPU")[0],
                [tf.config.LogicalDeviceConfiguration()] * 2,
            )
        )
    )
    late_visible = run_forked(after_start(lambda: tf.config.set_visible_devices([], "CPU")))
    limit = run_forked(memory_limit)
    soft_late = run_forked(after_start(soft_placement_late))
    hard_gpu = run_forked(hard_gpu_request)
    log_off = run_forked(start_and_count)
    log_early = run_forked(log_placement)
    log_late = run_forked(after_start(log_placement))
    timeout_late = run_forked(after_start(set_context("operation_timeout_in_ms", 5)))
    tfrt_late = run_forked(after_start(set_context("use_tfrt", True)))
    streaming_before = run_forked(functools.partial(streaming, "before start"))
    streaming_tf2 = run_forked(functools.partial(streaming, "enable only"))
    streaming_late = run_forked(functools.partial(streaming, "after start"))
    onednn_late = run_forked(onednn_env_after_import)
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
        "env_3_after_start_new_intra_op": late_env["value"]["intra_op"],
        "env_3_after_start_new_session_inter_op": late_env["value"]["inter_op"],
        "override_3_devices_intra_2": override["value"],
        "no_override_3_devices_intra_2": no_override["value"],
        "override_after_start_new_intra_op": late_override["value"],
        "gpu_thread_env_intra_op": gpu_env["value"]["intra_op"],
        "gpu_thread_env_inter_op": gpu_env["value"]["inter_op"],
        "late_virtual_devices_error": late_virtual["error"],
        "late_visible_devices_error": late_visible["error"],
        "cpu_memory_limit_error": limit["error"],
        "eager_soft_placement_default": bool(tf.config.get_soft_device_placement()),
        "soft_placement_off_after_start_error": soft_late["error"].split(". ")[0],
        "eager_hard_gpu_request_error": hard_gpu["error"].split(". ")[0],
        "eager_log_device_placement_default": bool(tf.debugging.get_log_device_placement()),
        "placement_logged_by_default": "Executing op" in log_off["stderr"],
        "placement_log_line": placement_log(log_early["stderr"]),
        "log_device_placement_after_start_getter": log_late["value"],
        "log_device_placement_after_start_error": log_late["error"],
        "placement_logged_after_start": bool(placement_log(log_late["stderr"])),
        "operation_timeout_after_start_error": timeout_late["error"],
        "use_tfrt_after_start_error": tfrt_late["error"],
        "streaming_enqueue_via_disable_then_enable": streaming_before["value"],
        "streaming_enqueue_via_enable_only": streaming_tf2["value"],
        "streaming_enqueue_after_start_failed": bool(streaming_late["error"]),
        "onednn_on_by_default": _onednn_enabled(),
        "onednn_on_import_log": "oneDNN custom operations are on" in import_log,
        "cpu_has_onednn_feature": _cpu_has_onednn_feature(),
        "onednn_unchanged_by_env_after_import": onednn_late["value"] == _onednn_enabled(),
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
        str(cap): run_forked(functools.partial(_dataset_matmul_pool_cpu, cap))["value"]
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
        "pool_threads_at_with_options": created[3]["with_options"],
        "pool_threads_at_iter": created[3]["iter"] - created[-1]["iter"],
        "private_pool_3_then_1": run_forked(reapplied)["value"] - no_pool,
        "non_integer_error": run_forked(not_an_integer)["error"],
        "parallel_calls_seconds": round(calls, 2),
        "parallel_calls_overlap": calls < 0.9,
        "options_default_cpu_budget": repr(tf.data.Options().autotune.cpu_budget),
        "onednn_on_with_0": _onednn_enabled(),
    }


# ---------------------------------------------------------------------------- sessions


def sessions() -> dict[str, Any]:
    """Observe what a tf.compat.v1.Session does with its pools, devices and options.

    Which thread ran a step is read from a ``py_func`` that returns its native thread
    id; the threads a session starts are counted by name (``tf_Compute0`` is the first
    pool of ``session_inter_op_thread_pool``).
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2

    v1 = tf.compat.v1

    def thread_id() -> Any:
        return v1.py_func(threading.get_native_id, [], tf.int64)

    def pools_config(*sizes: int, name: str = "") -> Any:
        config = v1.ConfigProto()
        for size in sizes:
            pool = config.session_inter_op_thread_pool.add()
            pool.num_threads = size
            pool.global_name = name
        return config

    def ran_on(session: Any, fetch: Any, pool: int | None = None) -> str:
        options = None if pool is None else v1.RunOptions(inter_op_thread_pool=pool)
        return _thread_name(int(session.run(fetch, options=options)))

    def session_pools() -> dict[str, Any]:
        with tf.Graph().as_default():
            step = thread_id()
            config = pools_config(1, 0)
            before = inventory()
            session = v1.Session(config=config)
            created = diff(before, inventory())
            ran = " ".join(ran_on(session, step, pool) for pool in (0, 1, -1, 0))
            matrix = tf.random.uniform((1000, 1000))
            product = tf.reduce_sum(tf.matmul(matrix, matrix))
            intra = _intra_pool_tids(before, inventory())
            start = _cpu_of(intra)
            for _ in range(3):
                session.run(product, options=v1.RunOptions(inter_op_thread_pool=0))
            split = _cpu_of(intra) - start > _SPLIT_CPU
            config.session_inter_op_thread_pool.add().num_threads = 1  # after creation
            try:
                session.run(step, options=v1.RunOptions(inter_op_thread_pool=2))
                added_late = ""
            except tf.errors.OpError as error:
                added_late = f"{type(error).__name__}: {error.message}"
            return {
                "pool_0": created.get("tf_Compute0", 0),
                "pool_1": created.get("tf_Compute1", 0),
                "ran": ran,
                "added_late": _error_line(added_late),
                "ops_split": split,
            }

    def pool_size_0(env: str | None) -> int:
        config = pools_config(0)
        if env is None:
            config.inter_op_parallelism_threads = 3
        else:
            os.environ["TF_NUM_INTEROP_THREADS"] = env
        with tf.Graph().as_default():
            before = inventory()
            session = v1.Session(config=config)
            count = _new(before, "tf_Compute0")
            session.close()
            return count

    def global_name() -> dict[str, Any]:
        with tf.Graph().as_default():
            step = thread_id()
            before = inventory()
            first = v1.Session(config=pools_config(2, name="shared"))
            out: dict[str, Any] = {"first": _new(before, "tf_Compute0")}
            out["first_ran"] = ran_on(first, step)
            before = inventory()
            second = v1.Session(config=pools_config(2, name="shared"))
            out["second"] = _new(before, "tf_Compute0")
            out["second_ran"] = ran_on(second, step)
            first.close()
            second.close()
            out["left_after_close"] = sum(
                1 for t in inventory().threads if t.name.startswith("tf_Compute0")
            )
            before = inventory()
            other = v1.Session(config=pools_config(3, name="shared"))
            out["other_size_new_threads"] = _new(before)
            out["other_size_ran"] = ran_on(other, step)
            return out

    def own_inter_op_pool() -> dict[str, Any]:
        with tf.Graph().as_default():
            step = thread_id()
            v1.Session().run(step)  # the shared pools exist from here on
            before = inventory()
            config = v1.ConfigProto(use_per_session_threads=True, inter_op_parallelism_threads=3)
            session = v1.Session(config=config)
            counts = pool_counts(before)
            return {**counts, "ran": ran_on(session, step)}

    def timeout() -> dict[str, Any]:
        with tf.Graph().as_default():
            dequeue = tf.queue.FIFOQueue(1, tf.float32).dequeue()
            session = v1.Session(config=v1.ConfigProto(operation_timeout_in_ms=200))
            out: dict[str, Any] = {}
            for key, options in (("config", None), ("run", v1.RunOptions(timeout_in_ms=800))):
                start = time.perf_counter()
                try:
                    session.run(dequeue, options=options)
                except tf.errors.OpError as error:
                    out[key] = f"{type(error).__name__}: {error.message}"
                out[f"{key}_seconds"] = time.perf_counter() - start
            return out

    def shared_variable(isolate: bool) -> str:
        server = tf.distribute.Server.create_local_server()
        with tf.Graph().as_default():
            variable = tf.Variable(1.0)
            config = v1.ConfigProto(isolate_session_state=isolate)
            v1.Session(server.target, config=config).run(variable.initializer)
            try:
                return str(v1.Session(server.target, config=config).run(variable))
            except tf.errors.OpError as error:
                return type(error).__name__

    def new_threads(config: Any) -> dict[str, Any]:
        with tf.Graph().as_default():
            before = inventory()
            session = v1.Session(config=config)
            devices = len(session.list_devices())
            session.run(tf.reduce_sum(tf.ones((64, 64))))
            return {**pool_counts(before), "all": _new(before), "devices": devices}

    def device_count(kind: str, count: int) -> dict[str, Any]:
        return new_threads(v1.ConfigProto(device_count={kind: count}))

    def gpu_request(soft: bool) -> str:
        with tf.Graph().as_default():
            with tf.device("/device:GPU:0"):
                total = tf.reduce_sum(tf.ones((2, 2)))
            try:
                v1.Session(config=v1.ConfigProto(allow_soft_placement=soft)).run(total)
            except tf.errors.OpError as error:
                line = next(x for x in error.message.splitlines() if x.startswith("Cannot assign"))
                return f"{type(error).__name__}: {line.split(' {{')[0]}"
            return "ran"

    def filtered() -> dict[str, Any]:
        config = v1.ConfigProto(device_count={"CPU": 2})
        config.device_filters.append("/job:localhost/replica:0/task:0/device:CPU:0")
        with tf.Graph().as_default():
            with tf.device("/device:CPU:1"):
                total = tf.reduce_sum(tf.ones((2, 2)))
            session = v1.Session(config=config)
            return {
                "devices": len(session.list_devices()),
                "ran_on_cpu1": float(session.run(total)),
            }

    def numa(after_default: bool) -> int:
        config = v1.ConfigProto()
        config.experimental.use_numa_affinity = True
        with tf.Graph().as_default():
            if after_default:
                v1.Session().run(tf.reduce_sum(tf.ones((4, 4))))
            before = inventory()
            v1.Session(config=config)
            return _new(before, "tf_numa_")

    def idle_cpu(disable: bool, after_default: bool = False) -> float:
        # Many tiny steps with pauses: pool threads that spin before sleeping use CPU.
        config = v1.ConfigProto()
        config.experimental.disable_thread_spinning = disable
        with tf.Graph().as_default():
            matrix = tf.random.uniform((40, 40))
            step = tf.reduce_sum(tf.matmul(matrix, matrix)) + tf.reduce_sum(matrix)
            if after_default:
                v1.Session().run(step)
            session = v1.Session(config=config)
            session.run(step)
            pool = {t.tid for t in inventory().threads} - {threading.get_native_id()}
            start = _cpu_of(pool)
            for _ in range(250):
                session.run(step)
                time.sleep(0.002)
            return _cpu_of(pool) - start

    def executor_late() -> dict[str, str]:
        with tf.Graph().as_default():
            total = tf.reduce_sum(tf.ones((2, 2)))
            config = v1.ConfigProto()
            config.experimental.executor_type = "NO_SUCH_EXECUTOR"
            out = {"created": "", "ran": ""}
            try:
                session = v1.Session(config=config)
                out["created"] = "ok"
                session.run(total)
            except tf.errors.OpError as error:
                out["ran"] = type(error).__name__
            config = v1.ConfigProto()
            session = v1.Session(config=config)
            config.experimental.executor_type = "NO_SUCH_EXECUTOR"  # after creation
            out["changed_after_creation"] = str(float(session.run(total)))
            return out

    def tfrt() -> None:
        config = v1.ConfigProto()
        config.experimental.use_tfrt = True
        with tf.Graph().as_default():
            v1.Session(config=config)

    def run_handler() -> dict[str, int]:
        with tf.Graph().as_default():
            matrix = tf.random.uniform((64, 64))
            step = tf.reduce_sum(tf.matmul(matrix, matrix))
            session = v1.Session()
            session.run(step)
            before = inventory()
            priority = v1.RunOptions()
            priority.experimental.run_handler_pool_options.priority = 3
            session.run(step, options=priority)
            out = {"priority_only": _new(before)}
            before = inventory()
            pool = v1.RunOptions()
            pool.experimental.use_run_handler_pool = True
            session.run(step, options=pool)
            out["pool"] = _new(before)
            session.close()
            out["left_after_close"] = sum(diff(before, inventory()).values())
            return out

    def caller_thread() -> dict[str, str]:
        with tf.Graph().as_default():
            with tf.device("/cpu:0"):
                one = thread_id()
            with tf.device("/cpu:1"):
                two = thread_id() + one  # two devices: two executors
            session = v1.Session(config=v1.ConfigProto(device_count={"CPU": 2}))
            return {"single": ran_on(session, one, -1), "multi": ran_on(session, two - one, -1)}

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

    pools = run_forked(session_pools)["value"]
    shared = run_forked(global_name)["value"]
    private = run_forked(own_inter_op_pool)["value"]
    waits = run_forked(timeout)["value"]
    default_threads = run_forked(functools.partial(new_threads, v1.ConfigProto()))["value"]
    isolated_threads = run_forked(
        functools.partial(new_threads, v1.ConfigProto(isolate_session_state=True))
    )["value"]
    period_threads = run_forked(functools.partial(new_threads, v1.ConfigProto(placement_period=1)))[
        "value"
    ]
    cpu_4 = run_forked(functools.partial(device_count, "CPU", 4))["value"]
    gpu_0 = run_forked(functools.partial(device_count, "GPU", 0))["value"]
    cpu_0 = run_forked(functools.partial(device_count, "CPU", 0))
    spin = [run_forked(functools.partial(idle_cpu, disable))["value"] for disable in (False, True)]
    spin_late = run_forked(functools.partial(idle_cpu, True, after_default=True))["value"]
    executor_when = run_forked(executor_late)["value"]
    tfrt_session = run_forked(tfrt)
    handler = run_forked(run_handler)["value"]
    caller = run_forked(caller_thread)["value"]
    filters = run_forked(filtered)["value"]
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
        "session_pool_1_threads": pools["pool_0"],
        "session_pool_0_threads": pools["pool_1"],
        "session_pools_ran_on": pools["ran"],
        "session_pool_added_after_creation_error": pools["added_late"],
        "session_pool_1_ops_split": pools["ops_split"],
        "session_pool_0_config_3": run_forked(functools.partial(pool_size_0, None))["value"],
        "session_pool_0_env_3": run_forked(functools.partial(pool_size_0, "3"))["value"],
        "global_name_first_threads": shared["first"],
        "global_name_second_threads": shared["second"],
        "global_name_ran_on": f"{shared['first_ran']} {shared['second_ran']}",
        "global_name_left_after_close": shared["left_after_close"],
        "global_name_other_size_new_threads": shared["other_size_new_threads"],
        "global_name_other_size_ran_on": shared["other_size_ran"],
        "per_session_new_inter_op": private["inter_op"],
        "per_session_new_intra_op": private["intra_op"],
        "per_session_ran_on": private["ran"],
        "timeout_error": _error_line(waits["config"]),
        "timeout_seconds": round(waits["config_seconds"], 1),
        "run_timeout_seconds": round(waits["run_seconds"], 1),
        "run_timeout_overrides": waits["run_seconds"] > waits["config_seconds"] + 0.3,
        "shared_variable_default": run_forked(functools.partial(shared_variable, False))["value"],
        "shared_variable_isolated": run_forked(functools.partial(shared_variable, True))["value"],
        "session_new_threads_default": default_threads["all"],
        "session_new_threads_isolated": isolated_threads["all"],
        "session_new_threads_placement_period_1": period_threads["all"],
        "session_devices_default": default_threads["devices"],
        "session_devices_cpu_4": cpu_4["devices"],
        "session_cpu_4_intra_op": cpu_4["intra_op"],
        "session_devices_gpu_0": gpu_0["devices"],
        "session_cpu_0_error": _error_line(cpu_0["error"]),
        "session_gpu_request_hard": run_forked(functools.partial(gpu_request, False))["value"],
        "session_gpu_request_soft": run_forked(functools.partial(gpu_request, True))["value"],
        "session_filtered_to_cpu0_devices": filters["devices"],
        "session_filtered_ran_on_cpu1": filters["ran_on_cpu1"],
        "numa_pool_threads": run_forked(functools.partial(numa, False))["value"],
        "numa_pool_threads_after_default_session": run_forked(functools.partial(numa, True))[
            "value"
        ],
        "numa_nodes": _numa_nodes(),
        "spinning_idle_cpu": round(spin[0], 2),
        "no_spinning_idle_cpu": round(spin[1], 2),
        "spinning_uses_more_idle_cpu": spin[0] > 1.5 * spin[1],
        "no_spinning_after_default_idle_cpu": round(spin_late, 2),
        "no_spinning_after_default_spins": spin_late > 1.5 * spin[1],
        "unknown_executor_session_created": executor_when["created"],
        "unknown_executor_run_error": executor_when["ran"],
        "executor_changed_after_creation_ran": executor_when["changed_after_creation"],
        "use_tfrt_session_error": _error_line(tfrt_session["error"]).split(": {")[0],
        "use_tfrt_registered": _factories(tfrt_session["error"]),
        "run_handler_priority_only_new_threads": handler["priority_only"],
        "run_handler_pool_new_threads": handler["pool"],
        "run_handler_pool_started_threads": handler["pool"] > 0,
        "run_handler_left_after_close": handler["left_after_close"],
        "caller_thread_single_executor": caller["single"],
        "caller_thread_two_executors": caller["multi"],
        "default_executor_type": repr(v1.ConfigProto().experimental.executor_type),
        "default_use_tfrt": v1.ConfigProto().experimental.use_tfrt,
        "default_use_per_session_threads": v1.ConfigProto().use_per_session_threads,
        "use_per_session_threads_descriptor_deprecated": v1.ConfigProto.DESCRIPTOR.fields_by_name[
            "use_per_session_threads"
        ]
        .GetOptions()
        .deprecated,
        "default_session_pools": len(v1.ConfigProto().session_inter_op_thread_pool),
        "default_pool_num_threads": config_pb2.ThreadPoolOptionProto().num_threads,
        "default_pool_global_name": repr(config_pb2.ThreadPoolOptionProto().global_name),
        "default_run_pool_index": v1.RunOptions().inter_op_thread_pool,
        "default_operation_timeout": v1.ConfigProto().operation_timeout_in_ms,
        "default_isolate_session_state": v1.ConfigProto().isolate_session_state,
        "default_share_cluster_devices": v1.ConfigProto().share_cluster_devices_in_session,
        "default_device_count": len(v1.ConfigProto().device_count),
        "default_allow_soft_placement": v1.ConfigProto().allow_soft_placement,
        "default_log_device_placement": v1.ConfigProto().log_device_placement,
        "default_placement_period": v1.ConfigProto().placement_period,
        "default_device_filters": len(v1.ConfigProto().device_filters),
        "default_use_numa_affinity": v1.ConfigProto().experimental.use_numa_affinity,
        "default_disable_thread_spinning": v1.ConfigProto().experimental.disable_thread_spinning,
        "default_disable_streaming_enqueue": (
            v1.ConfigProto().experimental.disable_eager_executor_streaming_enqueue
        ),
        "default_use_run_handler_pool": v1.RunOptions().experimental.use_run_handler_pool,
        "default_run_handler_priority": (
            v1.RunOptions().experimental.run_handler_pool_options.priority
        ),
    }


# ------------------------------------------------------------------------------ oneDNN


def onednn() -> dict[str, Any]:
    """Observe oneDNN turned on by ``TF_ENABLE_ONEDNN_OPTS=1``, and that OpenMP variables size no pool.

    Run with ``TF_ENABLE_ONEDNN_OPTS=1``, ``OMP_NUM_THREADS=1`` and ``KMP_*`` set (see
    :data:`PROBES`): variables read at import can only be observed in a process started
    with them.
    """
    tf, import_log = _import_tensorflow()

    def matmul_threads() -> dict[str, Any]:
        before = inventory()
        matrix = tf.random.uniform((1000, 1000))
        float(tf.reduce_sum(tf.matmul(matrix, matrix)))
        added = diff(before, inventory())
        other = sorted(name for name in added if classify(name) not in ("unnamed", "inter-op pool"))
        return {**pool_counts(before), "other": " ".join(other)}

    matmul = run_forked(matmul_threads)["value"]
    capped = run_forked(functools.partial(_dataset_matmul_pool_cpu, 1))["value"]
    return {
        "cpus": _cpus(),
        "onednn_on_with_1": _onednn_enabled(),
        "onednn_on_import_log_with_1": "oneDNN custom operations are on" in import_log,
        "omp_1_intra_op": matmul["intra_op"],
        "omp_1_inter_op": matmul["inter_op"],
        "onednn_matmul_other_threads": matmul["other"],
        "onednn_ops_split_cap_1": capped > _SPLIT_CPU,
        "python": sys.version.split()[0],
    }


def _cpu_has_onednn_feature() -> bool:
    """Whether this CPU has a feature the Linux x86 check of ``port.cc`` tests for."""
    with open("/proc/cpuinfo") as cpuinfo:  # noqa: PTH123 - one read of a proc file
        for line in cpuinfo:
            if line.startswith("flags"):
                return bool(set(line.split(":", 1)[1].split()) & _ONEDNN_FEATURES)
    return False


_ONEDNN_FEATURES = {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}

#: Every probe by name, with the environment its process starts with. oneDNN is unset
#: for ``runtime`` (its default), on for ``onednn`` and off where ops must split over the
#: intra-op pool (oneDNN kernels split on their own terms). Probes that read TensorFlow's
#: INFO logs (the placement log) allow them, whatever the documentation build sets.
PROBES: dict[str, Probe] = {
    "runtime": Probe(runtime, {"TF_ENABLE_ONEDNN_OPTS": None, "TF_CPP_MIN_LOG_LEVEL": "0"}),
    "data_pipeline": Probe(data_pipeline, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "sessions": Probe(sessions, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "onednn": Probe(
        onednn,
        {
            "TF_ENABLE_ONEDNN_OPTS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "0",
            "OMP_NUM_THREADS": "1",
            "KMP_BLOCKTIME": "0",
            "KMP_AFFINITY": "granularity=fine,compact",
        },
    ),
}
