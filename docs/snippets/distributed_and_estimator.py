import importlib.util

import tensorflow as tf

from tfthreads.inventory import diff, inventory
from tfthreads.process import run_forked

print(
    "tf.estimator:",
    hasattr(tf, "estimator"),
    "tensorflow_estimator:",
    importlib.util.find_spec("tensorflow_estimator"),
)
print(
    "tf.compat.v1.train.Server is tf.distribute.Server:",
    tf.compat.v1.train.Server is tf.distribute.Server,
)


def case(server, session):
    def run():
        before = inventory()
        made = tf.distribute.Server.create_local_server(
            config=tf.compat.v1.ConfigProto(
                intra_op_parallelism_threads=server, inter_op_parallelism_threads=server
            )
        )
        inter_op = diff(before, inventory()).get("tf_Compute", 0)
        with tf.compat.v1.Graph().as_default():
            x = tf.random.normal([1500, 1500])
            y = tf.reduce_sum(tf.matmul(x, x))
            config = tf.compat.v1.ConfigProto(
                intra_op_parallelism_threads=session, inter_op_parallelism_threads=session
            )
            with tf.compat.v1.Session(made.target, config=config) as sess:
                sess.run(y)
                cpu = {t.tid: t.cpu_seconds for t in inventory().threads}
                for _ in range(6):
                    sess.run(y)
                gained = [t.cpu_seconds - cpu.get(t.tid, 0.0) for t in inventory().threads]
        busy = sum(1 for g in gained if g >= 0.1)
        return f"server config {server}, session config {session}: inter-op threads {inter_op}, threads that ran the matmul {busy}"

    return run


for server, session in [(1, 2), (2, 1)]:
    print(run_forked(case(server, session))["value"])
