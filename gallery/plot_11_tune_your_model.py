"""
.. _gallery-tune-your-model:

Tune the thread settings of your own model
==========================================

Published advice on pool sizes disagrees: Intel's guides say intra-op = physical cores per socket and inter-op = sockets, other answers say "inter = 2" or "inter = 1", and many say "measure".
:func:`tfthreads.tune.tune` measures: it screens TensorFlow's defaults, the :func:`~tfthreads.recommend.recommend` settings and a coarse grid, then compares the finalists with the defaults in interleaved rounds of fresh processes, and states the gain as a ratio with a 95 % interval.
This example saves a small Keras model, tunes it with a small budget, and measures the rules of thumb in the same run, so every number on the page comes from one machine.
The same search runs from the command line as ``tfthreads tune``.

A full grid on a 16-CPU machine, the ground truth a tuner should land near: :ref:`results-many-core`.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, compare, machine, show, spread, timing

show(machine())

# %%
# A model saved by another process
# --------------------------------
# TensorFlow must not start in the process that runs this page, because its pools could then never be changed here; so ``save_model`` builds and saves the model in a fresh process.
# Your own model would be a ``.keras`` file you already have.
# This one is a small convolutional network for 32x32 colour images.

import shutil
import tempfile
from pathlib import Path

from tfthreads.isolation import run_function


def save_model(path: str) -> int:
    """Build a small CNN, save it to ``path`` and return its number of parameters."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    model.save(path)
    return model.count_params()


folder = Path(tempfile.mkdtemp(prefix="tfthreads-tune-"))
model_path = folder / "small_cnn.keras"
print(run_function(save_model, {"path": str(model_path)}), "parameters saved to", model_path.name)

# %%
# Tune it
# -------
# The goal is latency: the lowest median time for one call of the model on a batch of 8 images.
# A budget of 8 measurements keeps the page fast: too few to screen a grid, so ``tune`` compares the defaults with the nearest other candidate (the recommendation, unless it starts the same pools as the defaults) in four interleaved rounds.
# With your own model, give it more (the command line's default is 40).

from tfthreads.options import MeasureOptions
from tfthreads.tune import tune
from tfthreads.workloads import parse_workload

spec = parse_workload(str(model_path), input_shape=[8, 32, 32, 3])
tuned = tune(spec, "latency", budget=8, options=MeasureOptions(repeats=15))
if tuned.tried.failed:
    raise RuntimeError(f"a tune measurement failed: {tuned.tried.failed[0].error}")
print(tuned.comparison.table())
gain = tuned.speedup
if gain is None:
    print("tune kept TensorFlow's defaults: no other finalist measured better")
else:
    tie = " (a tie: keeping the defaults is as good)" if gain.includes_one else ""
    print(f"tune chose {tuned.best.describe()}: {gain.describe()} the defaults{tie}")

# %%
# The rules of thumb, measured in the same run
# --------------------------------------------
# Each rule gives a setting for this machine; a setting that starts the same pools as one ``tune`` already measured is not measured again.
# "Cores" below are the physical cores the affinity mask allows.
# *inter=2 rule* is intra-op = cores with inter-op = 2, *inter=1 rule* the same with inter-op = 1, and *Intel rule* is intra-op = physical cores per socket with inter-op = sockets.

from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.sweep import sweep
from tfthreads.topology import topology

topo = topology()
cores = min(topo.physical_cores or topo.affinity_cpus, topo.affinity_cpus)
rules = {
    "defaults": ThreadSettings(),
    "recommend()": tuned.recommendation.settings,
    "tune() best": tuned.best,
    "inter=2 rule": ThreadSettings(intra_op=cores, inter_op=2),
    "inter=1 rule": ThreadSettings(intra_op=cores, inter_op=1),
}
if tuned.recommendation.intel_rule is not None:
    rules["Intel rule"] = tuned.recommendation.intel_rule
else:
    print("Intel's rule: the physical cores or sockets are unknown here, so it is skipped")


cpus = topo.affinity_cpus


def pools_of(settings: ThreadSettings) -> tuple[int, int]:
    """Return the pool sizes a setting starts here (2/2 and the defaults are one on 2 CPUs)."""
    pools = resolve_pools(settings, affinity_cpus=cpus, environ={})
    return pools.intra_op, pools.inter_op


measured = {pools_of(m.settings): m for m in tuned.tried.ok}
missing = list({pools_of(s): s for s in rules.values() if pools_of(s) not in measured}.values())
if missing:
    extra = sweep(spec, missing, options=MeasureOptions(repeats=15))
    if extra.failed:
        raise RuntimeError(f"measuring the rules failed: {extra.failed[0].error}")
    measured.update({pools_of(m.settings): m for m in extra.ok})
names = {p: ", ".join(n for n, rule in rules.items() if pools_of(rule) == p) for p in measured}
order = sorted(measured, key=lambda p: measured[p].wall.median)
resolved = tuned.recommendation.tensorflow_default
print(f"pool sizes measured in all: {len(measured)} (each measurement in fresh processes)")
print(f"the defaults (0/0) start {resolved.intra_op}/{resolved.inter_op} pool threads here;")
print("rules that start the same pools share a row: measuring them again would time the same")

best, defaults = measured[pools_of(tuned.best)], measured[pools_of(ThreadSettings())]
rows = [
    {"intra": p[0], "inter": p[1], **timing(measured[p], defaults)}
    | {"rules": names[p] or "(tune neighbour)"}
    | {"vs tune() best": "tune()'s choice" if measured[p] is best else compare(measured[p], best)}
    for p in order
]
note = "speedup: median time with the defaults / median time here (above 1 is faster);\n"
note += "vs tune() best: where the noise allows a verdict, faster or slower than tune()'s choice"
show(Table.of(rows, note=note))

# %%
# Bars are the median time per call, fastest first; bars with overlapping error bars are within the noise of each other here.

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 0.6 * len(order) + 1.5), layout="constrained")
medians, xerr = spread(measured[p] for p in order)
colors = ["tab:green" if measured[p] is best else "tab:blue" for p in order]
ax.barh(range(len(order)), medians, xerr=xerr, color=colors, capsize=4)
labels = [f"{p[0]}/{p[1]}: {names[p] or 'tune neighbour'}" for p in order]
ax.set_yticks(range(len(order)), labels)
ax.invert_yaxis()
ax.set_xlabel("ms per call, batch of 8 (median, IQR bars)")
fig.suptitle("small_cnn.keras: every setting measured (intra/inter: rules)")
plt.show()
shutil.rmtree(folder)  # the saved model is not needed any more

# %%
# What this shows
# ---------------
# On a machine with few CPUs, most rules give the same or nearly the same setting, so the differences between them are small and often within the noise; the last column of the table says which.
# On a machine with many cores and several sockets, the rules part: Intel's rule and "inter = 2" give wide intra-op pools while the defaults count logical CPUs, and which is fastest depends on the model, which is why ``tune`` measures rather than picks.
