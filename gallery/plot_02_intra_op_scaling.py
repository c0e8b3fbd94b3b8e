"""
.. _gallery-intra-op-scaling:

How one op scales with intra-op threads
=======================================

The *intra-op* pool splits a single op, such as one matrix multiplication or one convolution, across threads.
This example measures a dense matmul and a 2-D convolution with 1, 2, ... intra-op threads up to the CPUs in the affinity mask, and one thread more to show what oversubscription costs.
The inter-op pool is fixed at 1 thread, so only the intra-op setting changes.

Measured on a 16-CPU machine as well (small-model latency against intra-op threads, and a full grid): :ref:`results-many-core`.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`.
"""

from _helpers import (
    Table,
    claim,
    committed,
    committed_rows,
    interval,
    machine,
    show,
    timing,
    typical,
    verdict,
)

show(machine())

# %%
# One process per intra-op size and round
# ---------------------------------------
# Both workloads share the processes, each timed over 10 steps after a short warm-up; each is large enough (tens of milliseconds a step on one thread) to split into more work than threads.
# :func:`tfthreads.compare.compare_many` measures the sizes in paired rounds: in each round one process per size starts (each forked from one process that imported TensorFlow once, :func:`tfthreads.process.importing_once`), and for each workload the processes take turns running fifths of their timed steps, so every size meets the same state of the machine.
# Rounds go on, from 6 to 12, until every ratio is known within ±4 % or 12 seconds are spent; the table's note says how many ran.
# On a machine with more than 4 CPUs, the sizes are powers of two instead of every count.

from tfthreads.compare import compare_many
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

cpus = topology().affinity_cpus
if cpus <= 4:
    sizes = list(range(1, cpus + 2))
else:
    sizes = sorted({2**i for i in range(cpus.bit_length()) if 2**i <= cpus} | {cpus, cpus + 1})
workloads = {"matmul 1024x1024": "matmul", "Conv2D 3x3, 8x64x64x64": "conv2d"}
specs = [parse_workload("matmul", n=1024), parse_workload("conv2d", batch=8, size=64, channels=64)]
settings = [ThreadSettings(intra_op=intra, inter_op=1) for intra in sizes]
measured = compare_many(
    specs,
    settings,
    options=MeasureOptions(repeats=10),
    chunks=5,
    min_rounds=6,
    max_rounds=12,
    precision=0.04,
    budget_seconds=12,
)
compared = dict(zip(workloads.values(), measured, strict=True))


def gflops(m):
    """Return the arithmetic rate of a measurement's median step (GFLOP/s)."""
    return m.gflops or 0.0


rows = [
    {"workload": name, "intra": intra, **timing(compared[name], i)}
    | {"GFLOP/s": typical(compared[name], i, gflops)}
    for name in workloads.values()
    for i, intra in enumerate(sizes)
]
note = f"median ms, p99 ms, CPU/wall, GFLOP/s: geometric means over {len(measured[0].rounds)} rounds;\n"
note += "inter-op = 1;\n"
note += "vs 1/1: how many times faster than 1 intra-op thread, paired by round (95 % interval);\n"
note += "thr used CPU: threads whose CPU time grew during the timed loop (most in a round)"
show(Table.of(rows, digits={"GFLOP/s": 1}, note=note))

# %%
# Each point is the speed-up over one intra-op thread, with the 95 % interval of that ratio over the paired rounds.
# The dashed line is ideal scaling: as many times faster as there are threads, up to the CPUs in the affinity mask.
# It starts from what one core achieved here, not from its theoretical peak, so it is a reference for scaling, not a hardware limit.

import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
for ax, (title, name) in zip(axes, workloads.items(), strict=True):
    intervals = [interval(compared[name], i) for i in range(1, len(sizes))]
    mid = [1.0] + [r.ratio for r in intervals]
    yerr = [
        [0.0] + [r.ratio - r.low for r in intervals],
        [0.0] + [r.high - r.ratio for r in intervals],
    ]
    ax.errorbar(sizes, mid, yerr=yerr, marker="o", capsize=4, label="measured")
    ax.plot(sizes, [min(intra, cpus) for intra in sizes], "k--", linewidth=1, label="ideal")
    ax.axvline(cpus, color="tab:red", linestyle=":", label=f"CPUs in mask ({cpus})")
    ax.set(title=title, xlabel="intra-op threads (inter-op = 1)", xticks=sizes, ylim=(0, None))
axes[0].set_ylabel("speed-up over 1 thread (95 % CI)")
axes[0].legend(loc="lower right", fontsize="small")
plt.show()

# %%
# What this shows
# ---------------
# Where the ideal line and the measured points part, the op stops gaining from more threads: memory bandwidth, the split of a small op into pieces, and the threads of other processes on the same CPUs all take a share.
# An intra-op pool larger than the CPUs in the mask cannot run more work at once; the extra thread can only add switching, so the last line of each workload below asks whether it is faster than the pool of the mask's size.
# Each line asks one question, whether the larger pool is faster: a cost of a few percent, which the extra thread may or may not show on a given build, does not change its answer.
# On a machine with more CPUs, the same script measures more sizes; a large op keeps scaling further than a small one, and the default (``0``, one thread per CPU in the mask) is then the upper end of the curve rather than a safe choice for every op.

names = [f"{intra} thread{'s' if intra > 1 else ''}" for intra in sizes]
full, over = sizes.index(cpus), len(sizes) - 1
for name in workloads.values():
    comparison = compared[name]
    print(f"{name}:")
    if cpus > 1:
        gain = interval(comparison, full)
        print(f"  {cpus} threads reached {gain.ratio / cpus:.0%} of ideal scaling", end="")
        print(f" ({gain.low / cpus:.0%} to {gain.high / cpus:.0%}, 95 % interval)")
        print("  " + verdict(comparison, full, 0, names=names, one_sided=True))
    print("  " + verdict(comparison, over, full, names=names, one_sided=True))

# %%
# The same question on a 16-CPU machine
# --------------------------------------
# A results file committed from another machine (:ref:`results-many-core`) measured a small Keras MLP, one call at a time, with 1 to 16 intra-op threads, in interleaved rounds of fresh processes.
# Nothing below ran on the machine that built this page: the tables are read from that file, and their notes name the machine.
# At batch 1 each call is mostly Python and Keras dispatch on one thread, so more intra-op threads have little of each call to share.

small_model = committed("latency")
show(small_model[0])

# %%
# The same model at batch 32 has more arithmetic per call, and on that machine still no intra-op size was measurably faster than one thread (checked against the file as this page is built): a model this small does not split into enough work.

batch32 = committed_rows("latency")[1]
claim(
    "at batch 32 no intra-op size was measurably faster than one thread on the 16-CPU machine",
    all(row.verdict != "better" for row in batch32),
)
show(small_model[1])
