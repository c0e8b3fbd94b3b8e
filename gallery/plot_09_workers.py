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

from _helpers import (
    Table,
    claim,
    committed,
    committed_rows,
    machine,
    pair,
    ratio,
    show,
    typical,
)

show(machine())

# %%
# Two settings on the same budget
# -------------------------------
# As many worker processes as there are whole CPUs in the budget (the smaller of the affinity mask and the cgroup CPU quota) run at once, once with TensorFlow's defaults in every worker and once with the settings :func:`tfthreads.recommend.recommend` gives for that many processes.
# ``MeasureOptions(processes=P)`` starts the *P* workers of a setting together and lines up their timed loops, so they compete for the CPUs as the workers of a busy server do.
# Each worker runs a small Keras MLP (two dense layers of 512) with ``model(x)``, at a batch of 1 (one request) and of 32 (a batched request), in the same process.
# :func:`tfthreads.compare.compare_many` measures the two settings in 4 to 8 paired rounds (until every ratio is known within ±5 % or 10 seconds are spent): in each round the workers of both settings start, and the two groups take turns running thirds of their timed loops, so both meet the same state of the machine.

import math

from tfthreads.compare import compare_many
from tfthreads.options import MeasureOptions
from tfthreads.recommend import recommend
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import parse_workload

budget = max(1, math.floor(topology().cpu_budget))
workers = budget if budget > 1 else 2  # on one CPU, two workers show the contention
advice = recommend("latency", processes=workers).settings
names = ["the defaults", f"recommended {advice.intra_op}/{advice.inter_op}"]
batches = [1, 32]
workloads = [parse_workload("mlp_latency", batch=batch) for batch in batches]
compared = dict(
    zip(
        batches,
        compare_many(
            workloads,
            [ThreadSettings(), advice],
            options=MeasureOptions(repeats=30, processes=workers),
            chunks=3,
            min_rounds=4,
            max_rounds=8,
            budget_seconds=10,
        ),
        strict=True,
    )
)


def p99(m):
    """Return the 99th percentile of a request's latency, all workers together (ms)."""
    return m.wall.p99 * 1e3


def cpu_ms(m):
    """Median CPU milliseconds per inference."""
    return m.cpu.median / m.items_per_step * 1e3


rows = [
    {
        "batch": batch,
        "settings": names[i].removeprefix("the "),
        "pools": pair(s.intra_op, s.inter_op),
    }
    | {"p50 ms": typical(c, i, lambda m: m.wall.median * 1e3), "p99 ms": typical(c, i, p99)}
    | {"total inf/s": typical(c, i, lambda m: m.throughput), "CPU ms/inf": typical(c, i, cpu_ms)}
    | {"GFLOP/s": typical(c, i, lambda m: m.gflops or 0.0)}
    | {"pool thr": workers * sum(c.measured(i)[0].observed_pools.values())}
    for batch, c in compared.items()
    for i, s in enumerate(c.settings)
]
note = f"{workers} workers per setting; values are geometric means over {len(compared[1].rounds)} rounds;\n"
note += "pools: intra-op / inter-op per process, 0 = TensorFlow's default;\n"
note += "GFLOP/s: arithmetic rate of all the processes together;\n"
note += "pool thr: pool threads started by all the processes together"
show(Table.of(rows, note=note, digits={"total inf/s": 0, "CPU ms/inf": 3, "GFLOP/s": 1}))

# %%
# Left: the median latency of one request, with a bar up to the 99th percentile (geometric means over the rounds).
# Right: inferences per second of all the workers together, one dot per round.

import matplotlib.pyplot as plt
import numpy as np

positions, width = np.arange(len(batches)), 0.38
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for i, (offset, color) in enumerate(((-width / 2, "tab:blue"), (width / 2, "tab:green"))):
    p50 = np.array([typical(compared[b], i, lambda m: m.wall.median * 1e3) for b in batches])
    tail = np.array([typical(compared[b], i, p99) for b in batches])
    left.bar(positions + offset, p50, width, color=color, label=names[i].removeprefix("the "))
    left.errorbar(positions + offset, p50, yerr=[0 * p50, tail - p50], fmt="none", ecolor="k")
    for x, b in zip(positions + offset, batches, strict=True):
        rates = [m.throughput for m in compared[b].measured(i)]
        right.scatter([x] * len(rates), rates, color=color)
left.set_ylabel("ms per request (median, bar to p99)")
right.set(ylabel="inferences per second, all workers", yscale="log")
for ax in (left, right):
    ax.set_xticks(positions, [f"batch {b}" for b in batches])
left.legend()
fig.suptitle(f"{workers} worker processes on a budget of {budget} CPU(s)")
plt.show()

# %%
# What this shows
# ---------------
# At batch 1 a request is little arithmetic (compare its GFLOP/s with batch 32's): most of its time is Python and Keras dispatch, which runs on one thread per process, so extra intra-op threads can add little there, and more processes are what can use more CPUs.
# At a larger batch the matmuls take a bigger share of each request.
# Workers that all keep the default pools put more pool threads on the CPUs than there are CPUs; where that costs, it shows as a higher 99th percentile and more CPU time per request than the recommended settings, and the last table below says whether it did here, for each batch.
# With only a few CPUs the two settings differ by a few threads, so the difference can be within the noise of a shared machine.
# For *P* workers and the latency goal, or under a CPU quota, the recommendation is ``intra_op`` = the CPUs in the budget divided by *P* (at least 1); for throughput without a quota it keeps TensorFlow's defaults when each worker has 2 CPUs or more, because the other workers' threads fill each worker's serial gaps, and divides the CPUs when a worker has less, where little gap is left to fill (the lines below print both).
# On a machine with more CPUs each default worker starts more threads; four workers on 16 CPUs are measured on :ref:`results-many-core`.

default_threads = workers * sum(compared[1].measured(0)[0].observed_pools.values())
claim(
    "workers that keep the default pools put more pool threads on the CPUs than there are CPUs",
    default_threads > budget,
)
for goal in ("latency", "throughput"):
    print(
        f"recommend({goal!r}, processes={workers}): {recommend(goal, processes=workers).settings.describe()}"
    )
scores = {
    "median latency": None,
    "99th-percentile latency": lambda m: 1 / m.wall.p99,
    "CPU time per inference": lambda m: 1 / cpu_ms(m),
    "total throughput": lambda m: m.throughput,
}
verdicts = [
    {"batch": batch, "quantity": quantity}
    | {f"{names[1]} vs defaults [95 % CI]": ratio(c.interval(1, 0, of=of))}
    | {"verdict": c.verdict(1, 0, of=of, settled=True)}
    for batch, c in compared.items()
    for quantity, of in scores.items()
]
note = f"{workers} workers; ratios paired by round, above 1 favours the recommended settings;\n"
note += "verdict: better or worse for the recommended settings, indistinguishable, or inconclusive (too wide to decide)"
show(Table.of(verdicts, note=note))

# %%
# Four workers on a 16-CPU machine
# --------------------------------
# A results file committed from another machine (:ref:`results-many-core`) ran four processes at once, each a batch-256 MLP in a loop, in interleaved rounds of fresh processes.
# Nothing below ran on the machine that built this page: the table is read from that file, and its note names the machine.
# Dividing the CPUs among the workers did not raise the total throughput there; the defaults were the best or tied with it (checked against the file as this page is built).

claim(
    "on the 16-CPU machine no divided setting raised the four workers' throughput",
    all(
        row.verdict in {"baseline", "indistinguishable", "inconclusive", "worse"}
        for row in committed_rows("procs")[0]
    ),
)
show(committed("procs")[0])
