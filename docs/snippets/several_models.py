import functools
import multiprocessing
import statistics
import threading
import time

import tensorflow as tf

from tfthreads.inventory import ThreadInventory, inventory, pool_counts
from tfthreads.process import run_forked, run_forked_together
from tfthreads.recommend import recommend
from tfthreads.stats import ratio_interval

REQUESTS = 60  # per model and round
SHAPE = (32, 1024)  # one request: a batch of 32


def load_model(seed):
    """Stand in for a loaded model: a 3-layer MLP as a tf.function, warmed up."""
    weights = [tf.random.stateless_normal((1024, 1024), (seed, i)) * 0.03 for i in range(3)]

    @tf.function(autograph=False)
    def predict(x):
        for w in weights:
            x = tf.nn.relu(x @ w)
        return x

    predict(tf.ones(SHAPE))
    return predict


def serve(predict, gate):
    """Wait for the other model's server, then answer REQUESTS requests one by one."""
    batch = tf.ones(SHAPE)
    gate.wait()
    start, latencies = time.perf_counter(), []
    for _ in range(REQUESTS):
        sent = time.perf_counter()
        predict(batch).numpy()
        latencies.append(time.perf_counter() - sent)
    return {"start": start, "end": time.perf_counter(), "latencies": latencies}


def two_models_in_one_process():
    before = inventory()
    first = load_model(1)
    pools_one_model = pool_counts(before)
    second = load_model(2)
    pools_two_models = pool_counts(before)
    gate, served = threading.Barrier(2), [None, None]

    def run(index, predict):
        served[index] = serve(predict, gate)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Leave out the two serving threads: they may not have quite ended yet.
    serving = {thread.native_id for thread in threads}
    now = inventory()
    now = ThreadInventory(now.pid, tuple(t for t in now.threads if t.tid not in serving))
    pools_after = pool_counts(before, now)
    return {"pools": [pools_one_model, pools_two_models, pools_after], "served": served}


SPLIT = recommend("latency", processes=2).settings  # for each of the two processes


def one_model_per_process(seed, gate):
    SPLIT.apply()  # tf.config.threading, before this process's runtime starts
    return serve(load_model(seed), gate)


def summary(served):
    """Return the requests per second of both models together and the median latency in ms."""
    wall = max(s["end"] for s in served) - min(s["start"] for s in served)
    latencies = [latency for s in served for latency in s["latencies"]]
    return 2 * REQUESTS / wall, 1000 * statistics.median(latencies)


print("each of two processes:", SPLIT.describe())
shared, split = [], []
for _ in range(4):  # interleaved rounds: one process, then two
    one = run_forked(two_models_in_one_process, timeout=120)["value"]
    gate = multiprocessing.get_context("fork").Barrier(2)
    two = run_forked_together(
        [functools.partial(one_model_per_process, seed, gate) for seed in (1, 2)], timeout=120
    )
    shared.append(summary(one["served"]))
    split.append(summary([report["value"] for report in two]))
for label, pools in zip(
    ("one model", "two models", "after serving both at once"), one["pools"], strict=True
):
    print(f"pool threads, {label}:", pools)
throughput = ratio_interval([s[0] for s in shared], [s[0] for s in split])
# Times better, above 1 better: for a time, the ratio is the one process's over the two's.
latency = ratio_interval([s[1] for s in split], [s[1] for s in shared])
print("throughput, two processes vs one (times more):", throughput.describe())
print("median latency, two processes vs one (times shorter):", latency.describe())
