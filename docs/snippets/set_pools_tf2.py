import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

before = inventory()
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(2)
tf.constant(1.0)  # the runtime starts here
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
print("inter-op threads:", pools["inter_op"])
print(
    "configured:",
    tf.config.threading.get_intra_op_parallelism_threads(),
    tf.config.threading.get_inter_op_parallelism_threads(),
)
