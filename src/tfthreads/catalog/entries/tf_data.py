"""``tf.data`` options: a pipeline's private pool, its ops' intra-op cap, the autotuner's budget.

The entries of the reference page ``docs/reference/tf-data.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    DATA_OPTIONS_FILE,
    cite,
    seen,
)
from tfthreads.catalog.model import Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="tf.data.Options.threading.private_threadpool_size",
        kind=Kind.TF_DATA_OPTION,
        summary="Gives a tf.data pipeline its own thread pool of this size.",
        type="integer",
        default="None (a private pool of one thread per schedulable CPU for every iterator)",
        resolution=(
            "None or 0: each iterator gets a private pool with one thread per schedulable CPU; n > 0: a private pool of n threads. "
            "Negative: no private pool, so the pipeline runs on the runner of the op that iterates it (the inter-op pool). "
            "A non-integer raises TypeError."
        ),
        read_when="When the dataset is iterated (an iterator is created).",
        freezes="Per iterator; apply new options with dataset.with_options(...).",
        tf2_path="`options.threading.private_threadpool_size = n`",
        # Not the inter-op pool: by default the private pool is a pool of its own.
        related=(
            "tf.data.Options.threading.max_intra_op_parallelism",
            "tf.data.Options.autotune.cpu_budget",
        ),
        source=DATA_OPTIONS_FILE,
        facts=(
            seen(
                "default resolution",
                "data_pipeline",
                "an iterator's private pool had {private_pool_default} threads with the default options (`{options_default_private_threadpool_size}`), {private_pool_0} with 0, {private_pool_1} with 1 and {private_pool_3} with 3; with -1 the iterator added {iterator_threads_negative} threads, none of a pool",
                private_pool_default="{cpus}",
                private_pool_0="{cpus}",
                private_pool_1=1,
                private_pool_3=3,
                options_default_private_threadpool_size="None",
            ),
            seen(
                "resolution",
                "data_pipeline",
                "a float raised `{non_integer_error}`",
                non_integer_error="TypeError: Property \"private_threadpool_size\" must be of type <class 'int'>, got: 1.5 (type: <class 'float'>)",
            ),
            seen(
                "read_when freezes",
                "data_pipeline",
                "`with_options` started {pool_threads_at_with_options} threads and creating the iterator {pool_threads_at_iter} more than with -1; options of 3 then 1 applied with `with_options` gave a pool of {private_pool_3_then_1}",
                pool_threads_at_with_options=0,
                pool_threads_at_iter=3,
                private_pool_3_then_1=1,
            ),
        ),
    ),
    Setting(
        name="tf.data.Options.threading.max_intra_op_parallelism",
        kind=Kind.TF_DATA_OPTION,
        summary="Caps how many threads one op inside a tf.data function may use.",
        type="integer",
        default="None (1: ops inside dataset functions do not split their work)",
        resolution="None or 1: an op inside a dataset function runs on the one thread that calls it; n > 1 lets it split over up to n threads of the intra-op pool. oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS`) split on their own terms, whatever the option says.",
        read_when="When the dataset is iterated (an iterator is created).",
        freezes="Per iterator; apply new options with dataset.with_options(...).",
        tf2_path="`options.threading.max_intra_op_parallelism = n`",
        related=(
            "tf.data.Options.threading.private_threadpool_size",
            "ConfigProto.intra_op_parallelism_threads",
            "TF_ENABLE_ONEDNN_OPTS",
        ),
        source=DATA_OPTIONS_FILE,
        notes="It limits work inside one op, not how many elements are processed in parallel (that is num_parallel_calls).",
        facts=(
            seen(
                "default resolution",
                "data_pipeline",
                "with oneDNN off, a matmul in a dataset function split over the intra-op pool: {ops_split_default} with the default (`{options_default_max_intra_op_parallelism}`), {ops_split_cap_1} with 1, {ops_split_cap_2} with 2",
                options_default_max_intra_op_parallelism="None",
                ops_split_default=False,
                ops_split_cap_1=False,
                ops_split_cap_2="{several_cpus}",
            ),
            seen(
                "resolution",
                "onednn",
                "with oneDNN on, the matmul split over the intra-op pool with 1 too: {onednn_ops_split_cap_1}",
                onednn_ops_split_cap_1="{several_cpus}",
            ),
            seen(
                "read_when freezes",
                "data_pipeline",
                "each case applied the option with `with_options`: 2 split the matmul ({ops_split_cap_2}), 1 did not ({ops_split_cap_1})",
                ops_split_cap_2="{several_cpus}",
                ops_split_cap_1=False,
            ),
            seen(
                "notes",
                "data_pipeline",
                "with the option at 1, four 0.25 s elements mapped with `num_parallel_calls=4` took {parallel_calls_seconds} s",
                # tf.data's default private pool has one thread per CPU: on one CPU
                # elements run one at a time, whatever the option.
                parallel_calls_overlap="{several_cpus}",
            ),
        ),
    ),
    Setting(
        name="tf.data.Options.autotune.cpu_budget",
        kind=Kind.TF_DATA_OPTION,
        summary="Number of CPU cores tf.data's autotuner assumes it may use.",
        type="integer",
        default="None (the number of schedulable CPU cores)",
        resolution="None: schedulable CPU cores (the affinity mask); larger values are allowed but may oversubscribe.",
        read_when="When the dataset is iterated with autotuning on.",
        freezes="Per iterator; apply new options with dataset.with_options(...).",
        tf2_path="`options.autotune.cpu_budget = n`",
        related=("tf.data.Options.threading.private_threadpool_size",),
        source=DATA_OPTIONS_FILE,
        notes="Like the pools, it does not follow a container's CPU quota, so set it explicitly under CPU limits.",
        facts=(
            seen(
                "default",
                "data_pipeline",
                "unset it was `{options_default_cpu_budget}`",
                options_default_cpu_budget="None",
            ),
            cite(
                DATA_OPTIONS_FILE,
                "resolution read_when freezes notes",
                why="the budget enters only the autotuner's internal model: with a 16-thread private pool, budgets of 1, 8 and None all reached 16 concurrent calls, so no thread count shows it; a CPU quota needs a container",
            ),
        ),
    ),
)
