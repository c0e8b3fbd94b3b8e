"""The process-wide pools: ``intra_op_parallelism_threads`` and ``inter_op_parallelism_threads``.

The entries of the reference page ``docs/reference/pools.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    CONFIG_PROTO,
    LOCAL_DEVICE_FILE,
    PROCESS_UTIL_FILE,
    seen,
)
from tfthreads.catalog.model import Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="ConfigProto.intra_op_parallelism_threads",
        kind=Kind.PROTO_FIELD,
        summary="Number of threads one op (a matmul, a convolution) may split its work over.",
        type="int32",
        default="0 (TensorFlow picks)",
        resolution=(
            "The value if > 0; if 0, TF_NUM_INTRAOP_THREADS if > 0; otherwise the number of CPUs in the process's affinity mask (sched_getaffinity). "
            "A container's CPU quota is not consulted. "
            "Negative: the setter accepts it, and the process then aborts when the runtime starts with `Check failed: num_threads >= 1` from threadpool.cc (run on 2.21.0). "
            "Values of 2**31 or more are also accepted by the setter and raise `ValueError: Value out of range` at start-up."
        ),
        read_when="Read once, when the runtime starts: the first op, tf.config.list_logical_devices(), building a model, or the first tf.compat.v1.Session.",
        freezes=(
            "When the runtime starts; the pool is process-global and the first session or eager context sizes it. "
            "Afterwards the TF2 setter raises `RuntimeError: Intra op parallelism cannot be modified after initialization.` (any value other than the one last set, even 0)."
        ),
        tf2_path="`tf.config.threading.set_intra_op_parallelism_threads(n)`",
        related=(
            "TF_NUM_INTRAOP_THREADS",
            "ConfigProto.inter_op_parallelism_threads",
            "TF_OVERRIDE_GLOBAL_THREADPOOL",
            "--tensorflow_intra_op_parallelism",
        ),
        source=LOCAL_DEVICE_FILE,
        message=CONFIG_PROTO,
        field_number=2,
        notes=(
            "tf.config.threading.get_intra_op_parallelism_threads() returns the configured value (0 when unset), not the real pool size. "
            "All CPU devices and sessions share one pool unless TF_OVERRIDE_GLOBAL_THREADPOOL is set."
        ),
        facts=(
            seen(
                "default resolution",
                "runtime",
                "with nothing set the intra-op pool had {default_intra_op} threads; with `TF_NUM_INTRAOP_THREADS=3`, {env_intra_op_3}; with the setter at 1 and the variable at 3, {config_1_over_env_3}; with -1 the process died with signal 6 and `{intra_op_negative_check}`",
                default_intra_op="{cpus}",
                env_intra_op_3=3,
                config_1_over_env_3=1,
                intra_op_negative_exit=-6,
                intra_op_negative_check="Check failed: num_threads >= 1 (-1 vs. 1)",
            ),
            seen(
                "freezes read_when",
                "runtime",
                "the setter called after the first op raised `{late_intra_op_error}`, also when asked for 0",
                late_intra_op_error="RuntimeError: Intra op parallelism cannot be modified after initialization.",
                late_intra_op_zero_error="RuntimeError: Intra op parallelism cannot be modified after initialization.",
            ),
            seen(
                "notes",
                "runtime",
                "with nothing set, `get_intra_op_parallelism_threads()` returned {unset_getter} while the pool had {default_intra_op} threads",
                unset_getter=0,
            ),
        ),
    ),
    Setting(
        name="ConfigProto.inter_op_parallelism_threads",
        kind=Kind.PROTO_FIELD,
        summary="Number of threads that run independent ops of a graph at the same time.",
        type="int32",
        default="0 (TensorFlow picks)",
        resolution=(
            "The value if > 0; if 0, TF_NUM_INTEROP_THREADS if > 0; otherwise the number of CPUs in the process's affinity mask (sched_getaffinity) (not 2). "
            "Negative: in eager mode the default size is used; in a tf.compat.v1.Session it asks to run a step in the caller's thread, which only happens when the step has a single executor; in a `tf.distribute.Server` the compute pool gets the value as is and the process aborts with `Check failed: num_threads >= 1`."
        ),
        read_when="Read once, when the runtime starts: the first op, tf.config.list_logical_devices(), building a model, or the first tf.compat.v1.Session.",
        freezes=(
            "When the eager context or the first session starts. "
            "Afterwards the TF2 setter raises `RuntimeError: Inter op parallelism cannot be modified after initialization.`."
        ),
        tf2_path="`tf.config.threading.set_inter_op_parallelism_threads(n)`",
        related=(
            "TF_NUM_INTEROP_THREADS",
            "ConfigProto.intra_op_parallelism_threads",
            "ConfigProto.use_per_session_threads",
            "ConfigProto.session_inter_op_thread_pool",
            "--tensorflow_inter_op_parallelism",
        ),
        source=PROCESS_UTIL_FILE,
        message=CONFIG_PROTO,
        field_number=5,
        notes=(
            "The threads are named tf_Compute in 2.21 (visible in `/proc/<pid>/task/*/comm`). "
            "With defaults, a process gets about two threads per CPU: one intra-op and one inter-op pool, each as large as the CPU count. "
            "Eager ops called one by one from Python run on the calling thread, not on this pool; the pool runs the independent ops of a graph, such as a `tf.function`, so its size matters for graphs and `tf.function`, not for a loop of eager ops."
        ),
        facts=(
            seen(
                "default resolution notes",
                "runtime",
                "with nothing set the inter-op pool had {default_inter_op} `tf_Compute` threads and the intra-op pool {default_intra_op}; with `TF_NUM_INTEROP_THREADS=3`, {env_inter_op_3}; with the TF2 setter at -1, {inter_op_negative_eager}",
                default_inter_op="{cpus}",
                default_intra_op="{cpus}",
                env_inter_op_3=3,
                inter_op_negative_eager="{cpus}",
            ),
            seen(
                "resolution",
                "sessions",
                "a `tf.compat.v1.Session` with -1 ran its steps (exit {session_inter_op_negative_exit}); a `tf.distribute.Server` with -1 died with signal 6 and `{server_inter_op_negative_check}`",
                session_inter_op_negative_exit=0,
                server_inter_op_negative_exit=-6,
                server_inter_op_negative_check="Check failed: num_threads >= 1 (-1 vs. 1)",
            ),
            seen(
                "freezes read_when",
                "runtime",
                "the setter called after the first op raised `{late_inter_op_error}`",
                late_inter_op_error="RuntimeError: Inter op parallelism cannot be modified after initialization.",
            ),
            seen(
                "notes",
                "execution",
                "small independent ops (each a `tf.sin`, a multiply and a `tf.reduce_sum` of 100 floats, 128 or more of them) called one by one from Python gave the inter-op pool {eager_ops_on_inter_op_share} of the process's CPU time and all the threads the runtime started {eager_ops_on_runtime_threads_share}, so the calling thread ran them (pool took part: {eager_ops_on_inter_op}; runtime threads took part: {eager_ops_on_runtime_threads}); the same ops in one `tf.function` gave the inter-op pool {function_ops_on_inter_op_share} of it (pool took part: {function_ops_on_inter_op})",
                eager_ops_on_inter_op=False,
                eager_ops_on_runtime_threads=False,
                function_ops_on_inter_op=True,
            ),
        ),
    ),
)
