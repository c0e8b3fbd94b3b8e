"""The runtime probe: default pool sizes, how values resolve, what freezes after start.

Also what the eager context does with devices, placement and the settings that only an
internal or ``tf.compat.v1`` call reaches, and whether oneDNN is on by default: the
process starts with ``TF_ENABLE_ONEDNN_OPTS`` unset and TensorFlow's INFO logs allowed
(:data:`ENV`), whatever the documentation build sets.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from tfthreads.catalog.probes._common import (
    check_failure,
    cpu_count,
    import_tensorflow,
    onednn_enabled,
)
from tfthreads.inventory import inventory, pool_counts
from tfthreads.process import run_forked

__all__ = ["ENV", "probe"]

#: With oneDNN at its default (unset) and INFO logs on, for the placement log.
ENV: dict[str, str | None] = {"TF_ENABLE_ONEDNN_OPTS": None, "TF_CPP_MIN_LOG_LEVEL": "0"}


def probe() -> dict[str, Any]:
    """Observe default pool sizes, how 0/negative/environment values resolve, freeze errors.

    Also what the eager context does with devices, placement and the settings that only
    an internal or ``tf.compat.v1`` call reaches, and whether oneDNN is on by default
    (the process starts with ``TF_ENABLE_ONEDNN_OPTS`` unset).
    """
    tf, import_log = import_tensorflow()
    from tensorflow.python.eager import context

    threading = tf.config.threading
    v1 = tf.compat.v1

    def start_and_count() -> dict[str, Any]:
        before = inventory()
        float(tf.reduce_sum(tf.ones((64, 64))))
        return pool_counts(before)

    def with_env(name: str, value: str, then: Callable[[], Any] = start_and_count) -> Any:
        def case() -> Any:
            os.environ[name] = value  # read when the runtime starts, which is after this
            return then()

        return case

    def set_then_start(intra: int | None, inter: int | None) -> Callable[[], dict[str, Any]]:
        def case() -> dict[str, Any]:
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

    def env_after_start() -> dict[str, Any]:
        float(tf.reduce_sum(tf.ones((4, 4))))
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = "3"
        before = inventory()
        with tf.Graph().as_default(), v1.Session() as session:
            session.run(tf.reduce_sum(tf.ones((4, 4))))
            return pool_counts(before, session=session)

    def three_cpu_devices(override: str | None, late: bool = False) -> Callable[[], Any]:
        def case() -> Any:
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
                        return pool_counts(before, session=session)["intra_op"]
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
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0" if onednn_enabled() else "1"
        return onednn_enabled()

    def gpu_thread_env() -> dict[str, Any]:
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
        "cpus": cpu_count(),
        "tensorflow_version": tf.__version__,
        "unset_getter": threading.get_intra_op_parallelism_threads(),
        "default_intra_op": default["value"]["intra_op"],
        "default_inter_op": default["value"]["inter_op"],
        "env_intra_op_3": env_intra["value"]["intra_op"],
        "env_inter_op_3": env_inter["value"]["inter_op"],
        "config_1_over_env_3": config_wins["value"]["intra_op"],
        "env_intra_op_negative_exit": env_intra_negative["exit"],
        "env_intra_op_negative_check": check_failure(env_intra_negative["stderr"]),
        "env_inter_op_negative": (env_inter_negative["value"] or {}).get("inter_op"),
        "intra_op_negative_exit": intra_negative["exit"],
        "intra_op_negative_check": check_failure(intra_negative["stderr"]),
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
        "onednn_on_by_default": onednn_enabled(),
        "onednn_on_import_log": "oneDNN custom operations are on" in import_log,
        "cpu_has_onednn_feature": _cpu_has_onednn_feature(),
        "onednn_unchanged_by_env_after_import": onednn_late["value"] == onednn_enabled(),
    }


def _cpu_has_onednn_feature() -> bool:
    """Whether this CPU has a feature the Linux x86 check of ``port.cc`` tests for."""
    with open("/proc/cpuinfo") as cpuinfo:  # noqa: PTH123 - one read of a proc file
        for line in cpuinfo:
            if line.startswith("flags"):
                return bool(set(line.split(":", 1)[1].split()) & _ONEDNN_FEATURES)
    return False


_ONEDNN_FEATURES = {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}
