"""
.. _gallery-tune-your-model:

Tune the thread settings of your own model
==========================================

Published advice on pool sizes disagrees: Intel's guides say intra-op = physical
cores per socket and inter-op = sockets, other answers say "inter = 2" or
"inter = 1", and many say "measure".
:func:`tfthreads.tune.tune` measures: it starts from TensorFlow's defaults and the
:func:`~tfthreads.recommend.recommend` settings, then walks to neighbouring settings
while one is faster by more than the noise.
This example saves a small Keras model, tunes it with a small budget, and measures the
rules of thumb in the same run, so every number on the page comes from one machine.
The same search runs from the command line as ``tfthreads tune``.

.. seealso::
   The reference sections this example is evidence for:
   :ref:`setting-configproto-intra-op-parallelism-threads`,
   :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

# %%
# The machine
# -----------

from _helpers import Table, machine, overlaps, show

show(machine())

# %%
# A model saved by another process
# --------------------------------
# TensorFlow must not start in the process that runs this page, because its pools could
# then never be changed here; so ``save_model`` builds and saves the model in a fresh
# process (:func:`tfthreads.isolation.run_function`).
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
# The goal is latency: the lowest median time for one call of the model on a batch
# of 8 images.
# A budget of 4 settings keeps the page fast; with your own model, give it more.

from tfthreads.options import MeasureOptions
from tfthreads.tune import tune
from tfthreads.workloads import parse_workload

spec = parse_workload(str(model_path), input_shape=[8, 32, 32, 3])
tuned = tune(spec, "latency", budget=4, options=MeasureOptions(repeats=15))
if tuned.tried.failed:
    raise RuntimeError(f"a tune measurement failed: {tuned.tried.failed[0].error}")
print(f"tune tried {len(tuned.tried.rows)} settings; best: {tuned.best.describe()}")

# %%
# The rules of thumb, measured in the same run
# --------------------------------------------
# Each rule gives a setting for this machine; a setting that ``tune`` already measured
# is not measured again.
# "Cores" below are the physical cores the affinity mask allows.
# The table names the rules briefly: *inter=2 rule* is intra-op = cores with
# inter-op = 2, *inter=1 rule* the same with inter-op = 1, and *Intel rule* is
# intra-op = physical cores per socket with inter-op = sockets.

from tfthreads.settings import ThreadSettings
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
intel = tuned.recommendation.intel_rule
if intel is not None:
    rules["Intel rule"] = intel
else:
    print("Intel's rule: the physical cores or sockets are unknown here, so it is skipped")

rows = {(r["intra_op"], r["inter_op"]): r for r in (m.as_dict() for m in tuned.tried.rows)}
missing = [s for s in dict.fromkeys(rules.values()) if (s.intra_op, s.inter_op) not in rows]
if missing:
    extra = sweep(spec, missing, options=MeasureOptions(repeats=15))
    if extra.failed:
        raise RuntimeError(f"measuring the rules failed: {extra.failed[0].error}")
    rows.update({(r["intra_op"], r["inter_op"]): r for r in (m.as_dict() for m in extra.rows)})
print(f"settings measured in all: {len(rows)} (one fresh process each)")

# Every measured setting, with the names of the rules that give it.
names: dict[tuple[int, int], list[str]] = {key: [] for key in rows}
for name, settings in rules.items():
    names[settings.intra_op, settings.inter_op].append(name)
default_ms = rows[0, 0]["median_ms"]
order = sorted(rows, key=lambda key: rows[key]["median_ms"])

table = [
    {"intra": key[0], "inter": key[1], "median ms": rows[key]["median_ms"]}
    | {"IQR ms": rows[key]["iqr_ms"], "p99 ms": rows[key]["p99_ms"]}
    | {"vs 0/0": default_ms / rows[key]["median_ms"]}
    | {"rules": ", ".join(names[key]) or "(tune neighbour)"}
    for key in order
]
print(f"settings measured in all: {len(rows)} (one fresh process each)")
resolved = tuned.recommendation.tensorflow_default
same = [name for name, rule in rules.items() if rule == resolved]
print(f"the defaults (0/0) start {resolved.intra_op}/{resolved.inter_op} pool threads here")
if same:
    print(f"  the same pools as: {', '.join(same)};")
    print("  a difference between those rows is noise between processes")
note = "(vs 0/0: median time with the defaults / median time here; above 1 is faster)"
show(Table.of(table, note=note))

# %%
# Every setting measured
# ----------------------
# Bars are the median time per call, fastest first; error bars span the first to the
# third quartile.
# Bars with overlapping error bars are within the noise of each other here.

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 0.6 * len(order) + 1.5), layout="constrained")
medians = [rows[key]["median_ms"] for key in order]
low = [rows[key]["median_ms"] - rows[key]["wall"]["q1"] * 1e3 for key in order]
high = [rows[key]["wall"]["q3"] * 1e3 - rows[key]["median_ms"] for key in order]
labels = [f"{a}/{b}: " + (", ".join(names[a, b]) or "tune neighbour") for a, b in order]
colors = [
    "tab:green" if key == (tuned.best.intra_op, tuned.best.inter_op) else "tab:blue"
    for key in order
]
ax.barh(range(len(order)), medians, xerr=[low, high], color=colors, capsize=4)
ax.set_yticks(range(len(order)), labels)
ax.invert_yaxis()
ax.set_xlabel("ms per call, batch of 8 (median, IQR bars)")
fig.suptitle("small_cnn.keras: every setting measured (intra/inter: rules)")
plt.show()

# %%
# What this shows
# ---------------
# On a machine with few CPUs, most rules give the same or nearly the same setting,
# so the differences between them are small and often within the noise; the table
# says which.
# On a machine with many cores and several sockets, the rules part: Intel's rule and
# "inter = 2" give wide intra-op pools while the defaults count logical CPUs, and
# which is fastest depends on the model, which is why ``tune`` measures rather than
# picks.


best_row = rows[tuned.best.intra_op, tuned.best.inter_op]
print(f"best measured: {order[0][0]}/{order[0][1]} ({', '.join(names[order[0]]) or 'tune'})")
print(f"tune() chose {tuned.best.describe()}")
for name, settings in rules.items():
    row = rows[settings.intra_op, settings.inter_op]
    verdict = "within the noise of" if overlaps(row, best_row) else "slower than"
    if settings == tuned.best:
        verdict = "the same setting as"
    print(f"  {name:<14} {settings.intra_op}/{settings.inter_op}: {verdict} tune()'s best")

shutil.rmtree(folder)  # the saved model is not needed any more
