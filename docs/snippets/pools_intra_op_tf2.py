import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

before = inventory()
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.constant(1.0)  # the first op starts the runtime and fixes the pool
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
try:
    tf.config.threading.set_intra_op_parallelism_threads(4)
except RuntimeError as error:
    print(error)
