import os
from pathlib import Path

from tfthreads.inventory import inventory, pool_counts

before = sorted(os.sched_getaffinity(0))
import numpy  # noqa: F401  (loading it starts OpenBLAS, whose threads are counted)

numpy_threads = inventory().count
import tensorflow as tf

after_import = sorted(os.sched_getaffinity(0))
start = inventory()
tf.matmul(tf.ones([256, 256]), tf.ones([256, 256]))
maps = Path("/proc/self/maps").read_text()
print(
    "affinity before import:",
    before,
    "after import:",
    after_import,
    "after an op:",
    sorted(os.sched_getaffinity(0)),
)
print(
    "pools:",
    pool_counts(start),
    "threads after numpy:",
    numpy_threads,
    "after an op:",
    inventory().count,
)
print("OpenMP runtime loaded:", any(n in maps for n in ("libiomp5", "libgomp", "libomp")))
