"""
.. _gallery-containers:

Containers and CPU budgets: affinity against quota
==================================================

A container can be limited to one CPU in two ways. ``docker --cpuset-cpus`` (or
``taskset``, ``numactl -C``) narrows the *affinity mask*: the process may run on fewer
CPUs. ``docker --cpus`` and Kubernetes CPU limits set a CFS *quota*: the process may
run on every CPU, but only for a share of each 100 ms period, and is throttled for the
rest of it.
TensorFlow sizes its pools from the affinity mask and does not read the quota.
This example measures both kinds of limit with the same one-CPU budget: what
TensorFlow creates, what :func:`tfthreads.topology.topology` reports from inside, and
what oversubscription costs in tail latency and CPU time.

.. seealso::
   The reference sections this example is evidence for:
   :ref:`setting-configproto-intra-op-parallelism-threads`,
   :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

# %%
# The machine
# -----------

from _helpers import Table, machine, show

show(machine())

# %%
# Four processes, one workload
# ----------------------------
# Each configuration times a 512 x 512 matmul in a fresh process: without a limit,
# with the affinity narrowed to one CPU (what ``--cpuset-cpus`` does), and inside a
# temporary cgroup with a quota of one CPU (what ``--cpus=1`` does), once with
# TensorFlow's default pools and once with the intra-op pool sized to the quota.
# :func:`tfthreads.quota.cpu_quota` creates the cgroup; it needs root and a writable
# cgroup file system, and where the machine does not allow it the quota rows are
# left out and the reason is printed.

import contextlib
from pathlib import Path

from tfthreads.errors import UnsupportedPlatformError
from tfthreads.measure import measure
from tfthreads.options import MeasureOptions
from tfthreads.quota import cpu_quota
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology

topo = topology()
REPEATS, WARMUP = 100, 5
QUOTA = 1.0


def run(group: Path | None, settings: ThreadSettings, cpus=None):
    """Measure the matmul in a fresh process, optionally inside ``group``."""
    options = MeasureOptions(repeats=REPEATS, warmup=WARMUP, cpus=cpus, cgroup=group)
    return measure("matmul", settings, options=options)


results = {"no limit": run(None, ThreadSettings())}
if topo.affinity_cpus > 1:
    results["affinity: 1 CPU"] = run(None, ThreadSettings(), cpus=[topo.affinity[0]])
quota_settings = ThreadSettings(intra_op=max(1, int(QUOTA)))
with contextlib.ExitStack() as stack:
    try:
        group = stack.enter_context(cpu_quota(QUOTA))
    except UnsupportedPlatformError as error:
        group = None
        print(f"No quota measurement on this machine: {error}")
    if group is not None:
        results[f"quota {QUOTA:g} CPU, defaults"] = run(group, ThreadSettings())
        results[f"quota {QUOTA:g} CPU, intra={quota_settings.intra_op}"] = run(
            group, quota_settings
        )

rows = []
for label, m in results.items():
    inside, row = m.provenance["child_topology"], m.row()
    rows.append(
        {
            "configuration": label,
            "TF pools": f"{row['observed_intra_op']}/{row['observed_inter_op']}",
        }
        | {"affinity": inside["affinity_cpus"], "quota": inside["quota_cpus"]}
        | {"budget": inside["cpu_budget"], "median": row["median_ms"], "p99": row["p99_ms"]}
        | {"CPU ms": row["cpu_ms"], "per s": row["throughput"]}
    )
note = (
    "TF pools: intra-op/inter-op threads created; affinity, quota, budget: CPUs seen by\n"
    "topology() inside the process; median, p99: wall ms per matmul; CPU ms: median\n"
    "process CPU time per matmul; per s: matmuls per second over the timed loop"
)
digits = {"quota": "g", "budget": "g", "median": 1, "p99": 1, "CPU ms": 1, "per s": 0}
show(Table.of(rows, note=note, digits=digits))

# %%
# Latency distribution
# --------------------
# Each dot is one timed matmul; the box spans the interquartile range.
# Throttling shows up as a tail: a step that runs out of quota waits for the next
# period.

import matplotlib.pyplot as plt
import numpy as np

fig, (ax, ax2) = plt.subplots(
    1, 2, figsize=(10, 4), layout="constrained", gridspec_kw={"width_ratios": [2, 1]}
)
labels = list(results)
samples = [[t * 1e3 for p in m.processes for t in p.wall_seconds] for m in results.values()]
ax.boxplot(samples, showfliers=False)
rng = np.random.default_rng(0)
for i, values in enumerate(samples, start=1):
    ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=8, alpha=0.5)
ax.set_xticks(range(1, len(labels) + 1), labels, rotation=15, ha="right")
ax.set_yscale("log")
ax.set_ylabel("ms per matmul (log scale)")
ax.set_title("Wall time per step")
ax2.bar(range(len(labels)), [m.cpu.median * 1e3 for m in results.values()])
ax2.set_xticks(range(len(labels)), labels, rotation=15, ha="right")
ax2.set_ylabel("CPU ms per matmul (median)")
ax2.set_title("CPU time per step")
plt.show()

# %%
# What this shows
# ---------------
# Narrowing the affinity mask shrinks TensorFlow's pools to match; a quota does not,
# though :func:`~tfthreads.topology.topology` sees it from inside the process and
# reports the smaller budget. With default pools under a quota, TensorFlow runs more
# busy threads than the quota pays for; when the quota runs out inside a period, all of
# them stop until the next one, which is what the tail latency measures.
# Sizing the intra-op pool to the quota is what ``--cpuset-cpus`` would have done for
# free. On a larger machine the default pools grow with the CPU count while the quota
# stays the same, so the mismatch, and the throttling, grow.

for label, m in results.items():
    inside = m.provenance["child_topology"]
    pools = m.observed_pools["intra_op"]
    print(
        f"{label:<24} intra-op pool {pools} vs CPU budget {inside['cpu_budget']:g}: "
        + ("oversubscribed" if pools > inside["cpu_budget"] else "fits")
    )
quota_rows = [(label, m) for label, m in results.items() if label.startswith("quota")]
if len(quota_rows) == 2:
    (_, default), (_, sized) = quota_rows

    def ratio(name: str, a: float, b: float) -> str:
        """Say how ``a`` compares with ``b``."""
        return f"{name} {a / b:.2f}x ({'higher' if a > b else 'lower or equal'})"

    print(f"under the quota, default pools against intra={quota_settings.intra_op}:")
    print("  " + ratio("median", default.wall.median, sized.wall.median))
    print("  " + ratio("p99", default.wall.p99, sized.wall.p99))
    print("  " + ratio("CPU time per step", default.cpu.median, sized.cpu.median))
    print("  " + ratio("throughput", default.throughput, sized.throughput))
else:
    print("the quota comparison was not measured on this machine")
