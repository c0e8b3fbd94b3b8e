"""
.. _gallery-inter-op-concurrency:

Independent ops and the inter-op pool
=====================================

The *inter-op* pool runs ops that do not depend on each other at the same time.
This example builds a ``tf.function`` with *k* independent chains of small matmuls (the built-in ``branches`` workload) and times it with 1, 2, ... inter-op threads.
The intra-op pool is fixed at 1 thread, so each op runs on one thread and any concurrency comes from the inter-op pool.
It shows where more inter-op threads stop helping, and whether more threads than CPUs hurt.

.. seealso:: :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, compare, machine, overlaps, show, spread, timing

show(machine())

# %%
# k branches, one process per inter-op size
# -----------------------------------------
# The sizes tried are 1, 2, the CPUs in the affinity mask and one more than that; the graphs with 1, 2, 4 and 8 branches share each size's process.
# Every branch is a chain of 4 dependent matmuls of 256x256 matrices, so a graph with *k* branches has *k* times the work of a graph with one.

from tfthreads.measure import measure_many
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

cpus = topology().affinity_cpus
inter_sizes = sorted({1, 2, cpus, cpus + 1})
branch_counts = [1, 2, 4, 8]
workloads = [parse_workload("branches", k=k, n=256) for k in branch_counts]

results = {}  # (k, inter-op threads) -> Measurement
for inter in inter_sizes:
    settings = ThreadSettings(intra_op=1, inter_op=inter)
    measured = measure_many(workloads, settings, options=MeasureOptions(repeats=15))
    results.update({(k, inter): m for k, m in zip(branch_counts, measured, strict=True)})

rows = [
    {"k": k, "inter": inter, **timing(results[k, inter], results[k, 1])}
    for k in branch_counts
    for inter in inter_sizes
]
note = "speedup: median time with 1 inter-op thread / median time here; intra-op = 1;\n"
note += "CPU/wall: CPU time of the process / wall time, about how many CPUs it kept busy"
show(Table.of(rows, note=note))

# %%
# Each line is one graph: its median time with one inter-op thread divided by its time with more.
# The dotted line marks the CPUs in the affinity mask: with intra-op fixed at 1, that is the most ops that can run at the same instant.

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for k in branch_counts:
    base = results[k, 1].wall.median
    mid, yerr = spread([results[k, inter] for inter in inter_sizes], lambda s, b=base: b / s)
    ax.errorbar(inter_sizes, mid, yerr=yerr, marker="o", capsize=3, label=f"k = {k}")
ax.axvline(cpus, color="tab:red", linestyle=":", label=f"CPUs in mask ({cpus})")
ax.axhline(1, color="grey", linewidth=0.8)
ax.set(xticks=inter_sizes, xlabel="inter-op threads (intra-op = 1)")
ax.set(ylabel="speed-up over 1 inter-op thread")
ax.set_title("k independent matmul chains in one tf.function")
ax.legend(fontsize="small")
plt.show()

# %%
# What this shows
# ---------------
# A graph with a single branch has nothing to run at the same time, so more inter-op threads cannot make it faster; any change there is noise or overhead.
# With several branches, the inter-op pool can keep as many ops running as it has threads, but never more than the CPUs can execute at once, so the gain is bounded by the smaller of *k* and the CPUs in the mask.
# Threads beyond the CPUs only take turns on them.
# The CPU/wall column tells the two cases apart: near 1 with several inter-op threads and several branches, the ops did not run at the same time, either because the runtime did not overlap them or because other processes kept the other CPUs busy.
# On a machine with more CPUs, graphs with many independent branches keep gaining up to more inter-op threads; a model that is one chain of ops (most sequential Keras models) gains nothing, whatever the machine.
# The lines below give, for each graph, the fastest size and the smallest size within the noise of it, where the gains stop.

for k in branch_counts:
    fastest = min((results[k, i] for i in inter_sizes), key=lambda m: m.wall.median)
    best, top = fastest.settings.inter_op, inter_sizes[-1]
    enough = next(i for i in inter_sizes if overlaps(results[k, i], fastest))
    but = f", but {enough} is already within the noise of that" if enough != best else ""
    verdict = compare(results[k, top], fastest)
    slower = f"; {top} threads is slower" if verdict == "slower than" else ""
    print(f"k={k}: fastest with {best} inter-op threads{but}{slower}")
