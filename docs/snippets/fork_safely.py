import multiprocessing

import tensorflow as tf

from tfthreads.inventory import inventory


def small_op():
    tf.constant(1.0) + 1.0


def large_op():
    x = tf.ones((500, 500))
    tf.linalg.matmul(x, x)


def run_child(method, target, args=(), wait=10):
    child = multiprocessing.get_context(method).Process(target=target, args=args)
    child.start()
    child.join(timeout=wait)
    if not child.is_alive():
        return f"exit code {child.exitcode}"
    threads = [thread.state for thread in inventory(child.pid).threads]
    child.kill()
    child.join()
    return f"still running after {wait} s, its threads: {threads}"


print("fork before the first op, large op:", run_child("fork", large_op))
large_op()  # the parent starts TensorFlow's runtime
print("threads in the parent:", inventory().count)
print("fork after, small op:", run_child("fork", small_op))
print("fork after, large op:", run_child("fork", large_op))
# A spawned child imports everything again; it runs the same work given as text.
work = """
import tensorflow as tf
x = tf.ones((500, 500))
tf.linalg.matmul(x, x)
"""
print("spawn after, large op:", run_child("spawn", exec, (work, {}), wait=240))
