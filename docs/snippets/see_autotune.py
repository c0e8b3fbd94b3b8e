import re
import time

import tensorflow as tf

from tfthreads.inventory import inventory
from tfthreads.process import run_forked


def case(cpu_budget, pool):
    def run():
        def slow(x):
            return tf.numpy_function(lambda v: (time.sleep(0.02), v)[1], [x], tf.int64)

        options = tf.data.Options()
        if cpu_budget:
            options.autotune.cpu_budget = cpu_budget
        if pool:
            options.threading.private_threadpool_size = pool
        dataset = tf.data.Dataset.range(100).map(slow, num_parallel_calls=tf.data.AUTOTUNE)
        before = inventory()
        for index, _ in enumerate(dataset.with_options(options)):
            if index == 50:
                threads = inventory().count - before.count
        return threads

    return run


for cpu_budget, pool in [(None, None), (1, None), (8, None), (None, 8), (1, 8)]:
    out = run_forked(case(cpu_budget, pool))
    picked = re.findall(r"ParallelMapV2\(id:\d+\):: parallelism to (\d+)", out["stderr"])
    # The autotuner may try smaller values on its way up: the highest is what it reached.
    print(
        f"cpu_budget={cpu_budget}, private_threadpool_size={pool}: "
        f"AUTOTUNE raised the map to {max(map(int, picked))}, new threads {out['value']}"
    )
