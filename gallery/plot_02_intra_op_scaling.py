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

from _helpers import Table, committed, compare, machine, show, spread, timing

show(machine())

# %%
# One fresh process per intra-op size
# -----------------------------------
# Both workloads share the process, each timed over 15 steps after a short warm-up.
# On a machine with more than 4 CPUs, the sizes are powers of two instead of every count.

from tfthreads.measure import measure_many
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

cpus = topology().affinity_cpus
if cpus <= 4:
    sizes = list(range(1, cpus + 2))
else:
    sizes = sorted({2**i for i in range(cpus.bit_length()) if 2**i <= cpus} | {cpus, cpus + 1})
workloads = {"matmul 1024x1024": "matmul", "Conv2D 3x3, 4x32x32x64": "conv2d"}
specs = [parse_workload("matmul", n=1024), parse_workload("conv2d")]

results = {}  # (workload name, intra-op threads) -> Measurement
for intra in sizes:
    settings = ThreadSettings(intra_op=intra, inter_op=1)
    for m in measure_many(specs, settings, options=MeasureOptions(repeats=15)):
        results[m.workload.name, intra] = m

rows = [
    {"workload": name, "intra": intra, **timing(results[name, intra], results[name, 1])}
    | {"GFLOP/s": results[name, intra].gflops}
    for name in workloads.values()
    for intra in sizes
]
note = "speedup: median time with 1 intra-op thread / median time here;\n"
note += "busy thr: threads that used CPU in the loop"
show(Table.of(rows, digits={"GFLOP/s": 1}, note=note))

# %%
# Each point is the rate of the median step, with error bars from the rates of the quartiles.
# The dashed line is ideal scaling: the one-thread rate times the number of threads, up to the CPUs in the affinity mask.
# The one-thread rate is what one core achieved here, not its theoretical peak, so the line is a reference for scaling, not a hardware limit.

import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
for ax, (title, name) in zip(axes, workloads.items(), strict=True):
    ms = [results[name, intra] for intra in sizes]
    medians, yerr = spread(ms, lambda seconds, m=ms[0]: m.flops_per_step / seconds / 1e9)
    ax.errorbar(sizes, medians, yerr=yerr, marker="o", capsize=4, label="measured")
    ideal = [medians[0] * min(intra, cpus) for intra in sizes]
    ax.plot(sizes, ideal, "k--", linewidth=1, label="ideal from 1 thread")
    ax.axvline(cpus, color="tab:red", linestyle=":", label=f"CPUs in mask ({cpus})")
    ax.set(title=title, xlabel="intra-op threads (inter-op = 1)", xticks=sizes, ylim=(0, None))
axes[0].set_ylabel("GFLOP/s (median, IQR bars)")
axes[0].legend(loc="lower right", fontsize="small")
plt.show()

# %%
# What this shows
# ---------------
# Where the ideal line and the measured points part, the op stops gaining from more threads: memory bandwidth, the split of a small op into pieces, and the threads of other processes on the same CPUs all take a share.
# An intra-op pool larger than the CPUs in the mask cannot run more work at once; the extra thread can only add switching, so a rate above the one at the mask size is noise, and a lower rate or a wider spread is the cost of oversubscription.
# On a machine with more CPUs, the same script measures more sizes; a large op keeps scaling further than a small one, and the default (``0``, one thread per CPU in the mask) is then the upper end of the curve rather than a safe choice for every op.

for name in workloads.values():
    best = min(sizes, key=lambda intra, name=name: results[name, intra].wall.median)
    one, full, over = (results[name, n] for n in (1, cpus, sizes[-1]))
    efficiency = one.wall.median / full.wall.median / cpus
    print(f"{name}: best intra-op here: {best}; {cpus} threads: {efficiency:.0%} of ideal scaling")
    print(f"  {sizes[-1]} threads (more than the CPUs) is {compare(over, full)} {cpus} threads")

# %%
# The same question on a 16-CPU machine
# --------------------------------------
# A results file committed from another machine (:ref:`results-many-core`) measured a small Keras MLP, one call at a time, with 1 to 16 intra-op threads, in interleaved rounds of fresh processes.
# Nothing below ran on the machine that built this page: the tables are read from that file, and their notes name the machine.
# At batch 1 each call is mostly Python and Keras dispatch on one thread, so more intra-op threads cannot shorten it much.

small_model = committed("latency")
show(small_model[0])

# %%
# The same model at batch 32 has more arithmetic per call, and still no intra-op size was measurably faster than one thread here: a model this small does not split into enough work.

show(small_model[1])
