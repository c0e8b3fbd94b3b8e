"""Environment variables: TensorFlow's pool sizes and switches, and the OpenMP ones it ignores.

The entries of the reference page ``docs/reference/environment.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    GPU_DEVICE_FILE,
    GPU_VARIABLES_LEAVE_CPU_POOLS,
    LOCAL_DEVICE_FILE,
    NEEDS_GPU,
    OPENMP_UNUSED_BY_STOCK_WHEEL,
    PORT_FILE,
    PROCESS_UTIL_FILE,
    cite,
    seen,
)
from tfthreads.catalog.model import Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="TF_NUM_INTRAOP_THREADS",
        kind=Kind.ENV_VAR,
        summary="Default intra-op pool size when the config leaves it at 0.",
        type="integer",
        default="unset",
        resolution="Used only when intra_op_parallelism_threads is 0; > 0 sets the size; unset or 0 falls back to the number of CPUs in the process's affinity mask (sched_getaffinity); negative aborts the process at start-up (run on 2.21.0).",
        read_when="Once, when the first CPU device is created; setting os.environ after importing TensorFlow but before the first op works (run on 2.21.0).",
        freezes="After the first read; later changes are ignored without any message.",
        tf2_path="`tf.config.threading.set_intra_op_parallelism_threads(n)`",
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "TF_NUM_INTEROP_THREADS",
        ),
        source=LOCAL_DEVICE_FILE,
        notes="The config value wins over it (run on 2.21.0).",
        facts=(
            seen(
                "resolution read_when",
                "runtime",
                "set in `os.environ` after `import tensorflow`, 3 gave an intra-op pool of {env_intra_op_3} threads and -1 killed the process with signal 6 and `{env_intra_op_negative_check}`",
                env_intra_op_3=3,
                env_intra_op_negative_exit=-6,
                env_intra_op_negative_check="Check failed: num_threads >= 1 (-1 vs. 1)",
            ),
            seen(
                "notes",
                "runtime",
                "with the variable at 3 and the setter at 1 the pool had {config_1_over_env_3} thread",
                config_1_over_env_3=1,
            ),
            seen(
                "default freezes",
                "runtime",
                "unset, the intra-op pool had {default_intra_op} threads ({cpus} CPUs); set to 3 after the first op, a new session started {env_3_after_start_new_intra_op} intra-op threads and nothing was printed",
                default_intra_op="{cpus}",
                env_3_after_start_new_intra_op=0,
            ),
        ),
    ),
    Setting(
        name="TF_NUM_INTEROP_THREADS",
        kind=Kind.ENV_VAR,
        summary="Default inter-op pool size when the config leaves it at 0.",
        type="integer",
        default="unset",
        resolution=(
            "Used only when inter_op_parallelism_threads is 0; > 0 sets the size; unset or 0 falls back to the number of CPUs in the process's affinity mask (sched_getaffinity). "
            "Negative: the eager pool gets the default size (run on 2.21.0); a Session may run steps in the caller's thread."
        ),
        read_when="When the eager context or the first session creates its inter-op pool.",
        freezes="After the pool exists; later changes are ignored without any message.",
        tf2_path="`tf.config.threading.set_inter_op_parallelism_threads(n)`",
        related=(
            "ConfigProto.inter_op_parallelism_threads",
            "TF_NUM_INTRAOP_THREADS",
        ),
        source=PROCESS_UTIL_FILE,
        facts=(
            seen(
                "resolution read_when",
                "runtime",
                "set in `os.environ` after `import tensorflow`, 3 gave {env_inter_op_3} `tf_Compute` threads and -1 gave {env_inter_op_negative} ({cpus} CPUs)",
                env_inter_op_3=3,
                env_inter_op_negative="{cpus}",
            ),
            seen(
                "default freezes",
                "runtime",
                "unset, the inter-op pool had {default_inter_op} threads; set to 3 after the first op, a new session's own inter-op pool had {env_3_after_start_new_session_inter_op} threads",
                default_inter_op="{cpus}",
                env_3_after_start_new_session_inter_op="{cpus}",
            ),
        ),
    ),
    Setting(
        name="TF_OVERRIDE_GLOBAL_THREADPOOL",
        kind=Kind.ENV_VAR,
        summary="Gives every CPU device its own intra-op pool instead of one shared pool.",
        type="boolean (true/false/1/0)",
        default="unset (false)",
        resolution="True: each CPU device gets a pool of intra_op_parallelism_threads threads; on 2.21.0 three logical CPUs with intra=2 gave 6 pool threads instead of 2.",
        read_when="When the CPU devices are created.",
        freezes="At start-up.",
        tf2_path="No TF2 API; set the variable before TensorFlow starts.",
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "ConfigProto.device_count",
        ),
        source=LOCAL_DEVICE_FILE,
        facts=(
            seen(
                "default resolution read_when",
                "runtime",
                "with three logical CPUs and an intra-op size of 2, set in `os.environ` after `import tensorflow` it gave {override_3_devices_intra_2} intra-op threads, unset {no_override_3_devices_intra_2}",
                override_3_devices_intra_2=6,
                no_override_3_devices_intra_2=2,
            ),
            seen(
                "freezes",
                "runtime",
                "set after the first op, a session with three CPU devices started {override_after_start_new_intra_op} intra-op threads",
                override_after_start_new_intra_op=0,
            ),
        ),
    ),
    Setting(
        name="TF_ENABLE_ONEDNN_OPTS",
        kind=Kind.ENV_VAR,
        summary="Turns TensorFlow's oneDNN-optimized CPU kernels on or off.",
        type="boolean (true/false/1/0)",
        default="unset: on Linux, on for x86 CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX (TILE, INT8 or BF16) and for Arm Neoverse V1, off otherwise; on for Windows on x86; off on other systems and in builds without oneDNN",
        resolution=(
            "1: on, and TensorFlow logs 'oneDNN custom operations are on' at import; 0: off. "
            "On a 2.21.0 wheel on a CPU without those features it was off by default and 1 turned it on."
        ),
        read_when="At import of tensorflow.",
        freezes="At import; set it before importing TensorFlow.",
        tf2_path="No TF2 API; set the variable before importing TensorFlow.",
        related=(
            "OMP_NUM_THREADS",
            "ConfigProto.intra_op_parallelism_threads",
        ),
        source=PORT_FILE,
        notes="In the pip wheel oneDNN runs on the intra-op pool, so intra-op settings size it; it does not start an OpenMP pool.",
        facts=(
            seen(
                "default read_when freezes",
                "runtime",
                "unset, oneDNN was on: {onednn_on_by_default}; this CPU has one of the features the Linux check tests: {cpu_has_onednn_feature}; changing the variable after `import tensorflow` left it as it was ({onednn_unchanged_by_env_after_import})",
                onednn_on_by_default="{cpu_has_onednn_feature}",
                onednn_unchanged_by_env_after_import=True,
            ),
            cite(
                PORT_FILE,
                "default",
                why="the default on Windows, macOS, Arm and CPUs without these features needs those systems",
            ),
            seen(
                "resolution",
                "onednn",
                "started with 1, oneDNN was on ({onednn_on_with_1}) and the import logged 'oneDNN custom operations are on' ({onednn_on_import_log_with_1})",
                onednn_on_with_1=True,
                onednn_on_import_log_with_1=True,
            ),
            seen(
                "resolution",
                "data_pipeline",
                "started with 0, oneDNN was on: {onednn_on_with_0}",
                onednn_on_with_0=False,
            ),
            seen(
                "notes",
                "onednn",
                "with oneDNN on, a 1000x1000 matmul started an intra-op pool of {omp_1_intra_op} threads ({cpus} CPUs), an inter-op pool of {omp_1_inter_op} and otherwise only `{onednn_matmul_other_threads}`: no OpenMP pool",
                omp_1_intra_op="{cpus}",
                omp_1_inter_op="{cpus}",
                onednn_matmul_other_threads="tf_graph_runner",
            ),
        ),
    ),
    Setting(
        name="OMP_NUM_THREADS",
        kind=Kind.ENV_VAR,
        summary="OpenMP thread count; sizes no TensorFlow pool in the stock pip wheel.",
        type="integer",
        default="unset",
        resolution=(
            "Ignored by the stock pip wheel's pools: on 2.21.0 setting it to 1 changed only NumPy's OpenBLAS thread. "
            "Only TensorFlow builds that use OpenMP (e.g. --config=mkl) read it for oneDNN and inter-op sizing."
        ),
        read_when="Never by the stock wheel's pools; by OpenMP-using libraries at load.",
        freezes="Not applicable to the stock wheel.",
        tf2_path="No TF2 API; use `tf.config.threading` instead.",
        related=(
            "TF_ENABLE_ONEDNN_OPTS",
            "KMP_BLOCKTIME",
            "KMP_AFFINITY",
            "ConfigProto.intra_op_parallelism_threads",
        ),
        source=PROCESS_UTIL_FILE,
        notes="A common tuning-guide myth: guides written for Intel's OpenMP builds do not apply to the pip wheel.",
        effective_in_stock_wheel=False,
        facts=(OPENMP_UNUSED_BY_STOCK_WHEEL,),
    ),
    Setting(
        name="KMP_BLOCKTIME",
        kind=Kind.ENV_VAR,
        summary="Intel OpenMP spin time before a thread sleeps; ignored by the stock pip wheel.",
        type="integer (milliseconds)",
        default="unset",
        resolution="The stock wheel does not use Intel OpenMP; TensorFlow's main shared libraries do not contain the name (checked on 2.21.0).",
        read_when="Never by the stock wheel.",
        freezes="Not applicable to the stock wheel.",
        tf2_path="No TF2 API; ConfigProto.Experimental.disable_thread_spinning is the closest TensorFlow setting.",
        related=(
            "OMP_NUM_THREADS",
            "KMP_AFFINITY",
            "ConfigProto.Experimental.disable_thread_spinning",
        ),
        source="Intel OpenMP runtime (not TensorFlow)",
        effective_in_stock_wheel=False,
        facts=(OPENMP_UNUSED_BY_STOCK_WHEEL,),
    ),
    Setting(
        name="KMP_AFFINITY",
        kind=Kind.ENV_VAR,
        summary="Intel OpenMP thread pinning; ignored by the stock pip wheel.",
        type="string",
        default="unset",
        resolution="The stock wheel does not use Intel OpenMP; TensorFlow's main shared libraries do not contain the name (checked on 2.21.0).",
        read_when="Never by the stock wheel.",
        freezes="Not applicable to the stock wheel.",
        tf2_path="No TF2 API; pin the process with `taskset` or `numactl` instead.",
        related=(
            "OMP_NUM_THREADS",
            "KMP_BLOCKTIME",
        ),
        source="Intel OpenMP runtime (not TensorFlow)",
        notes="The pool sizes follow the affinity mask, so taskset changes them.",
        effective_in_stock_wheel=False,
        facts=(OPENMP_UNUSED_BY_STOCK_WHEEL,),
    ),
    Setting(
        name="TF_GPU_THREAD_MODE",
        kind=Kind.ENV_VAR,
        summary="How host threads that launch GPU work are organized: global, gpu_private or gpu_shared.",
        type="string",
        default="unset (global)",
        resolution="gpu_private: a dedicated pool per GPU; gpu_shared: one dedicated pool for all GPUs.",
        read_when="When the GPU devices are created.",
        freezes="At start-up.",
        tf2_path="No TF2 API; set the variable before TensorFlow starts.",
        related=(
            "TF_GPU_THREAD_COUNT",
            "ConfigProto.inter_op_parallelism_threads",
        ),
        source=GPU_DEVICE_FILE,
        notes="No effect on a CPU-only machine: the CPU pools keep their sizes.",
        facts=(
            GPU_VARIABLES_LEAVE_CPU_POOLS,
            cite(GPU_DEVICE_FILE, "default resolution read_when freezes", why=NEEDS_GPU),
        ),
    ),
    Setting(
        name="TF_GPU_THREAD_COUNT",
        kind=Kind.ENV_VAR,
        summary="Threads per dedicated GPU host pool when TF_GPU_THREAD_MODE is not global.",
        type="integer",
        default="unset (2)",
        resolution="Used only with gpu_private or gpu_shared.",
        read_when="When the GPU devices are created.",
        freezes="At start-up.",
        tf2_path="No TF2 API; set the variable before TensorFlow starts.",
        related=("TF_GPU_THREAD_MODE",),
        source=GPU_DEVICE_FILE,
        notes="No effect on a CPU-only machine: the CPU pools keep their sizes.",
        facts=(
            GPU_VARIABLES_LEAVE_CPU_POOLS,
            cite(GPU_DEVICE_FILE, "default resolution read_when freezes", why=NEEDS_GPU),
        ),
    ),
)
