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
# The sizes tried are 1, 2, the CPUs in the affinity mask and one more than that; the graphs with 1, 2, 4 and 8 branches share each size's process.
# Every branch is a chain of 4 dependent matmuls of 256x256 matrices, so a graph with *k* branches has *k* times the work of a graph with one.
# :func:`tfthreads.compare.compare_many` measures the sizes in 3 paired rounds: in each round one process per size starts, and for each graph the processes take turns running thirds of their 15 timed steps, so every size meets the same state of the machine.

from tfthreads.compare import compare_many
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

cpus = topology().affinity_cpus
inter_sizes = sorted({1, 2, cpus, cpus + 1})
branch_counts = [1, 2, 4, 8]
workloads = [parse_workload("branches", k=k, n=256) for k in branch_counts]
settings = [ThreadSettings(intra_op=1, inter_op=inter) for inter in inter_sizes]
compared = dict(
    zip(
        branch_counts,
        compare_many(workloads, settings, options=MeasureOptions(repeats=15), rounds=3, chunks=3),
        strict=True,
    )
)

rows = [
    {"k": k, "inter": inter, **timing(compared[k], i)}
    for k in branch_counts
    for i, inter in enumerate(inter_sizes)
]
note = "median ms, p99 ms, CPU/wall: geometric means over the rounds; intra-op = 1;\n"
note += "vs 1/1: how many times faster than 1 inter-op thread, paired by round (95 % interval);\n"
note += "CPU/wall: CPU time of the process / wall time, about how many CPUs it kept busy;\n"
note += "thr used CPU: threads whose CPU time grew during the timed loop (most in a round)"
show(Table.of(rows, note=note))

# %%
# Each line is one graph: how many times faster it ran than with one inter-op thread, with the 95 % interval of that ratio over the paired rounds.
# The dotted line marks the CPUs in the affinity mask: with intra-op fixed at 1, that is the most ops that can run at the same instant.

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for offset, k in zip((-0.06, -0.02, 0.02, 0.06), branch_counts, strict=True):
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
# A graph with a single branch has nothing to run at the same time, so the inter-op pool has nothing to overlap there; the line for k = 1 below says whether more threads changed its time on this machine.
# With several branches, the inter-op pool can keep as many ops running as it has threads, but never more than the CPUs can execute at once, so the gain is bounded by the smaller of *k* and the CPUs in the mask.
# Threads beyond the CPUs only take turns on them.
# The CPU/wall column tells the two cases apart: near 1 with several inter-op threads and several branches, the ops did not run at the same time, either because the runtime did not overlap them or because other processes kept the other CPUs busy.
# On a machine with more CPUs, graphs with many independent branches can keep gaining up to more inter-op threads; a model that is one chain of ops (most sequential Keras models) has nothing for them to overlap, whatever the machine.
# The lines below give, for each graph, the fastest size, the sizes tied with it (where the gains stop), and how the largest size compares with the fastest, each from the paired intervals.

names = [f"{inter} inter-op thread{'s' if inter > 1 else ''}" for inter in inter_sizes]
for k in branch_counts:
    comparison = compared[k]
    best = comparison.best
    tied = [inter_sizes[i] for i in comparison.indistinguishable_from_best() if i != best]
    ties = (
        f"; tied with it: {', '.join(map(str, tied))}" if tied else "; no other size tied with it"
    )
    print(f"k={k}: fastest with {names[best]}{ties}.")
    top = len(inter_sizes) - 1
    if top != best:
        print("  " + verdict(comparison, top, best, names=names))
