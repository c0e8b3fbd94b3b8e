"""
.. _gallery-default-pools:

What TensorFlow starts with default thread settings
===================================================

TensorFlow has two CPU thread pools: the *intra-op* pool splits one op across
threads, and the *inter-op* pool runs independent ops at the same time.
Left at ``0``, each setting lets TensorFlow pick a size.
This example starts TensorFlow in fresh processes, once with the defaults and once for
each way of changing them, and counts the threads that appear when the runtime starts.

.. seealso::
   The reference sections this example is evidence for:
   :ref:`setting-configproto-intra-op-parallelism-threads`,
   :ref:`setting-configproto-inter-op-parallelism-threads`,
   :ref:`setting-tf-num-intraop-threads`.
"""

# %%
# The machine
# -----------
# Thread counts depend on the machine, so every measurement starts by saying where it
# ran. :func:`tfthreads.topology.topology` reads the affinity mask and the cgroup CPU
# quota; the number of CPUs in the affinity mask is what TensorFlow uses for ``0``.

from tfthreads.probe import observe_pools
from tfthreads.provenance import describe_machine
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.topology import topology

print(describe_machine(sep="\n"))
topo = topology()

# %%
# One fresh process per configuration
# -----------------------------------
# Each row below is its own TensorFlow process.
# Inside it, the worker applies the settings with ``tf.config.threading``, runs one
# matmul to start the runtime, and lists ``/proc/self/task``.
# Inter-op threads are named ``tf_Compute``; intra-op threads keep the name of the
# thread that created them, so they are counted as the unnamed threads that appeared
# when the runtime started.

configurations = [
    ("defaults (0, 0)", ThreadSettings(), {}, None),
    ("intra_op=1, inter_op=1", ThreadSettings(intra_op=1, inter_op=1), {}, None),
    ("intra_op=3, inter_op=5", ThreadSettings(intra_op=3, inter_op=5), {}, None),
    ("TF_NUM_INTRAOP_THREADS=1", ThreadSettings(), {"TF_NUM_INTRAOP_THREADS": "1"}, None),
]
if topo.affinity_cpus > 1:
    configurations.append(("affinity: 1 CPU (taskset)", ThreadSettings(), {}, [topo.affinity[0]]))

rows = []
for label, settings, env, cpus in configurations:
    seen = observe_pools(settings, env=env, cpus=cpus)
    expected = resolve_pools(settings, affinity_cpus=len(seen.affinity), environ=env)
    rows.append((label, seen, expected))

header = f"{'configuration':<28}{'expected':>12}{'observed':>12}"
print(header)
print("-" * len(header))
for label, seen, expected in rows:
    print(
        f"{label:<28}{expected.intra_op:>6} / {expected.inter_op:<4}"
        f"{seen.observed_intra_op:>6} / {seen.observed_inter_op:<4}"
    )
print("(intra-op / inter-op threads)")
print()
print("Threads that appeared when the runtime started, by name:")
for label, seen, _ in rows:
    print(f"  {label:<28}" + ", ".join(f"{name} x{n}" for name, n in seen.new_threads.items()))

# %%
# Expected against observed
# -------------------------
# The expected sizes follow TensorFlow's precedence: the configured value, else the
# ``TF_NUM_*`` environment variable, else the CPUs in the affinity mask.
# Bars show what each process really created; the black ticks show what the precedence
# predicts.

import matplotlib.pyplot as plt
import numpy as np

labels = [label for label, _, _ in rows]
positions = np.arange(len(rows))
width = 0.38
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
for offset, pool, color in (
    (-width / 2, "intra_op", "tab:blue"),
    (width / 2, "inter_op", "tab:orange"),
):
    observed = [getattr(seen, f"observed_{pool}") for _, seen, _ in rows]
    expected = [getattr(exp, pool) for _, _, exp in rows]
    ax.bar(
        positions + offset, observed, width, label=f"{pool.replace('_', '-')} observed", color=color
    )
    ax.scatter(positions + offset, expected, marker="_", s=400, color="black", zorder=3)
ax.scatter([], [], marker="_", s=200, color="black", label="expected by precedence")
ax.set_xticks(positions, labels, rotation=15, ha="right")
ax.set_ylabel("threads")
ax.yaxis.get_major_locator().set_params(integer=True)
ax.set_title("Pool threads created by a fresh TensorFlow process")
ax.legend(loc="upper left")
plt.show()

# %%
# What this shows
# ---------------
# The line printed below says whether every observed count matched the precedence on
# the machine described at the top.
# With the defaults, *both* pools get one thread per CPU in the affinity mask, so a
# process starts about twice as many pool threads as it has CPUs.
# Narrowing the affinity mask (``taskset``, ``numactl -C``, ``docker --cpuset-cpus``)
# shrinks both default pools.
# On a machine with more CPUs the default rows grow with the CPU count, while the
# explicitly configured rows stay the same.

mismatches = [
    label
    for label, seen, exp in rows
    if (seen.observed_intra_op, seen.observed_inter_op) != (exp.intra_op, exp.inter_op)
]
print("all observations match the precedence" if not mismatches else f"mismatch: {mismatches}")
