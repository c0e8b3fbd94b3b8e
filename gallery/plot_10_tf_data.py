"""
.. _gallery-tf-data:

tf.data threads: what each option bounds
========================================

A ``tf.data`` pipeline runs its own work, next to TensorFlow's intra-op and inter-op pools, and four options decide how much of the CPU it takes: ``num_parallel_calls`` (how many elements ``map`` works on at once), ``threading.private_threadpool_size`` (a pool of its own, of that many threads), ``threading.max_intra_op_parallelism`` (how many threads *one* op inside the pipeline may split over) and ``autotune.cpu_budget`` (how many CPUs the autotuner may plan for).
This example runs one pipeline with a ``map`` of real work under each option and measures the wall time, the CPU time, the threads that appeared while it ran and the threads that did the work.

.. seealso:: :ref:`setting-tf-data-options-threading-private-threadpool-size`, :ref:`setting-tf-data-options-threading-max-intra-op-parallelism`, :ref:`setting-tf-data-options-autotune-cpu-budget`, :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import (
    Table,
    machine,
    pools_of,
    ratio,
    show,
    typical,
    verdict,
    verdict_sentence,
)

show(machine())

# %%
# The pipeline and the variants
# -----------------------------
# The ``map`` function multiplies a 384 x 384 matrix by itself three times, work that TensorFlow's matmul can split over threads.
# Options are set per dataset, so one process can build every variant, and it measures them in interleaved rounds: every variant once per round, in an order reversed every other round, so that a machine that slows down or speeds up hits every variant alike.
# Each time, ``pipelines`` iterates a fresh iterator of the dataset, timing everything after the first element (tracing), and reads ``/proc/self/task``: the threads that appeared while the iterator was alive, and the threads whose CPU time grew by at least 5 % of the variant's total (*working* threads).

from tfthreads.process import run_function
from tfthreads.stats import geometric_mean, ratio_interval
from tfthreads.topology import topology

ROUNDS = 8  # from 6 rounds on, one wild round moves an interval by one rank (stats.ratio_interval)


def pipelines(rounds: int) -> list[list[dict]]:
    """Time every variant of the pipeline in this process, ``rounds`` times, interleaved."""
    import time

    import tensorflow as tf

    from tfthreads.inventory import inventory

    def cpu_by_thread():
        return {thread.tid: thread.cpu_seconds for thread in inventory().threads}

    def work(i):
        m = tf.random.stateless_uniform([384, 384], seed=tf.stack([i, i]))
        for _ in range(3):
            m = tf.matmul(m, m) / 384.0
        return tf.reduce_sum(m)

    tf.constant(0.0)  # start the runtime: its own pools are not the pipeline's threads

    def variant(label, parallel=None, rewrite=True, budget=None, **threading):
        n = 48
        dataset = tf.data.Dataset.range(n).map(work, num_parallel_calls=parallel)
        options = tf.data.Options()
        options.experimental_optimization.map_parallelization = rewrite
        for name, value in threading.items():
            setattr(options.threading, name, value)
        if budget is not None:
            options.autotune.cpu_budget = budget
        before = cpu_by_thread()
        iterator = iter(dataset.with_options(options))
        next(iterator)
        start = cpu_by_thread()
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n - 1):
            next(iterator)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        end = cpu_by_thread()
        del iterator
        working = sum(end[t] - start.get(t, 0.0) >= 0.05 * cpu for t in end)
        row = {"variant": label, "wall s": wall, "CPU s": cpu, "CPU/wall": cpu / wall}
        return row | {"new thr.": len(set(end) - set(before)), "working": working}

    auto = tf.data.AUTOTUNE
    variants = [
        lambda: variant("map, no num_parallel_calls"),
        lambda: variant("map, rewrite off", rewrite=False),
        lambda: variant(
            "map, rewrite off, max_intra_op=1", rewrite=False, max_intra_op_parallelism=1
        ),
        lambda: variant("AUTOTUNE", auto),
        lambda: variant("AUTOTUNE, private pool=1", auto, private_threadpool_size=1),
        lambda: variant("AUTOTUNE, cpu_budget=1", auto, budget=1),
        lambda: variant("AUTOTUNE, max_intra_op=1", auto, max_intra_op_parallelism=1),
    ]
    measured: list[list[dict]] = [[] for _ in variants]  # measured[v][r]: variant v in round r
    for done in range(rounds):
        order = list(range(len(variants)))
        for index in order if done % 2 == 0 else reversed(order):
            measured[index].append(variants[index]())
    return measured


by_variant = {runs[0]["variant"]: runs for runs in run_function(pipelines, {"rounds": ROUNDS})}


def baseline_of(label: str) -> str:
    """Name the variant ``label`` is compared with: plain AUTOTUNE, or the map without rewrite."""
    return "AUTOTUNE" if label.startswith("AUTOTUNE,") else "map, rewrite off"


def parallelism(label: str):
    """CPU/wall of ``label`` over its baseline's, paired by round (above 1: more CPUs busy)."""
    runs, base = by_variant[label], by_variant[baseline_of(label)]
    return ratio_interval([r["CPU/wall"] for r in base], [r["CPU/wall"] for r in runs])


