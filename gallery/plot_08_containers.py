"""
.. _gallery-containers:

Containers and CPU budgets: affinity against quota
==================================================

A container can be limited to one CPU in two ways.
``docker --cpuset-cpus`` (or ``taskset``, ``numactl -C``) narrows the *affinity mask*: the process may run on fewer CPUs.
``docker --cpus`` and Kubernetes CPU limits set a CFS *quota*: the process may run on every CPU, but only for a share of each 100 ms period, and is throttled for the rest of it.
TensorFlow sizes its pools from the affinity mask and does not read the quota.
This example measures both kinds of limit with the same one-CPU budget: what TensorFlow creates, what :func:`tfthreads.topology.topology` reports from inside, and what oversubscription costs in tail latency and CPU time.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, machine, pools, show

show(machine())

# %%
# Four processes, one workload
# ----------------------------
# Each configuration times a 512 x 512 matmul (100 steps after 5 warm-up steps): without a limit, with the affinity narrowed to one CPU (what ``--cpuset-cpus`` does), and inside a temporary cgroup with a quota of one CPU (what ``--cpus=1`` does), once with TensorFlow's default pools and once with the intra-op pool sized to the quota.
# :func:`tfthreads.quota.cpu_quota` creates the cgroup; it needs root and a writable cgroup file system, and where the machine does not allow it the quota rows are left out and the reason is printed.

from tfthreads.errors import UnsupportedPlatformError
from tfthreads.measure import measure
from tfthreads.options import MeasureOptions
from tfthreads.quota import cpu_quota
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology

topo = topology()
sized = ThreadSettings(intra_op=1)


def run(settings=sized, cpus=None, cgroup=None):
    """Measure the matmul in a fresh process."""
    options = MeasureOptions(repeats=100, warmup=5, cpus=cpus, cgroup=cgroup)
    return measure("matmul", settings, options=options)


results = {"no limit": run(ThreadSettings())}
if topo.affinity_cpus > 1:
    results["affinity: 1 CPU"] = run(ThreadSettings(), cpus=[topo.affinity[0]])
try:
    with cpu_quota(1.0) as group:
        results["quota 1 CPU, defaults"] = run(ThreadSettings(), cgroup=group)
        results["quota 1 CPU, intra=1"] = run(cgroup=group)
except UnsupportedPlatformError as error:
    print(f"No quota measurement on this machine: {error}")

rows = [
    {"configuration": label, "TF pools": pools(m)}
    | {"affinity": t["affinity_cpus"], "quota": t["quota_cpus"], "budget": t["cpu_budget"]}
    | {"median": m.wall.median * 1e3, "p99": m.wall.p99 * 1e3, "CPU ms": m.cpu.median * 1e3}
    | {"per s": m.throughput}
    for label, m in results.items()
    for t in [m.provenance["child_topology"]]
]
note = "TF pools: intra-op / inter-op threads created; affinity, quota, budget: CPUs seen by\n"
note += "topology() inside the process; median, p99: wall ms per matmul; CPU ms: median\n"
note += "process CPU time per matmul; per s: matmuls per second over the timed loop"
digits = {"quota": "g", "budget": "g", "median": 1, "p99": 1, "CPU ms": 1, "per s": 0}
show(Table.of(rows, note=note, digits=digits))

# %%
# Each dot is one timed matmul; the box spans the interquartile range.
# Throttling shows up as a tail: a step that runs out of quota waits for the next period.

import matplotlib.pyplot as plt
import numpy as np

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", width_ratios=[2, 1])
labels = list(results)
samples = [[t * 1e3 for p in m.processes for t in p.wall_seconds] for m in results.values()]
ax.boxplot(samples, showfliers=False)
rng = np.random.default_rng(0)
for i, values in enumerate(samples, start=1):
    ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=8, alpha=0.5)
ax.set_xticks(range(1, len(labels) + 1), labels, rotation=15, ha="right")
ax.set(yscale="log", ylabel="ms per matmul (log scale)", title="Wall time per step")
ax2.bar(range(len(labels)), [m.cpu.median * 1e3 for m in results.values()])
ax2.set_xticks(range(len(labels)), labels, rotation=15, ha="right")
ax2.set(ylabel="CPU ms per matmul (median)", title="CPU time per step")
plt.show()

# %%
# What this shows
# ---------------
# Narrowing the affinity mask shrinks TensorFlow's pools to match; a quota does not, though :func:`~tfthreads.topology.topology` sees it from inside the process and reports the smaller budget.
# With default pools under a quota, TensorFlow runs more busy threads than the quota pays for; when the quota runs out inside a period, all of them stop until the next one, which is what the tail latency measures.
# Sizing the intra-op pool to the quota is what ``--cpuset-cpus`` would have done for free.
# On a larger machine the default pools grow with the CPU count while the quota stays the same, so the mismatch, and the throttling, grow.

for label, m in results.items():
    intra, budget = m.observed_pools["intra_op"], m.provenance["child_topology"]["cpu_budget"]
    fits = "oversubscribed" if intra > budget else "fits"
    print(f"{label:<22} intra-op pool {intra} vs CPU budget {budget:g}: {fits}")
if "quota 1 CPU, intra=1" in results:
    a, b = results["quota 1 CPU, defaults"], results["quota 1 CPU, intra=1"]
    print("under the quota, default pools / intra=1 (above 1: higher with the defaults):")
    print(f"  median {a.wall.median / b.wall.median:.2f}x, p99 {a.wall.p99 / b.wall.p99:.2f}x,")
    print(f"  CPU time per step {a.cpu.median / b.cpu.median:.2f}x,")
    print(f"  throughput {a.throughput / b.throughput:.2f}x")
else:
    print("the quota comparison was not measured on this machine")
