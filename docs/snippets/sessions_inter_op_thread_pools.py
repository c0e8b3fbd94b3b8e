import os

import tensorflow as tf

from tfthreads.inventory import diff, inventory

tf.compat.v1.disable_eager_execution()
total = tf.reduce_sum(tf.ones([64, 64]))
before = inventory()
config = tf.compat.v1.ConfigProto(
    session_inter_op_thread_pool=[
        {"num_threads": 0},
        {"num_threads": 1, "global_name": "shared"},
    ]
)
with tf.compat.v1.Session(config=config) as session:
    session.run(total, options=tf.compat.v1.RunOptions(inter_op_thread_pool=1))
    new = diff(before, inventory())
    cpus = len(os.sched_getaffinity(0))
    print("pool 0 has one thread per CPU:", new.get("tf_Compute0", 0) == cpus)
    print("pool 1:", new.get("tf_Compute1", 0))
    try:
        session.run(total, options=tf.compat.v1.RunOptions(inter_op_thread_pool=5))
    except tf.errors.InvalidArgumentError as error:
        print("InvalidArgumentError:", error.message.splitlines()[-1])
