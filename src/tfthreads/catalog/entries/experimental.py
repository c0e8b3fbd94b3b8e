"""``ConfigProto.Experimental`` and ``RunOptions.Experimental`` fields that change scheduling.

The entries of the reference page ``docs/reference/experimental.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    CONFIG_PROTO_EXPERIMENTAL,
    CONFIG_PROTO_FILE,
    DIRECT_SESSION_FILE,
    EAGER_CONTEXT_FILE,
    EXECUTOR_FACTORY_FILE,
    LOCAL_DEVICE_FILE,
    RUN_OPTIONS_EXPERIMENTAL,
    SESSION_POOLS_START_AT_CREATION,
    THREADPOOL_DEVICE_FACTORY_FILE,
    cite,
    seen,
)
from tfthreads.catalog.model import ONLY_COMPAT_V1, Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="ConfigProto.Experimental.use_numa_affinity",
        kind=Kind.PROTO_FIELD,
        summary="Asks for one intra-op pool per NUMA node, with CPU devices assigned to nodes.",
        type="bool",
        default="false",
        resolution="False: one pool for the whole process.",
        read_when="When the CPU devices are created.",
        freezes="At start-up, like the intra-op pool.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "ConfigProto.device_count",
        ),
        source=THREADPOOL_DEVICE_FACTORY_FILE,
        message=CONFIG_PROTO_EXPERIMENTAL,
        field_number=5,
        notes="Despite the proto comment, it does not create one CPU device per node by itself; the device count still comes from device_count.",
        facts=(
            seen(
                "default resolution read_when freezes",
                "sessions",
                "unset it was {default_use_numa_affinity}; on this machine of {numa_nodes} NUMA node a first session with it true started a `tf_numa_0_Eigen` pool of {numa_pool_threads} threads instead of the shared one, and after a default session it started {numa_pool_threads_after_default_session}",
                default_use_numa_affinity=False,
                numa_pool_threads="{cpus}",
                numa_pool_threads_after_default_session=0,
            ),
            cite(
                THREADPOOL_DEVICE_FACTORY_FILE,
                "notes",
                why="needs a machine with several NUMA nodes",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.Experimental.disable_thread_spinning",
        kind=Kind.PROTO_FIELD,
        summary="Makes idle pool threads sleep at once instead of spinning while waiting.",
        type="bool",
        default="false (threads spin briefly)",
        resolution="True: lower idle CPU use, higher wake-up latency.",
        read_when="When a pool it applies to is created.",
        freezes="Only pools created after it is set are affected; the shared intra-op pool keeps the setting of whoever created it.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "KMP_BLOCKTIME",
        ),
        source=LOCAL_DEVICE_FILE,
        message=CONFIG_PROTO_EXPERIMENTAL,
        field_number=9,
        facts=(
            seen(
                "default",
                "sessions",
                "unset it was {default_disable_thread_spinning}; over 250 tiny steps the pool threads used {spinning_idle_cpu} s of CPU with spinning and {no_spinning_idle_cpu} s with it disabled, and {no_spinning_after_default_idle_cpu} s when it was disabled in a session created after a default one",
                default_disable_thread_spinning=False,
            ),
            cite(
                LOCAL_DEVICE_FILE,
                "resolution read_when freezes",
                why="the effect is idle CPU time of a few clock ticks (shown above as measured), too small to decide reliably on a shared build machine: a build must not fail on noise",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.Experimental.executor_type",
        kind=Kind.PROTO_FIELD,
        summary="Chooses the graph executor, which decides how ops are handed to threads.",
        type="string",
        default='"" (the default executor)',
        resolution=(
            '"" or "DEFAULT": the standard executor; "SINGLE_THREADED_EXECUTOR": the step\'s ops run one after another on the calling thread, none on the inter-op pool, but each kernel still splits its work over the intra-op pool. '
            "Unknown names fail with `NotFoundError: No executor factory registered for the given executor type: ...` (run on 2.21.0)."
        ),
        read_when="When the session builds executors for a step.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.inter_op_parallelism_threads",
            "ConfigProto.Experimental.use_tfrt",
        ),
        source=EXECUTOR_FACTORY_FILE,
        message=CONFIG_PROTO_EXPERIMENTAL,
        field_number=3,
        facts=(
            seen(
                "resolution",
                "sessions",
                "with `SINGLE_THREADED_EXECUTOR` a matmul step kept the inter-op pool idle ({single_threaded_inter_op_idle}) and split over the intra-op pool ({single_threaded_ops_split}); an unknown name failed with `{unknown_executor_error}`",
                single_threaded_ops_split="{several_cpus}",
                single_threaded_inter_op_idle=True,
                unknown_executor_error="NotFoundError: No executor factory registered for the given executor type: NO_SUCH_EXECUTOR",
            ),
            seen(
                "default read_when",
                "sessions",
                "unset it was {default_executor_type}; with an unknown name the session was created ({unknown_executor_session_created}) and its first step failed with `{unknown_executor_run_error}`",
                default_executor_type="''",
                unknown_executor_session_created="ok",
                unknown_executor_run_error="NotFoundError",
            ),
            SESSION_POOLS_START_AT_CREATION,
        ),
    ),
    Setting(
        name="ConfigProto.Experimental.use_tfrt",
        kind=Kind.PROTO_FIELD,
        summary="Asks for the TFRT runtime instead of the classic session.",
        type="bool",
        default="false",
        resolution="True in a tf.compat.v1.Session on the 2.21.0 pip wheel fails with `NotFoundError: No session factory registered for the given session options` (only GRPC_SESSION and DIRECT_SESSION are registered).",
        read_when="When the tf.compat.v1.Session is created.",
        freezes="Fixed per session; the internal eager flag raises `ValueError: use_tfrt should be set before being initialized.`.",
        tf2_path=ONLY_COMPAT_V1,
        related=("ConfigProto.Experimental.executor_type",),
        source=EAGER_CONTEXT_FILE,
        message=CONFIG_PROTO_EXPERIMENTAL,
        field_number=18,
        facts=(
            seen(
                "default resolution read_when",
                "sessions",
                "unset it was {default_use_tfrt}; creating a session with it failed with `{use_tfrt_session_error}`; registered: `{use_tfrt_registered}`",
                default_use_tfrt=False,
                use_tfrt_session_error="NotFoundError: No session factory registered for the given session options",
                use_tfrt_registered="{{DIRECT_SESSION, GRPC_SESSION}}",
            ),
            seen(
                "freezes",
                "runtime",
                "the eager flag set after the first op raised `{use_tfrt_after_start_error}`",
                use_tfrt_after_start_error="ValueError: use_tfrt should be set before being initialized.",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.Experimental.disable_eager_executor_streaming_enqueue",
        kind=Kind.PROTO_FIELD,
        summary="Turns off streaming enqueue in the eager executor, allowing parallel execution.",
        type="bool",
        default="false",
        resolution="False: the eager executor's default streaming behaviour.",
        read_when="When the eager context is created.",
        freezes="At start-up of the eager context.",
        tf2_path="No public TF2 setter: before the first op, call `tf.compat.v1.disable_eager_execution()` and then `tf.compat.v1.enable_eager_execution(config=...)` with a ConfigProto that sets it.",
        related=("ConfigProto.inter_op_parallelism_threads",),
        source=CONFIG_PROTO_FILE,
        message=CONFIG_PROTO_EXPERIMENTAL,
        field_number=26,
        notes="`tf.compat.v1.enable_eager_execution(config=...)` alone ignores its config while eager execution is already the default (TF2): the field reaches the eager context only after `tf.compat.v1.disable_eager_execution()`, and only before the first op (run on 2.21.0).",
        facts=(
            seen(
                "default read_when freezes notes",
                "runtime",
                "`enable_eager_execution(config=...)` alone left the eager config without it ({streaming_enqueue_via_enable_only}); after `disable_eager_execution()` and before the first op it reached the eager config ({streaming_enqueue_via_disable_then_enable}); after the first op that route failed ({streaming_enqueue_after_start_failed})",
                streaming_enqueue_via_enable_only=False,
                streaming_enqueue_via_disable_then_enable=True,
                streaming_enqueue_after_start_failed=True,
            ),
            seen(
                "default",
                "sessions",
                "unset it was {default_disable_streaming_enqueue}",
                default_disable_streaming_enqueue=False,
            ),
            cite(
                CONFIG_PROTO_FILE,
                "resolution",
                why="its effect is inside the eager executor's queue: no thread count or timing of a local CPU run shows it",
            ),
        ),
    ),
    Setting(
        name="RunOptions.Experimental.use_run_handler_pool",
        kind=Kind.PROTO_FIELD,
        summary="Schedules the inter-op work of all Session.run calls through one central pool.",
        type="bool",
        default="false",
        resolution="False: each step uses its session's inter-op pool.",
        read_when="On every Session.run call that passes these RunOptions.",
        freezes=(
            "Never; chosen per run call. "
            "The run-handler pool's threads, once started, stay for the life of the process."
        ),
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "RunOptions.Experimental.run_handler_pool_options",
            "ConfigProto.inter_op_parallelism_threads",
        ),
        source=DIRECT_SESSION_FILE,
        message=RUN_OPTIONS_EXPERIMENTAL,
        field_number=2,
        notes="Meant for CPU-bound inference with many concurrent requests; on 2.21.0 the first such run started extra (unnamed) threads.",
        facts=(
            seen(
                "default resolution read_when freezes notes",
                "sessions",
                "unset it was {default_use_run_handler_pool}; the first run with it started {run_handler_pool_new_threads} unnamed threads, and {run_handler_left_after_close} were still there after the session closed",
                default_use_run_handler_pool=False,
                run_handler_pool_started_threads=True,
                run_handler_left_after_close="{run_handler_pool_new_threads}",
            ),
        ),
    ),
    Setting(
        name="RunOptions.Experimental.run_handler_pool_options",
        kind=Kind.PROTO_FIELD,
        summary="Per-request options for the run-handler pool: currently a priority.",
        type="RunHandlerPoolOptions",
        default="unset (priority 0)",
        resolution="Used only when use_run_handler_pool is true.",
        read_when="On every Session.run call that passes these RunOptions.",
        freezes="Never; chosen per run call.",
        tf2_path=ONLY_COMPAT_V1,
        related=("RunOptions.Experimental.use_run_handler_pool",),
        source=CONFIG_PROTO_FILE,
        message=RUN_OPTIONS_EXPERIMENTAL,
        field_number=3,
        facts=(
            seen(
                "default resolution read_when freezes",
                "sessions",
                "unset the priority was {default_run_handler_priority}; a run with priority 3 and no run-handler pool started {run_handler_priority_only_new_threads} threads, the next run of the same session with the pool {run_handler_pool_new_threads}",
                default_run_handler_priority=0,
                run_handler_priority_only_new_threads=0,
                run_handler_pool_started_threads=True,
            ),
        ),
    ),
)
