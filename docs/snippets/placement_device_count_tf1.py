import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

tf.compat.v1.disable_eager_execution()
sums = []
for i in range(4):
    with tf.device(f"/cpu:{i}"):
        sums.append(tf.reduce_sum(tf.ones([64, 64])))
before = inventory()
config = tf.compat.v1.ConfigProto(device_count={"CPU": 4}, intra_op_parallelism_threads=2)
with tf.compat.v1.Session(config=config) as session:
    session.run(sums)
    print("CPU devices:", len(session.list_devices()))
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
