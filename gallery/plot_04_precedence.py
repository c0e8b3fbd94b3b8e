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

from tfthreads.provenance import describe_machine
from tfthreads.topology import topology

print(describe_machine(sep="\n"))
cpus = topology().affinity_cpus

# %%
# Three values that cannot be confused
# ------------------------------------
# The environment variables and the API get different values, both different from the
# default, so the thread count alone says which one won.
# Both pools get the same value from the same source.

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

cells = {}  # (env label, api label) -> (observation, predicted pools)
for env_label, env in env_cases:
    for api_label, settings in api_cases:
        seen = observe_pools(settings, env=env)
        environ = {k: v for k, v in env.items() if v is not None}
        predicted = resolve_pools(settings, affinity_cpus=len(seen.affinity), environ=environ)
        cells[env_label, api_label] = (seen, predicted)


def source(threads):
    """Which of the three values a thread count matches."""
    names = {api_value: "API", env_value: "env var", cpus: "default"}
    return names.get(threads, "other")


header = (
    f"{'TF_NUM_*':<10}{'API':<12}{'configured':>12}{'observed':>11}"
    f"{'predicted':>11}   {'winner (intra / inter)'}"
)
print(header)
print("-" * len(header))
for (env_label, api_label), (seen, predicted) in cells.items():
    configured = f"{seen.configured_intra_op} / {seen.configured_inter_op}"
    observed = f"{seen.observed_intra_op} / {seen.observed_inter_op}"
    expected = f"{predicted.intra_op} / {predicted.inter_op}"
    winner = f"{source(seen.observed_intra_op)} / {source(seen.observed_inter_op)}"
    print(f"{env_label:<10}{api_label:<12}{configured:>12}{observed:>11}{expected:>11}   {winner}")
print("(each cell: intra-op / inter-op threads)")

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
for ax, pool in zip(axes, ("intra_op", "inter_op"), strict=True):
    counts = np.array(
        [[getattr(cells[e, a][0], f"observed_{pool}") for a, _ in api_cases] for e, _ in env_cases]
    )
    codes = np.vectorize(lambda n: kinds.index(source(n)))(counts)
    ax.imshow(codes, cmap=colors, vmin=0, vmax=len(kinds) - 1)
    for (row, col), count in np.ndenumerate(counts):
        ax.text(
            col,
            row,
            f"{count} thread{'s' if count != 1 else ''}\n({source(count)})",
            ha="center",
            va="center",
            fontsize=10,
        )
    ax.set_xticks(range(len(api_cases)), [f"API:\n{a}" for a, _ in api_cases])
    ax.set_yticks(range(len(env_cases)), [f"TF_NUM_*:\n{e}" for e, _ in env_cases])
    ax.set_title(f"{pool.replace('_', '-')} threads observed")
plt.show()

# %%
# What this shows
# ---------------
# The lines below are computed from the matrix above.
# The precedence they check is the one TensorFlow's source code implements for each
# pool: a size set through the API if it is above 0, else a ``TF_NUM_*`` variable if it
# is above 0, else the CPUs in the affinity mask.
# ``get_*_parallelism_threads()`` reads back the configuration, not the pool: where it
# returns 0 in the cell sized by the environment variables, the program cannot learn
# the real size from TensorFlow, which is why the threads are counted here.
# Nothing in this matrix depends on the number of CPUs except the default cell, which
# grows with the affinity mask.

mismatches = [
    f"{e} x {a}"
    for (e, a), (seen, predicted) in cells.items()
    if (seen.observed_intra_op, seen.observed_inter_op) != (predicted.intra_op, predicted.inter_op)
]
print("observed = predicted in every cell" if not mismatches else f"differ: {mismatches}")
both, _ = cells[env_cases[1][0], api_cases[1][0]]
env_only, _ = cells[env_cases[1][0], api_cases[0][0]]
api_wins = (both.observed_intra_op, both.observed_inter_op) == (api_value, api_value)
env_wins = (env_only.observed_intra_op, env_only.observed_inter_op) == (env_value, env_value)
print(f"API setting wins over TF_NUM_* here: {'yes' if api_wins else 'no'}")
print(f"TF_NUM_* wins over the default here: {'yes' if env_wins else 'no'}")
print(
    f"with only TF_NUM_* = {env_value}: get_* returned "
    f"{env_only.configured_intra_op} / {env_only.configured_inter_op}, "
    f"the runtime started {env_only.observed_intra_op} / {env_only.observed_inter_op} threads"
)
