from tfthreads.inventory import inventory

at_start = {thread.tid for thread in inventory().threads}
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

blas = {thread.tid for thread in inventory().threads} - at_start  # started by OpenBLAS
import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(2)
matrix = np.random.default_rng(0).random((1500, 1500))


@tf.function(autograph=False)
def step(x):
    return tf.numpy_function(lambda a: a @ a, [x], tf.float64)


def cpu_seconds_of_blas_threads(steps=3):
    before = {thread.tid: thread.cpu_seconds for thread in inventory().threads}
    for _ in range(steps):
        step(matrix)
    return sum(
        thread.cpu_seconds - before[thread.tid]
        for thread in inventory().threads
        if thread.tid in blas
    )


library = threadpool_info()[0]
print(
    "BLAS:", library["internal_api"], library["threading_layer"], library["num_threads"], "threads"
)
print("threads OpenBLAS started at import:", len(blas))
with threadpool_limits(limits=1, user_api="blas"):
    step(matrix)  # the runtime starts here
    print("capped, their CPU time:", cpu_seconds_of_blas_threads())
print("not capped, their CPU time is above 0:", cpu_seconds_of_blas_threads() > 0)
