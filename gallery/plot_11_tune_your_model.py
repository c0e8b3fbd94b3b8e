"""
.. _gallery-tune-your-model:

Tune the thread settings of your own model
==========================================

Published advice on pool sizes disagrees: Intel's guides say intra-op = physical cores per socket and inter-op = sockets, other answers say "inter = 2" or "inter = 1", and many say "measure".
:func:`tfthreads.tune.tune` measures: it screens TensorFlow's defaults, the :func:`~tfthreads.recommend.recommend` settings and a coarse grid, then compares the finalists with the defaults in interleaved rounds, each setting in a process of its own, and states the gain as a ratio with a 95 % interval.
This example saves a small Keras model, tunes it with a small budget, and measures the rules of thumb in the same run, so every number on the page comes from one machine.
The same search runs from the command line as ``tfthreads tune``.

A full grid on a 16-CPU machine, the ground truth a tuner should land near: :ref:`results-many-core`.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, machine, pools_of, show, timing, verdict

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

from tfthreads.process import run_function


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
# A budget of 6 measurements keeps the page fast: too few to screen a grid, so ``tune`` compares the defaults with the nearest other candidate (the recommendation, unless it starts the same pools as the defaults) in three interleaved rounds, whose processes take turns running thirds of their timed loops (``chunks=3``).
# With your own model, give it more (the command line's default is 40).
# Three rounds leave a wide interval: what ``tune`` printed here is what it says after so few, and the next section measures its choice again, precisely, next to the rules of thumb.

from tfthreads.options import MeasureOptions
from tfthreads.tune import tune
from tfthreads.workloads import parse_workload

spec = parse_workload(str(model_path), input_shape=[8, 32, 32, 3])
options = MeasureOptions(repeats=15)
tuned = tune(spec, "latency", budget=6, options=options, chunks=3)
if tuned.tried.failed:
    raise RuntimeError(f"a tune measurement failed: {tuned.tried.failed[0].error}")
final = tuned.comparison
print(final.table())
best = final.settings.index(tuned.best)
if best == 0:
    print("tune kept TensorFlow's defaults: no other finalist had a better paired ratio.")
else:
    print(f"tune chose {tuned.best.describe()}.")

# %%
# The rules of thumb, measured in the same run
# --------------------------------------------
# Each rule gives a setting for this machine; rules that start the same pools share a row, so every pool size on this page has one verdict, from one comparison.
# That comparison measures every pool size once per round against the defaults, with :func:`tfthreads.compare.compare`: from 5 to 10 paired rounds, until every ratio is known within ±4 % or 12 seconds are spent.
# Where ``tune`` chose the pools of one of the rules, the table marks that row, so its choice from three rounds is checked here too; a choice no rule gives has only ``tune``'s own interval above.
# "Cores" below are the physical cores the affinity mask allows.
# *inter=2 rule* is intra-op = cores with inter-op = 2, *inter=1 rule* the same with inter-op = 1, and *Intel rule* is intra-op = physical cores per socket with inter-op = sockets.

from tfthreads.compare import compare
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology

topo = topology()
cores = min(topo.physical_cores or topo.affinity_cpus, topo.affinity_cpus)
rules = {
    "defaults": ThreadSettings(),
    "recommend()": tuned.recommendation.settings,
    "inter=2 rule": ThreadSettings(intra_op=cores, inter_op=2),
    "inter=1 rule": ThreadSettings(intra_op=cores, inter_op=1),
}
if tuned.recommendation.intel_rule is not None:
    rules["Intel rule"] = tuned.recommendation.intel_rule
else:
    print("Intel's rule: the physical cores or sockets are unknown here, so it is skipped")


# One setting per pool size, the first rule's, so the defaults come first: the ratios
# are stated against them.
first_of: dict[tuple[int, int], ThreadSettings] = {}
for rule in rules.values():
    first_of.setdefault(pools_of(rule), rule)
distinct = list(first_of.values())
checked = compare(
    spec,
    distinct,
    options=options,
    chunks=3,
    min_rounds=5,
    max_rounds=10,
    precision=0.04,
    budget_seconds=12,
)
home = {pools_of(s): i for i, s in enumerate(distinct)}
names = {p: ", ".join(n for n, rule in rules.items() if pools_of(rule) == p) for p in home}
resolved = tuned.recommendation.tensorflow_default
print(f"pool sizes compared: {len(home)}, in {len(checked.rounds)} paired rounds")
print(f"the defaults (0/0) start {resolved.intra_op}/{resolved.inter_op} pool threads here;")
print("rules that start the same pools share a row: measuring them again would time the same")

chosen = pools_of(tuned.best)
if chosen not in home:
    print(f"tune() chose {chosen[0]}/{chosen[1]}, pools that no rule gives here")
rows = [
    {"intra": p[0], "inter": p[1], "rules": names[p]}
    | {"tune()": "chose" if p == chosen else ""}
    | timing(checked, i)
    for p, i in home.items()
]
note = "median ms, p99 ms, CPU/wall: geometric means over the rounds;\n"
note += "vs defaults: how many times faster than the defaults, paired by round (95 % interval)"
show(Table.of(rows, note=note))

# %%
# Each pool size asked one question: is it faster than the defaults?
# A size that is not faster is not worth setting, whether it is as fast or a little slower.

row_names = [f"{p[0]}/{p[1]} ({names[p]})" for p in home]
for index in range(1, len(distinct)):
    print(verdict(checked, index, 0, names=row_names, one_sided=True))

# %%
# Each bar is how many times faster than the defaults a setting ran, with the 95 % interval of that ratio over its comparison's paired rounds; a bar whose interval crosses 1 is a tie with the defaults.

import matplotlib.pyplot as plt


def gain(pools: tuple[int, int]):
    """Return the paired ratio of ``pools`` to the defaults (None: the defaults)."""
    index = home[pools]
    return checked.interval(index) if index else None


order = sorted(home, key=lambda p: gain(p).ratio if gain(p) else 1.0, reverse=True)
fig, ax = plt.subplots(figsize=(10, 0.6 * len(order) + 1.8), layout="constrained")
for y, p in enumerate(order):
    r = gain(p)
    mid, err = (
        (1.0, [[0.0], [0.0]]) if r is None else (r.ratio, [[r.ratio - r.low], [r.high - r.ratio]])
    )
    color = "tab:green" if p == chosen else "tab:blue"
    ax.barh(y, mid, xerr=err, color=color, capsize=4)
ax.axvline(1, color="k", linewidth=0.8)
ax.set_yticks(range(len(order)), [f"{p[0]}/{p[1]}: {names[p]}" for p in order])
ax.invert_yaxis()
ax.set_xlabel("times faster than the defaults (95 % CI); green: tune()'s choice")
fig.suptitle("small_cnn.keras: every setting against the defaults (intra/inter: rules)")
plt.show()
shutil.rmtree(folder)  # the saved model is not needed any more

# %%
# What this shows
# ---------------
# On a machine with few CPUs, most rules give the same or nearly the same setting, so they share rows and their differences can be within the noise; the verdict column says which.
# On a machine with many cores and several sockets, the rules part: Intel's rule and "inter = 2" give wide intra-op pools while the defaults count logical CPUs, and which is fastest depends on the model, which is why ``tune`` measures rather than picks.
