"""
.. _gallery-tf-data:

tf.data threads: what each option bounds
========================================

A ``tf.data`` pipeline runs its own work, next to TensorFlow's intra-op and inter-op pools, and four options decide how much of the CPU it takes: ``num_parallel_calls`` (how many elements ``map`` works on at once), ``threading.private_threadpool_size`` (a pool of its own, of that many threads), ``threading.max_intra_op_parallelism`` (how many threads *one* op inside the pipeline may split over) and ``autotune.cpu_budget`` (how many CPUs the autotuner may plan for).
This example runs one pipeline with a ``map`` of real work under each option and measures the wall time, the CPU time, the threads that appeared while it ran and the threads that did the work.

.. seealso:: :ref:`setting-tf-data-options-threading-private-threadpool-size`, :ref:`setting-tf-data-options-threading-max-intra-op-parallelism`, :ref:`setting-tf-data-options-autotune-cpu-budget`, :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, machine, show

show(machine())

# %%
# The pipeline and the variants
# -----------------------------
# The ``map`` function multiplies a 384 x 384 matrix by itself three times, work that TensorFlow's matmul can split over threads.
# Options are set per dataset, so one process can build every variant; the process-wide pools are set once per process, so two more processes repeat the ``AUTOTUNE`` variant, one with the intra-op pool at 1 thread and one with the inter-op pool at 1 thread.
# For each variant ``pipelines`` iterates the dataset, timing everything after the first element (tracing), and reads ``/proc/self/task``: the threads that appeared while the iterator was alive, and the threads whose CPU time grew by at least 5 % of the variant's total (*working* threads).

from tfthreads.isolation import run_function
from tfthreads.topology import topology


def pipelines(intra: int, inter: int) -> list[dict]:
    """Time every variant of the pipeline in this process, with these pool sizes."""
    import time

    import tensorflow as tf

    from tfthreads.inventory import inventory

    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)

    def cpu_by_thread():
        return {thread.tid: thread.cpu_seconds for thread in inventory().threads}

    def work(i):
        m = tf.random.stateless_uniform([384, 384], seed=tf.stack([i, i]))
        for _ in range(3):
            m = tf.matmul(m, m) / 384.0
        return tf.reduce_sum(m)

    tf.constant(0.0)  # start the runtime: its own pools are not the pipeline's threads

    def variant(label, parallel=None, rewrite=True, budget=None, **threading):
        n = 96
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
    if intra or inter:
        return [variant(f"AUTOTUNE, pools intra={intra} inter={inter}", auto)]
    return [
        variant("map, no num_parallel_calls"),
        variant("map, rewrite off", rewrite=False),
        variant("map, rewrite off, max_intra_op=1", rewrite=False, max_intra_op_parallelism=1),
        variant("AUTOTUNE", auto),
        variant("AUTOTUNE, private pool=1", auto, private_threadpool_size=1),
        variant("AUTOTUNE, cpu_budget=1", auto, budget=1),
        variant("AUTOTUNE, max_intra_op=1", auto, max_intra_op_parallelism=1),
    ]


rows = []
for intra, inter in ((0, 0), (1, 0), (0, 1)):
    rows += run_function(pipelines, {"intra": intra, "inter": inter})
note = "new thr.: threads that appeared while the iterator was alive;\n"
note += "working: threads that did at least 5 % of the variant's CPU time"
show(Table.of(rows, note=note, digits={"wall s": 3, "CPU s": 3}))

# %%
# Left: CPU seconds used per second of wall time; a ratio of 1 means the pipeline kept one CPU busy; the dashed line is the number of CPUs in the affinity mask, the most any variant can reach, so the variants can differ at most that many times over.

import matplotlib.pyplot as plt

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained", sharey=True)
y = range(len(rows))
ax.barh(y, [r["CPU/wall"] for r in rows], color="tab:blue")
ax.axvline(topology().affinity_cpus, color="black", linestyle="--", label="CPUs in affinity mask")
ax.set_yticks(y, [r["variant"] for r in rows])
ax.invert_yaxis()
ax.set(xlabel="CPU seconds per wall second", title="Parallelism of the pipeline")
ax.legend(loc="lower right", fontsize="small")
ax2.barh(y, [r["wall s"] for r in rows], color="tab:orange")
ax2.set(xlabel="wall seconds", title="Time to iterate the dataset")
plt.show()

# %%
# What this shows
# ---------------
# What each option is meant to bound; the table below compares each ``AUTOTUNE`` variant with plain ``AUTOTUNE`` and each other variant with the ``map`` whose rewrite is off, to say whether this run's measurements show it.
# A comparison needs a 20 % difference, so that noise alone does not decide it; on a busy or one-CPU machine most variants come out the same, and the *working* column above then still shows how many threads shared the work.
#
# * A ``map`` without ``num_parallel_calls`` is not necessarily sequential: the ``map_parallelization`` rewrite, on by default, makes a ``map`` of a stateless function parallel.
#   The "rewrite off" rows turn it off with ``options.experimental_optimization.map_parallelization = False``; such a ``map`` can still use several CPUs when its ops split across the intra-op pool.
# * ``max_intra_op_parallelism=1`` stops that splitting, inside the pipeline only.
# * ``num_parallel_calls=AUTOTUNE`` works on several elements at once.
# * ``private_threadpool_size`` sizes the pool each iterator has of its own (by default one thread per CPU, as the :ref:`tf.data reference <setting-tf-data-options-threading-private-threadpool-size>` observes) and so caps it; ``autotune.cpu_budget`` only limits what the autotuner plans for.
# * The last two rows show whether either process-wide pool bounds a pipeline; since every iterator runs on its own private pool by default, the inter-op pool is not where its work runs.
#
# On a machine with more CPUs the capped variants stay where they are while the ``AUTOTUNE`` ones can grow, so the gaps widen.

by = {r["variant"]: r["CPU/wall"] for r in rows}
comparisons = []
for a, x in by.items():
    b = "AUTOTUNE" if a.startswith("AUTOTUNE,") else "map, rewrite off"
    word = "more than" if x > 1.2 * by[b] else "less than" if by[b] > 1.2 * x else "same as"
    if a != b:
        row = {"variant": a, "CPU/wall": x, "compared with": f"{word} {b}", "its CPU/wall": by[b]}
        comparisons.append(row)
show(Table.of(comparisons))
