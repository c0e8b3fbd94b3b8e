"""The oneDNN probe: what ``TF_ENABLE_ONEDNN_OPTS=1`` and OpenMP's variables change.

Variables read at import can only be observed in a process started with them, so this
probe's process starts with :data:`ENV`.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from tfthreads.catalog.probes._common import (
    cpu_count,
    dataset_matmul_split,
    import_tensorflow,
    onednn_enabled,
)
from tfthreads.inventory import classify, diff, inventory, pool_counts
from tfthreads.process import run_forked

__all__ = ["ENV", "probe"]

#: oneDNN on, OpenMP asked for one thread, and Intel OpenMP's variables set.
ENV: dict[str, str | None] = {
    "TF_ENABLE_ONEDNN_OPTS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "0",
    "OMP_NUM_THREADS": "1",
    "KMP_BLOCKTIME": "0",
    "KMP_AFFINITY": "granularity=fine,compact",
}


def probe() -> dict[str, Any]:
    """Observe oneDNN turned on by ``TF_ENABLE_ONEDNN_OPTS=1``, and that OpenMP variables size no pool.

    Run with ``TF_ENABLE_ONEDNN_OPTS=1``, ``OMP_NUM_THREADS=1`` and ``KMP_*`` set (see
    :data:`ENV`): variables read at import can only be observed in a process started
    with them.
    """
    tf, import_log = import_tensorflow()

    def matmul_threads() -> dict[str, Any]:
        before = inventory()
        matrix = tf.random.uniform((1000, 1000))
        float(tf.reduce_sum(tf.matmul(matrix, matrix)))
        added = diff(before, inventory())
        other = sorted(name for name in added if classify(name) not in ("unnamed", "inter-op pool"))
        return {**pool_counts(before), "other": " ".join(other)}

    matmul = run_forked(matmul_threads)["value"]
    capped = run_forked(functools.partial(dataset_matmul_split, 1))["value"]
    return {
        "cpus": cpu_count(),
        "onednn_on_with_1": onednn_enabled(),
        "onednn_on_import_log_with_1": "oneDNN custom operations are on" in import_log,
        "omp_1_intra_op": matmul["intra_op"],
        "omp_1_inter_op": matmul["inter_op"],
        "onednn_matmul_other_threads": matmul["other"],
        "onednn_ops_split_cap_1": capped,
        "python": sys.version.split()[0],
    }
