import os

import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

before = inventory()
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.constant(1.0)
pools = pool_counts(before)
print("inter-op threads:", pools["inter_op"])
intra = pools["intra_op"]
print("intra-op threads = CPUs in the affinity mask:", intra == len(os.sched_getaffinity(0)))
try:
    tf.config.threading.set_inter_op_parallelism_threads(2)
except RuntimeError as error:
    print(error)
