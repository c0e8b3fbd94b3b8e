import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

tf.compat.v1.disable_eager_execution()
total = tf.reduce_sum(tf.ones([64, 64]))
before = inventory()
config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=2)
with tf.compat.v1.Session(config=config) as session:
    session.run(total)
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
