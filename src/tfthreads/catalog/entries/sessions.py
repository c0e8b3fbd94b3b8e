"""The pools a ``tf.compat.v1.Session`` makes or picks, and the session-wide settings.

The entries of the reference page ``docs/reference/sessions.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    CONFIG_PROTO,
    CONFIG_PROTO_FILE,
    DIRECT_SESSION_FILE,
    EAGER_CONTEXT_FILE,
    RUN_OPTIONS,
    SESSION_POOLS_START_AT_CREATION,
    THREAD_POOL_OPTION_PROTO,
    cite,
    seen,
)
from tfthreads.catalog.model import ONLY_COMPAT_V1, Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="ConfigProto.use_per_session_threads",
        kind=Kind.PROTO_FIELD,
        summary="Gives each session its own inter-op pool instead of the process-wide one.",
        type="bool",
        default="false",
        resolution="When true (and session_inter_op_thread_pool is empty), the session creates a private pool sized like inter_op_parallelism_threads; the intra-op pool stays shared.",
        read_when="When the tf.compat.v1.Session is created.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.inter_op_parallelism_threads",
            "ConfigProto.session_inter_op_thread_pool",
        ),
        source=DIRECT_SESSION_FILE,
        message=CONFIG_PROTO,
        field_number=9,
        deprecated=True,
        notes="config.proto's comment calls it deprecated in favour of a one-element session_inter_op_thread_pool; the descriptor carries no deprecated flag.",
        facts=(
            seen(
                "default resolution read_when",
                "sessions",
                "unset it was {default_use_per_session_threads}; a session created with it and `inter_op_parallelism_threads=3` after a default session started {per_session_new_inter_op} new `tf_Compute` threads and {per_session_new_intra_op} intra-op threads, and its step ran on `{per_session_ran_on}`",
                default_use_per_session_threads=False,
                per_session_new_inter_op=3,
                per_session_new_intra_op=0,
                per_session_ran_on="tf_Compute",
            ),
            SESSION_POOLS_START_AT_CREATION,
            seen(
                "notes",
                "sessions",
                "the field's descriptor has deprecated = {use_per_session_threads_descriptor_deprecated}",
                use_per_session_threads_descriptor_deprecated=False,
            ),
        ),
    ),
    Setting(
        name="ConfigProto.session_inter_op_thread_pool",
        kind=Kind.PROTO_FIELD,
        summary="List of inter-op pools a session creates; each Session.run picks one by index.",
        type="repeated ThreadPoolOptionProto",
        default="empty (use the process-wide inter-op pool)",
        resolution=(
            "One pool per element, named tf_Compute0, tf_Compute1, ...; an element with num_threads 0 gets the default inter-op size (run on 2.21.0). "
            "RunOptions.inter_op_thread_pool chooses the pool for a step."
        ),
        read_when="When the tf.compat.v1.Session is created.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ThreadPoolOptionProto.num_threads",
            "ThreadPoolOptionProto.global_name",
            "RunOptions.inter_op_thread_pool",
        ),
        source=DIRECT_SESSION_FILE,
        message=CONFIG_PROTO,
        field_number=12,
        notes="It bounds how many ops run at once, not how many threads one op uses.",
        facts=(
            seen(
                "default resolution",
                "sessions",
                "unset the list had {default_session_pools} elements; with two elements of 1 and 0 threads a session started {session_pool_1_threads} `tf_Compute0` and {session_pool_0_threads} `tf_Compute1` threads, and steps run with pool indices 0, 1, -1, 0 ran on `{session_pools_ran_on}`",
                default_session_pools=0,
                session_pool_1_threads=1,
                session_pool_0_threads="{cpus}",
                session_pools_ran_on="tf_Compute0 tf_Compute1 caller tf_Compute0",
            ),
            SESSION_POOLS_START_AT_CREATION,
            seen(
                "notes",
                "sessions",
                "with a session pool of one thread, a matmul step still split over the intra-op pool: {session_pool_1_ops_split}",
                session_pool_1_ops_split="{several_cpus}",
            ),
        ),
    ),
    Setting(
        name="ThreadPoolOptionProto.num_threads",
        kind=Kind.PROTO_FIELD,
        summary="Size of one pool listed in session_inter_op_thread_pool.",
        type="int32",
        default="0 (TensorFlow picks)",
        resolution="0 gives the default inter-op size (config, then TF_NUM_INTEROP_THREADS, then the CPU count).",
        read_when="When the tf.compat.v1.Session is created.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.session_inter_op_thread_pool",
            "ThreadPoolOptionProto.global_name",
        ),
        source=DIRECT_SESSION_FILE,
        message=THREAD_POOL_OPTION_PROTO,
        field_number=1,
        facts=(
            seen(
                "default resolution",
                "sessions",
                "unset it was {default_pool_num_threads}; a pool of 0 threads got {session_pool_0_threads} threads ({cpus} CPUs), {session_pool_0_config_3} with `inter_op_parallelism_threads=3` and {session_pool_0_env_3} with `TF_NUM_INTEROP_THREADS=3`",
                default_pool_num_threads=0,
                session_pool_0_threads="{cpus}",
                session_pool_0_config_3=3,
                session_pool_0_env_3=3,
            ),
            SESSION_POOLS_START_AT_CREATION,
        ),
    ),
    Setting(
        name="ThreadPoolOptionProto.global_name",
        kind=Kind.PROTO_FIELD,
        summary="Name under which a session pool is shared process-wide with other sessions.",
        type="string",
        default='"" (the pool belongs to the session)',
        resolution=(
            "Non-empty: the first session that uses the name creates the pool; later sessions with the same name reuse it. "
            "Such pools are never freed."
        ),
        read_when="When the tf.compat.v1.Session is created.",
        freezes="When the first session using the name creates the pool; it lives until the process exits.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.session_inter_op_thread_pool",
            "ThreadPoolOptionProto.num_threads",
        ),
        source=DIRECT_SESSION_FILE,
        message=THREAD_POOL_OPTION_PROTO,
        field_number=2,
        notes="The C++ code has a 'configured previously with num_threads=...' error, but on 2.21.0 a second tf.compat.v1.Session asking for another size under the same name raised nothing, created no threads and ran its steps on the calling thread: the mistake silently costs the session its inter-op pool.",
        facts=(
            seen(
                "default resolution freezes read_when",
                "sessions",
                "unset it was {default_pool_global_name}; the first session naming a pool started {global_name_first_threads} threads, a second with the same name and size {global_name_second_threads}, and both ran on `{global_name_ran_on}`; after both sessions closed, {global_name_left_after_close} of the pool's threads were still there",
                default_pool_global_name="''",
                global_name_first_threads=2,  # the pool's num_threads, whatever the CPUs
                global_name_second_threads=0,
                global_name_ran_on="tf_Compute0 tf_Compute0",
                global_name_left_after_close=2,
            ),
            seen(
                "notes",
                "sessions",
                "a session asking for 3 threads under a name already used with 2 raised nothing, started {global_name_other_size_new_threads} threads and ran its step on `{global_name_other_size_ran_on}`",
                global_name_other_size_new_threads=0,
                global_name_other_size_ran_on="caller",
            ),
        ),
    ),
    Setting(
        name="RunOptions.inter_op_thread_pool",
        kind=Kind.PROTO_FIELD,
        summary="Index of the session_inter_op_thread_pool entry that runs this step.",
        type="int32",
        default="0 (the first pool)",
        resolution=(
            "-1 asks to run in the caller's thread (only honoured for single-executor steps). "
            "An index past the end fails with `InvalidArgumentError: Invalid inter_op_thread_pool: N` (run on 2.21.0)."
        ),
        read_when="On every Session.run call that passes these RunOptions.",
        freezes="Never; each run call can choose again.",
        tf2_path=ONLY_COMPAT_V1,
        related=(
            "ConfigProto.session_inter_op_thread_pool",
            "ConfigProto.inter_op_parallelism_threads",
        ),
        source=DIRECT_SESSION_FILE,
        message=RUN_OPTIONS,
        field_number=3,
        facts=(
            seen(
                "resolution",
                "sessions",
                "a step run with index 3 and no session pools failed with `{pool_index_past_end_error}`; with -1 a one-device step ran on `{caller_thread_single_executor}` and a two-device step on `{caller_thread_two_executors}`",
                pool_index_past_end_error="InvalidArgumentError: Invalid inter_op_thread_pool: 3",
                caller_thread_single_executor="caller",
                caller_thread_two_executors="tf_Compute",
            ),
            seen(
                "default read_when freezes",
                "sessions",
                "unset it was {default_run_pool_index}; one session's steps run with indices 0, 1, -1, 0 ran on `{session_pools_ran_on}`",
                default_run_pool_index=0,
                session_pools_ran_on="tf_Compute0 tf_Compute1 caller tf_Compute0",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.operation_timeout_in_ms",
        kind=Kind.PROTO_FIELD,
        summary="Deadline for blocking operations such as queue dequeues in a session.",
        type="int64",
        default="0 (no timeout)",
        resolution=(
            "0: no deadline. "
            "Positive: a step that waits longer fails with DeadlineExceededError (run on 2.21.0: 'Timed out waiting for notification'). "
            "A per-run RunOptions.timeout_in_ms overrides it."
        ),
        read_when="When the session (or the eager context) is created.",
        freezes=(
            "Fixed per session. "
            "In eager mode the internal setter raises `RuntimeError: Operation timeout cannot be modified after initialization.`."
        ),
        tf2_path="No public API (internal: context.context().operation_timeout_in_ms).",
        related=("ConfigProto.isolate_session_state",),
        source=EAGER_CONTEXT_FILE,
        message=CONFIG_PROTO,
        field_number=11,
        facts=(
            seen(
                "default resolution read_when",
                "sessions",
                "unset it was {default_operation_timeout}; a session with 200 waited {timeout_seconds} s on an empty queue and failed with `{timeout_error}`; `RunOptions(timeout_in_ms=800)` made the same step wait {run_timeout_seconds} s",
                default_operation_timeout=0,
                timeout_error="DeadlineExceededError: Timed out waiting for notification",
                run_timeout_overrides=True,
            ),
            seen(
                "freezes",
                "runtime",
                "setting it on the eager context after the first op raised `{operation_timeout_after_start_error}`",
                operation_timeout_after_start_error="RuntimeError: Operation timeout cannot be modified after initialization.",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.isolate_session_state",
        kind=Kind.PROTO_FIELD,
        summary="Keeps variables and other resources of a session invisible to other sessions.",
        type="bool",
        default="false",
        resolution="False: sessions on the same server share resource containers.",
        read_when="When the tf.compat.v1.Session is created.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=("ConfigProto.share_cluster_devices_in_session",),
        source=CONFIG_PROTO_FILE,
        message=CONFIG_PROTO,
        field_number=15,
        notes="It has no effect on threads or pools.",
        facts=(
            seen(
                "default resolution",
                "sessions",
                "unset it was {default_isolate_session_state}; on a local `tf.distribute.Server` a second session read a variable the first initialized: `{shared_variable_default}`; with it true the read failed: `{shared_variable_isolated}`",
                default_isolate_session_state=False,
                shared_variable_default="1.0",
                shared_variable_isolated="FailedPreconditionError",
            ),
            SESSION_POOLS_START_AT_CREATION,
            seen(
                "notes",
                "sessions",
                "a first session started {session_new_threads_isolated} threads with it and {session_new_threads_default} without",
                session_new_threads_isolated="{session_new_threads_default}",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.share_cluster_devices_in_session",
        kind=Kind.PROTO_FIELD,
        summary="Lets a worker session see the devices of the whole cluster.",
        type="bool",
        default="false",
        resolution="False: a worker session sees only its own task's devices.",
        read_when="When a distributed session is created.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=("ConfigProto.isolate_session_state",),
        source=CONFIG_PROTO_FILE,
        message=CONFIG_PROTO,
        field_number=17,
        notes=(
            "Distributed sessions only; no effect on threads. "
            "ConfigProto.Experimental has an older field of the same name (number 10)."
        ),
        facts=(
            seen(
                "default",
                "sessions",
                "unset it was {default_share_cluster_devices}",
                default_share_cluster_devices=False,
            ),
            cite(
                CONFIG_PROTO_FILE,
                "resolution read_when freezes notes",
                why="needs a cluster of several tasks: it changes which devices the worker-side sessions of a distributed master see",
            ),
        ),
    ),
)
