"""
.. _gallery-default-pools:

What TensorFlow starts with default thread settings
===================================================

TensorFlow has two CPU thread pools: the *intra-op* pool splits one op across threads, and the *inter-op* pool runs independent ops at the same time.
Left at ``0``, each setting lets TensorFlow pick a size.
This example starts TensorFlow in fresh processes, once with the defaults and once for each way of changing them, and counts the threads that appear when the runtime starts.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`, :ref:`setting-tf-num-intraop-threads`.
"""

from _helpers import Table, claim, machine, observe_all, pair, pool_bars, show

show(machine())

# %%
# One fresh process per configuration
# -----------------------------------
# Each process applies the settings with ``tf.config.threading``, runs one matmul to start the runtime, and lists ``/proc/self/task``.
# Inter-op threads are named ``tf_Compute``; intra-op threads keep the name of the thread that created them, so they are counted as the unnamed threads that appeared when the runtime started.
# The expected sizes follow TensorFlow's precedence (:func:`tfthreads.settings.resolve_pools`): the configured value, else the ``TF_NUM_*`` environment variable, else the CPUs in the affinity mask.
# Processes run two at a time (they only count threads; nothing is timed).

from tfthreads.probe import observe_pools
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.topology import topology

topo = topology()
configurations: dict[str, tuple[ThreadSettings, dict[str, str], list[int] | None]] = {
    "defaults (0, 0)": (ThreadSettings(), {}, None),
    "intra_op=1, inter_op=1": (ThreadSettings(intra_op=1, inter_op=1), {}, None),
    "intra_op=3, inter_op=5": (ThreadSettings(intra_op=3, inter_op=5), {}, None),
    "TF_NUM_INTRAOP_THREADS=1": (ThreadSettings(), {"TF_NUM_INTRAOP_THREADS": "1"}, None),
}
if topo.affinity_cpus > 1:
    configurations["affinity: 1 CPU (taskset)"] = (ThreadSettings(), {}, [topo.affinity[0]])

observed, expected, named = [], [], []  # pools as (intra-op, inter-op) threads
seen_all = observe_all(
    lambda case: observe_pools(case[0], env=case[1], cpus=case[2]), configurations.values()
)
for (settings, env, _), seen in zip(configurations.values(), seen_all, strict=True):
    exp = resolve_pools(settings, affinity_cpus=len(seen.affinity), environ=env)
    observed.append((seen.observed_intra_op, seen.observed_inter_op))
    expected.append((exp.intra_op, exp.inter_op))
    named.append(", ".join(f"{name} x{n}" for name, n in seen.new_threads.items()))

rows = zip(configurations, expected, observed, named, strict=True)
show(
    Table(
        ["configuration", "expected", "observed", "new threads by name"],
        [(label, pair(*e), pair(*o), n) for label, e, o, n in rows],
        note="(intra-op / inter-op threads)",
    )
)

# %%
# Bars show what each process created; the black ticks show what the precedence predicts.

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
pool_bars(ax, list(configurations), observed, expected, tick_label="expected by precedence")
ax.set_title("Pool threads created by a fresh TensorFlow process")
plt.show()

# %%
# What this shows
# ---------------
# With the defaults, *both* pools get one thread per CPU in the affinity mask, so a process starts about twice as many pool threads as it has CPUs.
# Narrowing the affinity mask (``taskset``, ``numactl -C``, ``docker --cpuset-cpus``) shrinks both default pools.
# On a machine with more CPUs the default rows grow with the CPU count, while the explicitly configured rows stay the same.
# The first two statements are checked against this build's processes; the line below says whether every observed count matched the precedence here.

claim(
    "with the defaults both pools get one thread per CPU in the mask",
    observed[0] == (topo.affinity_cpus,) * 2,
)
if "affinity: 1 CPU (taskset)" in configurations:
    narrowed = observed[list(configurations).index("affinity: 1 CPU (taskset)")]
    claim("narrowing the affinity mask shrinks both default pools", narrowed == (1, 1))
mismatches = [c for c, o, e in zip(configurations, observed, expected, strict=True) if o != e]
print("all observations match the precedence" if not mismatches else f"mismatch: {mismatches}")
