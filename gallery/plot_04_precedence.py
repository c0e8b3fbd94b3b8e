"""
.. _gallery-precedence:

Which wins: the API, the environment variable or the default?
=============================================================

Each pool size can come from three places: ``tf.config.threading`` (or
``ConfigProto``) in the program, the ``TF_NUM_INTRAOP_THREADS`` and
``TF_NUM_INTEROP_THREADS`` environment variables, or TensorFlow's default.
This example sets every combination of the first two in fresh processes, reads back
what ``tf.config.threading.get_*`` reports, and counts the pool threads the runtime
really starts.

.. seealso::
   The reference sections this example is evidence for:
   :ref:`setting-configproto-intra-op-parallelism-threads`,
   :ref:`setting-configproto-inter-op-parallelism-threads`,
   :ref:`setting-tf-num-intraop-threads`,
   :ref:`setting-tf-num-interop-threads`.
"""

# %%
# The machine
# -----------
# The default size of both pools is the number of CPUs in the affinity mask.

from _helpers import Table, machine, pair, show

show(machine())

# %%
# Three values that cannot be confused
# ------------------------------------
# The environment variables and the API get different values, both different from the
# default, so the thread count alone says which one won.
# Both pools get the same value from the same source.

from tfthreads.topology import topology

cpus = topology().affinity_cpus
env_value = 1 if cpus != 1 else 3
api_value = cpus + 1
print(f"default (CPUs in the mask): {cpus}")
print(f"TF_NUM_INTRAOP_THREADS = TF_NUM_INTEROP_THREADS = {env_value}")
print(f"tf.config.threading.set_*_parallelism_threads({api_value})")

# %%
# The matrix, one fresh process per cell
# --------------------------------------
# ``configured`` is what ``tf.config.threading.get_intra_op_parallelism_threads()`` and
# ``get_inter_op_parallelism_threads()`` return after the settings are applied;
# ``observed`` counts the threads that appeared when the runtime ran its first matmul
# (see :ref:`gallery-default-pools` for how they are counted).
# ``predicted`` is :func:`tfthreads.settings.resolve_pools`, the precedence written
# down as code.

from tfthreads.probe import observe_pools
from tfthreads.settings import ThreadSettings, resolve_pools

unset = {"TF_NUM_INTRAOP_THREADS": None, "TF_NUM_INTEROP_THREADS": None}
with_env = {"TF_NUM_INTRAOP_THREADS": str(env_value), "TF_NUM_INTEROP_THREADS": str(env_value)}
env_cases = [("unset", unset), (f"both = {env_value}", with_env)]
api_cases = [
    ("not called", ThreadSettings()),
    (f"both = {api_value}", ThreadSettings(intra_op=api_value, inter_op=api_value)),
]

cells = {}  # (env label, api label) -> {what: (intra-op, inter-op) threads}
for env_label, env in env_cases:
    for api_label, settings in api_cases:
        seen = observe_pools(settings, env=env)
        environ = {k: v for k, v in env.items() if v is not None}
        predicted = resolve_pools(settings, affinity_cpus=len(seen.affinity), environ=environ)
        cells[env_label, api_label] = {
            "configured": (seen.configured_intra_op, seen.configured_inter_op),
            "observed": (seen.observed_intra_op, seen.observed_inter_op),
            "predicted": (predicted.intra_op, predicted.inter_op),
        }


def source(threads):
    """Which of the three values a thread count matches."""
    return {api_value: "API", env_value: "env var", cpus: "default"}.get(threads, "other")


rows = [
    {"TF_NUM_*": e, "API": a, **{what: pair(*pools) for what, pools in cell.items()}}
    | {"winner (intra / inter)": pair(*map(source, cell["observed"]))}
    for (e, a), cell in cells.items()
]
show(Table.of(rows, note="(each cell: intra-op / inter-op threads)"))

# %%
# The matrix as a figure
# ----------------------
# One panel per pool; each cell shows the observed threads and is coloured by the
# source that value came from.

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

kinds = ["default", "env var", "API", "other"]
colors = ListedColormap(["#d9d9d9", "#9ecae1", "#fdae6b", "#fb6a4a"])
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
for index, (ax, pool) in enumerate(zip(axes, ("intra-op", "inter-op"), strict=True)):
    counts = np.array(
        [[cells[e, a]["observed"][index] for a, _ in api_cases] for e, _ in env_cases]
    )
    codes = np.vectorize(lambda n: kinds.index(source(n)))(counts)
    ax.imshow(codes, cmap=colors, vmin=0, vmax=len(kinds) - 1)
    for (row, col), count in np.ndenumerate(counts):
        label = f"{count} thread{'s' if count != 1 else ''}\n({source(count)})"
        ax.text(col, row, label, ha="center", va="center", fontsize=10)
    ax.set_xticks(range(len(api_cases)), [f"API:\n{a}" for a, _ in api_cases])
    ax.set_yticks(range(len(env_cases)), [f"TF_NUM_*:\n{e}" for e, _ in env_cases])
    ax.set_title(f"{pool} threads observed")
plt.show()

# %%
# What this shows
# ---------------
# The lines below check the precedence TensorFlow's source code implements for each
# pool: a size set through the API if it is above 0, else a ``TF_NUM_*`` variable if it
# is above 0, else the CPUs in the affinity mask.
# ``get_*_parallelism_threads()`` reads back the configuration, not the pool: where it
# returns 0 in the cell sized by the environment variables, the program cannot learn
# the real size from TensorFlow, which is why the threads are counted here.
# Nothing in this matrix depends on the number of CPUs except the default cell, which
# grows with the affinity mask.

mismatches = [f"{e} x {a}" for (e, a), c in cells.items() if c["observed"] != c["predicted"]]
print("observed = predicted in every cell" if not mismatches else f"differ: {mismatches}")
both, env_only = cells[env_cases[1][0], api_cases[1][0]], cells[env_cases[1][0], api_cases[0][0]]
print(
    f"API setting wins over TF_NUM_* here: {'yes' if both['observed'] == (api_value,) * 2 else 'no'}"
)
print(
    f"TF_NUM_* wins over the default here: {'yes' if env_only['observed'] == (env_value,) * 2 else 'no'}"
)
print(
    f"with only TF_NUM_* = {env_value}: get_* returned {pair(*env_only['configured'])}, "
    f"the runtime started {pair(*env_only['observed'])} threads"
)
