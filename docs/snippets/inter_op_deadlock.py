import functools
import time

import tensorflow as tf

from tfthreads.process import run_forked_together

tf1 = tf.compat.v1


def tf2_py_function_calls_a_function(inter_op):
    tf.config.threading.set_inter_op_parallelism_threads(inter_op)

    @tf.function
    def inner(x):
        return x * 2.0

    @tf.function
    def outer(x):
        return tf.py_function(inner, [x], tf.float32)

    return float(outer(tf.constant(1.0)))


def tf1_py_functions_call_the_session(inter_op, calls):
    tf1.disable_eager_execution()
    config = tf1.ConfigProto(inter_op_parallelism_threads=inter_op)
    session = tf1.Session(config=config)
    x = tf1.placeholder(tf.float32, [])
    doubled = x * 2.0

    def body(value):
        time.sleep(0.2)  # some Python work before the nested run
        return session.run(doubled, {x: value})

    ops = [tf.numpy_function(body, [tf.constant(float(i))], tf.float32) for i in range(calls)]
    return [float(value) for value in session.run(ops)]


def tf1_dequeue_before_enqueue(inter_op):
    tf1.disable_eager_execution()
    session = tf1.Session(config=tf1.ConfigProto(inter_op_parallelism_threads=inter_op))
    queue = tf1.FIFOQueue(1, tf.float32)
    dequeued, _ = session.run([queue.dequeue(), queue.enqueue(3.0)])
    return float(dequeued)


cases = {
    "TF2, py_function calls a tf.function, inter_op=1": (tf2_py_function_calls_a_function, 1),
    "TF2, py_function calls a tf.function, default inter_op": (tf2_py_function_calls_a_function, 0),
    "TF1, 2 py_funcs call session.run, default inter_op": (tf1_py_functions_call_the_session, 0, 2),
    "TF1, 2 py_funcs call session.run, inter_op=3": (tf1_py_functions_call_the_session, 3, 2),
    "TF1, dequeue before enqueue in one step, inter_op=1": (tf1_dequeue_before_enqueue, 1),
}
reports = run_forked_together([functools.partial(*case) for case in cases.values()], timeout=10)
for name, report in zip(cases, reports, strict=True):
    print(name + ":", "hung, killed after 10 s" if report["exit"] is None else report["value"])
