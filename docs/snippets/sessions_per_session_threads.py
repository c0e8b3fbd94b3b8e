import time

import tensorflow as tf

from tfthreads.inventory import diff, inventory

tf.compat.v1.disable_eager_execution()
total = tf.reduce_sum(tf.ones([64, 64]))
queue = tf.compat.v1.FIFOQueue(1, tf.float32)
before = inventory()
config = tf.compat.v1.ConfigProto(use_per_session_threads=True, inter_op_parallelism_threads=3)
with tf.compat.v1.Session(config=config) as session:
    session.run(total)
    print("own inter-op pool:", diff(before, inventory()).get("tf_Compute", 0))
# The pool's threads end after close() returns, not within it: wait (up to 10 s) for them.
deadline = time.monotonic() + 10
while diff(before, inventory()).get("tf_Compute", 0) and time.monotonic() < deadline:
    time.sleep(0.01)
print("after close:", diff(before, inventory()).get("tf_Compute", 0))
config = tf.compat.v1.ConfigProto(operation_timeout_in_ms=100)
with tf.compat.v1.Session(config=config) as session:
    try:
        session.run(queue.dequeue())  # the queue is empty: the step waits
    except tf.errors.DeadlineExceededError as error:
        print("DeadlineExceededError:", error.message.splitlines()[-1])
config = tf.compat.v1.ConfigProto(isolate_session_state=True, share_cluster_devices_in_session=True)
with tf.compat.v1.Session(config=config) as session:
    print("isolated session ran:", session.run(total))
