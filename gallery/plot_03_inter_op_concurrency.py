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

from _helpers import Table, interval, machine, show, timing, verdict

show(machine())

# %%
# k branches, one process per inter-op size and round
# ---------------------------------------------------
# The sizes tried are 1, 2, the CPUs in the affinity mask and one more than that; the graphs with 1, 2 and 8 branches share each size's process.
# Every branch is a chain of 4 dependent matmuls of 384x384 matrices, so a graph with *k* branches has *k* times the work of a graph with one.
# :func:`tfthreads.compare.compare_many` measures the sizes in paired rounds: in each round one process per size starts, and for each graph the processes take turns running fifths of their 10 timed steps, so every size meets the same state of the machine.
# Rounds go on, from 6 to 12, until every ratio is known within ±4 % or 12 seconds are spent; the table's note says how many ran.

from tfthreads.compare import compare_many
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

cpus = topology().affinity_cpus
inter_sizes = sorted({1, 2, cpus, cpus + 1})
branch_counts = [1, 2, 8]
workloads = [parse_workload("branches", k=k, n=384) for k in branch_counts]
settings = [ThreadSettings(intra_op=1, inter_op=inter) for inter in inter_sizes]
measured = compare_many(
    workloads,
    settings,
    options=MeasureOptions(repeats=10),
    chunks=5,
    min_rounds=6,
    max_rounds=12,
    precision=0.04,
    budget_seconds=12,
)
compared = dict(zip(branch_counts, measured, strict=True))

rows = [
    {"k": k, "inter": inter, **timing(compared[k], i)}
    for k in branch_counts
    for i, inter in enumerate(inter_sizes)
]
note = f"median ms, p99 ms, CPU/wall: geometric means over {len(measured[0].rounds)} rounds;\n"
note += "intra-op = 1;\n"
note += "vs 1/1: how many times faster than 1 inter-op thread, paired by round (95 % interval);\n"
note += "CPU/wall: CPU time of the process / wall time, about how many CPUs it kept busy;\n"
note += "thr used CPU: threads whose CPU time grew during the timed loop (most in a round)"
show(Table.of(rows, note=note))

# %%
# Each line is one graph: how many times faster it ran than with one inter-op thread, with the 95 % interval of that ratio over the paired rounds.
# The dotted line marks the CPUs in the affinity mask: with intra-op fixed at 1, that is the most ops that can run at the same instant.

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for offset, k in zip((-0.05, 0.0, 0.05), branch_counts, strict=True):
    intervals = [interval(compared[k], i) for i in range(1, len(inter_sizes))]
    mid = [1.0] + [r.ratio for r in intervals]
    low = [0.0] + [r.ratio - r.low for r in intervals]
    high = [0.0] + [r.high - r.ratio for r in intervals]
    x = [size + offset for size in inter_sizes]
    ax.errorbar(x, mid, yerr=[low, high], marker="o", capsize=3, label=f"k = {k}")
ax.axvline(cpus, color="tab:red", linestyle=":", label=f"CPUs in mask ({cpus})")
ax.axhline(1, color="grey", linewidth=0.8)
ax.set(xticks=inter_sizes, xlabel="inter-op threads (intra-op = 1)")
ax.set(ylabel="speed-up over 1 inter-op thread (95 % CI)")
ax.set_title("k independent matmul chains in one tf.function")
ax.legend(fontsize="small")
plt.show()

# %%
# What this shows
# ---------------
# A graph with a single branch has nothing to run at the same time, so the inter-op pool has nothing to overlap there; the line for k = 1 below says whether more threads made it faster on this machine.
# With several branches, the inter-op pool can keep as many ops running as it has threads, but never more than the CPUs can execute at once, so the gain is bounded by the smaller of *k* and the CPUs in the mask.
# The CPU/wall column shows how many CPUs the ops kept busy: near 1 with several inter-op threads and several branches, the ops did not run at the same time, either because the runtime did not overlap them or because other processes kept the other CPUs busy.
# On a machine with more CPUs, graphs with many independent branches can keep gaining up to more inter-op threads; a model that is one chain of ops (most sequential Keras models) has nothing for them to overlap, whatever the machine.
# The lines below ask of each graph whether as many inter-op threads as CPUs made it faster than one thread, from its paired interval.
# The question is only "faster?": a size that is not faster is not worth its threads, whether it is as fast or a little slower, and a cost of a few percent does not change the answer from one build to the next.
# One thread more than the CPUs cannot run more ops at the same instant; what it did on this machine is the last row of each graph in the table, with its interval.

names = [f"{inter} inter-op thread{'s' if inter > 1 else ''}" for inter in inter_sizes]
full = inter_sizes.index(cpus)
for k in branch_counts:
    quantity = f"the median step time of k = {k} branch{'es' if k > 1 else ''}"
    if cpus > 1:
        print(verdict(compared[k], full, 0, names=names, quantity=quantity, one_sided=True))
