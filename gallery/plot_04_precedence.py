"""
.. _gallery-precedence:

Which wins: the API, the environment variable or the default?
=============================================================

Each pool size can come from three places: ``tf.config.threading`` (or ``ConfigProto``) in the program, the ``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS`` environment variables, or TensorFlow's default.
This example sets every combination of the first two in fresh processes, reads back what ``tf.config.threading.get_*`` reports, and counts the pool threads the runtime really starts.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`, :ref:`setting-tf-num-intraop-threads`, :ref:`setting-tf-num-interop-threads`.
"""

from _helpers import Table, machine, observe_all, pair, show

show(machine())

# %%
# The matrix, one fresh process per cell
# --------------------------------------
# The environment variables and the API get different values, both different from the default (the CPUs in the affinity mask), so the thread count alone says which one won.
# Both pools get the same value from the same source.
# Processes run two at a time (they only count threads; nothing is timed).
# ``configured`` is what ``tf.config.threading.get_intra_op_parallelism_threads()`` and ``get_inter_op_parallelism_threads()`` return after the settings are applied; ``observed`` counts the threads that appeared when the runtime ran its first matmul (counted as in :ref:`gallery-default-pools`); ``predicted`` is :func:`tfthreads.settings.resolve_pools`, the precedence written down as code.

from tfthreads.probe import observe_pools
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.topology import topology

cpus = topology().affinity_cpus
env_value, api_value = (1 if cpus != 1 else 3), cpus + 1
names = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
env_cases = {"unset": {}, f"both = {env_value}": dict.fromkeys(names, str(env_value))}
api_cases = {
    "not called": ThreadSettings(),
    f"both = {api_value}": ThreadSettings(intra_op=api_value, inter_op=api_value),
}


def source(threads):
    """Which of the three values a thread count matches."""
    return {api_value: "API", env_value: "env var", cpus: "default"}.get(threads, "other")


cases = [(e, a) for e in env_cases for a in api_cases]
seen_all = observe_all(
    lambda case: observe_pools(
        api_cases[case[1]], env={**dict.fromkeys(names), **env_cases[case[0]]}
    ),
    cases,
)
cells = {}  # (env label, api label) -> {what: (intra-op, inter-op) threads}
for (env_label, api_label), seen in zip(cases, seen_all, strict=True):
    settings, env = api_cases[api_label], env_cases[env_label]
    predicted = resolve_pools(settings, affinity_cpus=len(seen.affinity), environ=env)
    cells[env_label, api_label] = {
        "configured": (seen.configured_intra_op, seen.configured_inter_op),
        "observed": (seen.observed_intra_op, seen.observed_inter_op),
        "predicted": (predicted.intra_op, predicted.inter_op),
    }

rows = [
    {"TF_NUM_*": e, "API": a, **{what: pair(*pools) for what, pools in cell.items()}}
    | {"winner (intra / inter)": pair(*map(source, cell["observed"]))}
    for (e, a), cell in cells.items()
]
show(Table.of(rows, note=f"(intra-op / inter-op threads; default here: {cpus})"))

# %%
# One panel per pool; each cell shows the observed threads and is coloured by the source that value came from.

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

kinds = ["default", "env var", "API", "other"]
colors = ListedColormap(["#d9d9d9", "#9ecae1", "#fdae6b", "#fb6a4a"])
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
for index, (ax, pool) in enumerate(zip(axes, ("intra-op", "inter-op"), strict=True)):
    counts = np.array([[cells[e, a]["observed"][index] for a in api_cases] for e in env_cases])
    codes = np.vectorize(lambda n: kinds.index(source(n)))(counts)
    ax.imshow(codes, cmap=colors, vmin=0, vmax=len(kinds) - 1)
    for (row, col), n in np.ndenumerate(counts):
        label = f"{n} thread{'s' if n != 1 else ''}\n({source(n)})"
        ax.text(col, row, label, ha="center", va="center")
    ax.set_xticks(range(len(api_cases)), [f"API:\n{a}" for a in api_cases])
    ax.set_yticks(range(len(env_cases)), [f"TF_NUM_*:\n{e}" for e in env_cases])
    ax.set_title(f"{pool} threads observed")
plt.show()

# %%
# What this shows
# ---------------
# The lines below check the precedence TensorFlow's source code implements for each pool: a size set through the API if it is above 0, else a ``TF_NUM_*`` variable if it is above 0, else the CPUs in the affinity mask.
# ``get_*_parallelism_threads()`` reads back the configuration, not the pool: where it returns 0 in the cell sized by the environment variables, the program cannot learn the real size from TensorFlow, which is why the threads are counted here.
# Nothing in this matrix depends on the number of CPUs except the default cell, which grows with the affinity mask.

mismatches = [f"{e} x {a}" for (e, a), c in cells.items() if c["observed"] != c["predicted"]]
print("observed = predicted in every cell" if not mismatches else f"differ: {mismatches}")
env_label, api_label = list(env_cases)[1], list(api_cases)[1]
both, env_only = cells[env_label, api_label], cells[env_label, "not called"]
print("API setting wins over TF_NUM_* here:", both["observed"] == (api_value,) * 2)
print("TF_NUM_* wins over the default here:", env_only["observed"] == (env_value,) * 2)
print(f"with only TF_NUM_* = {env_value}: get_* returned {pair(*env_only['configured'])},")
print(f"the runtime started {pair(*env_only['observed'])} threads")