def speed(label: str):
    """Wall time of the baseline over ``label``'s, paired by round (above 1: faster)."""
    runs, base = by_variant[label], by_variant[baseline_of(label)]
    return ratio_interval([1 / r["wall s"] for r in base], [1 / r["wall s"] for r in runs])


def geomean(runs: list[dict], key: str) -> float:
    """Return the geometric mean of one column over the rounds."""
    return geometric_mean([r[key] for r in runs])


rows = [
    {"variant": label, "wall s": geomean(runs, "wall s"), "CPU/wall": geomean(runs, "CPU/wall")}
    | {"compared with": "" if label == baseline_of(label) else baseline_of(label)}
    | {
        "CPU/wall ratio [95 % CI]": None
        if label == baseline_of(label)
        else ratio(parallelism(label))
    }
    | {"speed vs baseline [95 % CI]": None if label == baseline_of(label) else ratio(speed(label))}
    | {"new thr.": max(r["new thr."] for r in runs), "working": max(r["working"] for r in runs)}
    for label, runs in by_variant.items()
]
note = f"wall s, CPU/wall: geometric means over {ROUNDS} interleaved rounds in one process;\n"
note += "CPU/wall ratio: the variant's CPU/wall over its baseline's (above 1: more CPUs busy);\n"
note += "speed: the baseline's wall time over the variant's (above 1: faster), paired by round;\n"
note += "new thr.: threads that appeared while the iterator was alive (most in a round);\n"
note += "working: threads that did at least 5 % of the variant's CPU time (most in a round)"
show(Table.of(rows, note=note, digits={"wall s": 3}))

# %%
# The process-wide pools
# ----------------------
# The intra-op and inter-op pools are set once per process, so a variant with other pools needs processes of its own.
# The built-in ``data_map`` workload is a pipeline of the same kind: a ``map`` of one 384 x 384 matmul per element with ``num_parallel_calls=AUTOTUNE``, batched and prefetched; one step is one pass over its 32 elements.
# :func:`tfthreads.compare.compare` measures it with TensorFlow's default pools, with the intra-op pool at 1 thread and with the inter-op pool at 1 thread (a variant whose pools the defaults already start here, as both are on one CPU, is left out), in paired rounds whose processes take turns (``chunks=3``): from 5 to 12 rounds, until every ratio is known within ±5 % or 12 seconds are spent.

from tfthreads.compare import compare
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload

# A variant that starts the defaults' very pools here (on one CPU both do) would time the
# same setting twice: it is named and left out rather than compared with itself.
candidates = {
    "intra-op pool 1": ThreadSettings(intra_op=1),
    "inter-op pool 1": ThreadSettings(inter_op=1),
}
for name, settings in list(candidates.items()):
    if pools_of(settings) == pools_of(ThreadSettings()):
        print(f"{name}: the defaults start the same pools here, {pools_of(settings)}; left out")
        del candidates[name]


def busy(m):
    """CPU/wall of one measurement: about how many CPUs it kept busy."""
    return m.cpu.median / m.wall.median


