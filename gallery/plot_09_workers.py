"""
.. _gallery-workers:

Several worker processes on a fixed CPU budget
==============================================

A server such as gunicorn, uwsgi or Celery runs *P* worker processes, and each loads its own TensorFlow with its own thread pools.
Left at the defaults, every worker sizes both pools to all the CPUs, so *P* workers start *P* times as many pool threads as there are CPUs.
This example runs *P* processes at the same time on the same CPUs, each doing model inference in a loop, and compares thread settings on that fixed budget: latency per request (median and 99th percentile), total throughput, and CPU time per request.

Four processes sharing a 16-CPU machine, measured in interleaved rounds: :ref:`results-many-core`.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, committed, compare, machine, pair, show

show(machine())

# %%
# Configurations on the same budget
# ---------------------------------
# One process using the whole budget (the smaller of the affinity mask and the cgroup CPU quota) is compared with as many worker processes as there are whole CPUs in the budget, once with TensorFlow's defaults in every worker and once with the settings :func:`tfthreads.recommend.recommend` gives for that many processes.
# ``MeasureOptions(processes=P)`` starts the *P* workers together and lines up their timed loops, so they compete for the CPUs as the workers of a busy server do.
# Each worker runs a small Keras MLP (two dense layers of 512) with ``model(x)``, at a batch of 1 (one request) and of 32 (a batched request), in the same process.

import math

from tfthreads.measure import measure_many
from tfthreads.options import MeasureOptions
from tfthreads.recommend import recommend
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

budget = max(1, math.floor(topology().cpu_budget))
workers = budget if budget > 1 else 2  # on one CPU, two workers show the contention
configurations = [
    (1, "recommended", recommend("latency", processes=1).settings),
    (workers, "defaults", ThreadSettings()),
    (workers, "recommended", recommend("latency", processes=workers).settings),
]
batches = [1, 32]
workloads = [parse_workload("mlp_latency", batch=batch) for batch in batches]

results = {}  # (processes, label, batch) -> Measurement
for processes, label, settings in configurations:
    options = MeasureOptions(repeats=30, processes=processes)
    for batch, m in zip(batches, measure_many(workloads, settings, options=options), strict=True):
        results[processes, label, batch] = m


def cpu_ms(m):
    """Median CPU milliseconds per inference."""
    return m.cpu.median / m.items_per_step * 1e3


rows = [
    {"P": p, "settings": label, "pools": pair(m.settings.intra_op, m.settings.inter_op)}
    | {"batch": batch, "p50 ms": m.wall.median * 1e3, "p99 ms": m.wall.p99 * 1e3}
    | {"total inf/s": m.throughput, "CPU ms/inf": cpu_ms(m), "GFLOP/s": m.gflops}
    | {"pool thr": p * sum(m.observed_pools.values())}
    for (p, label, batch), m in results.items()
]
note = "pools: intra-op / inter-op per process, 0 = TensorFlow's default;\n"
note += "GFLOP/s: arithmetic rate of all the processes together;\n"
note += "pool thr: pool threads started by all the processes together"
show(Table.of(rows, note=note, digits={"total inf/s": 0, "CPU ms/inf": 3, "GFLOP/s": 1}))

# %%
# Left: the median latency of one request, with a bar up to the 99th percentile.
# Right: inferences per second of all the workers together.

import matplotlib.pyplot as plt
import numpy as np

names = [f"P={p}\n{label}\n{s.intra_op}/{s.inter_op}" for p, label, s in configurations]
positions, width = np.arange(len(configurations)), 0.38
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for offset, batch, color in ((-width / 2, 1, "tab:blue"), (width / 2, 32, "tab:green")):
    ms = [results[p, label, batch] for p, label, _ in configurations]
    p50 = np.array([m.wall.median * 1e3 for m in ms])
    p99 = np.array([m.wall.p99 * 1e3 for m in ms])
    left.bar(positions + offset, p50, width, color=color, label=f"batch {batch}")
    left.errorbar(positions + offset, p50, yerr=[0 * p50, p99 - p50], fmt="none", ecolor="k")
    right.bar(positions + offset, [m.throughput for m in ms], width, color=color)
left.set_ylabel("ms per request (median, bar to p99)")
right.set(ylabel="inferences per second, all workers", yscale="log")
for ax in (left, right):
    ax.set_xticks(positions, names)
left.legend()
fig.suptitle(f"Worker processes on a budget of {budget} CPU(s) (pools: intra/inter)")
plt.show()

# %%
# What this shows
# ---------------
# At batch 1 a request is little arithmetic (compare its GFLOP/s with batch 32's): most of its time is Python and Keras dispatch, which runs on one thread per process, so extra intra-op threads can add little there, and more processes are the way to use more CPUs.
# At a larger batch the matmuls take a bigger share of each request.
# Workers that all keep the default pools put more pool threads on the CPUs than there are CPUs; where that costs, it shows as a higher 99th percentile and more CPU time per request than the recommended settings, and the last table says whether it did here.
# With only a few CPUs the two settings differ by a few threads, so the difference can be within the noise of a shared machine.
# For *P* workers and the latency goal, or under a CPU quota, the recommendation is ``intra_op`` = the CPUs in the budget divided by *P* (at least 1); for throughput without a quota it keeps TensorFlow's defaults when each worker has 2 CPUs or more, because the other workers' threads fill each worker's serial gaps, and divides the CPUs when a worker has less, where little gap is left to fill (the lines below print both).
# On a machine with more CPUs each default worker starts more threads; four workers on 16 CPUs are measured on :ref:`results-many-core`.

for goal in ("latency", "throughput"):
    advice = recommend(goal, processes=workers).settings.describe()
    print(f"recommend({goal!r}, processes={workers}): {advice}")
verdicts = []
for batch in batches:
    single, default, tuned = (results[p, label, batch] for p, label, _ in configurations)
    best = max((single, default, tuned), key=lambda m: m.throughput)
    verdicts.append(
        {"batch": batch, "median with defaults": f"{compare(default, tuned)} recommended"}
        | {"p99 ms": pair(f"{default.wall.p99 * 1e3:.2f}", f"{tuned.wall.p99 * 1e3:.2f}")}
        | {"more CPU/inference": "yes" if cpu_ms(default) > cpu_ms(tuned) else "no"}
        | {"throughput gain": tuned.throughput / single.throughput}
        | {"highest throughput": f"P={len(best.processes)}, {best.settings.describe()}"}
    )
note = f"{workers} workers, defaults against recommended; p99 ms: defaults / recommended;\n"
note += "more CPU/inference: whether the defaults use more CPU per inference;\n"
note += f"throughput gain: {workers} recommended workers / 1 process"
show(Table.of(verdicts, note=note))

# %%
# Four workers on a 16-CPU machine
# --------------------------------
# A results file committed from another machine (:ref:`results-many-core`) ran four processes at once, each a batch-256 MLP in a loop, in interleaved rounds of fresh processes.
# Nothing below ran on the machine that built this page: the table is read from that file, and its note names the machine.
# Dividing the CPUs among the workers did not raise the total throughput there; the defaults were the best or tied with it.

show(committed("procs")[0])
