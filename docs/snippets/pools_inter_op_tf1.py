import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

tf.compat.v1.disable_eager_execution()
total = tf.reduce_sum(tf.ones([64, 64]))
before = inventory()
config = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=1)
with tf.compat.v1.Session(config=config) as session:
    session.run(total)
print("inter-op threads:", pool_counts(before)["inter_op"])