if candidates:
    pool_settings = [ThreadSettings(), *candidates.values()]
    pool_names = ["default pools", *candidates]
    by_pools = compare(
        parse_workload("data_map", elements=32, n=384),
        pool_settings,
        goal="throughput",
        options=MeasureOptions(repeats=6, warmup=1),
        chunks=3,
        min_rounds=5,
        max_rounds=12,
        budget_seconds=12,
    )

    pool_rows = [
        {"pools": name, "elements/s": typical(by_pools, i, lambda m: m.throughput)}
        | {"CPU/wall": typical(by_pools, i, busy)}
        | {"throughput vs default [95 % CI]": None if i == 0 else ratio(by_pools.interval(i, 0))}
        | {"verdict": "baseline" if i == 0 else by_pools.verdict(i, 0, settled=True)}
        | {"CPU/wall ratio [95 % CI]": None if i == 0 else ratio(by_pools.interval(i, 0, of=busy))}
        for i, name in enumerate(pool_names)
    ]
    note = f"data_map workload, {len(by_pools.rounds)} paired rounds; throughput: above 1 is more\n"
    note += "elements per second; CPU/wall ratio: above 1 is more CPUs busy than with the defaults"
    show(Table.of(pool_rows, note=note, digits={"elements/s": 0}))
else:
    print("Neither pool at 1 thread differs from the defaults here: nothing to compare")

# %%
# Left: CPU seconds used per second of wall time in the one-process rounds; a ratio of 1 means the pipeline kept one CPU busy; the dashed line is the number of CPUs in the affinity mask, the most any variant can reach.
# Each dot is one round.

import matplotlib.pyplot as plt

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained", sharey=True)
labels = list(by_variant)
for y, label in enumerate(labels):
    runs = by_variant[label]
    ax.scatter([r["CPU/wall"] for r in runs], [y] * len(runs), color="tab:blue", s=14)
    ax2.scatter([r["wall s"] for r in runs], [y] * len(runs), color="tab:orange", s=14)
ax.axvline(topology().affinity_cpus, color="black", linestyle="--", label="CPUs in affinity mask")
ax.set_yticks(range(len(labels)), labels)
ax.invert_yaxis()
ax.set(xlabel="CPU seconds per wall second", title="Parallelism of the pipeline", xlim=(0, None))
ax.legend(loc="lower right", fontsize="small")
ax2.set(xlabel="wall seconds", title="Time to iterate the dataset", xlim=(0, None))
plt.show()

# %%
# What this shows
# ---------------
# What each option is meant to bound, and below it what this build measured: each sentence compares the CPUs a variant kept busy with those of its baseline (plain ``AUTOTUNE``, or the ``map`` whose rewrite is off), paired by round.
# On a busy or one-CPU machine the variants have little room to differ, and the *working* column above still shows how many threads shared the work.
#
# * A ``map`` without ``num_parallel_calls`` is not necessarily sequential: the ``map_parallelization`` rewrite, on by default, makes a ``map`` of a stateless function parallel.
#   The "rewrite off" rows turn it off with ``options.experimental_optimization.map_parallelization = False``; such a ``map`` can still use several CPUs when its ops split across the intra-op pool.
# * ``max_intra_op_parallelism=1`` is meant to stop that splitting, inside the pipeline only.
# * ``num_parallel_calls=AUTOTUNE`` works on several elements at once.
# * ``private_threadpool_size`` sizes the pool each iterator has of its own (by default one thread per CPU, as the :ref:`tf.data reference <setting-tf-data-options-threading-private-threadpool-size>` observes) and so caps it; ``autotune.cpu_budget`` only limits what the autotuner plans for.
# * Every iterator runs on its own private pool by default, so the inter-op pool is not where its work runs; the lines below ask whether either process-wide pool at 1 thread raised the pipeline's throughput here.
#
# On a machine with more CPUs the capped variants stay where they are while the ``AUTOTUNE`` ones can grow, so the gaps widen.

for label in labels:
    if label != baseline_of(label):
        print(
            verdict_sentence(
                parallelism(label),
                f'"{label}"',
                f'"{baseline_of(label)}"',
                quantity="the CPU time per wall second (the CPUs kept busy)",
                better="higher",
                worse="lower",
                above="above 1: more CPUs busy with {name}",
            )
        )
for i in range(1, len(pool_names) if candidates else 0):
    print(
        verdict(
            by_pools,
            i,
            0,
            names=pool_names,
            quantity="the pipeline's throughput",
            better="higher",
            worse="lower",
            one_sided=True,
        )
    )
