"""
.. _gallery-too-late:

When is it too late to set the thread pools?
============================================

``tf.config.threading.set_intra_op_parallelism_threads`` and ``set_inter_op_parallelism_threads`` only work before TensorFlow's runtime starts.
Which calls start it is not obvious: some innocent-looking calls do, others do not.
This example starts one process per *first call* (each forked from one process that imported TensorFlow, before any runtime started: :func:`tfthreads.process.run_functions`), makes that call, then tries to set both pools to 1 thread, reads the settings back and counts the pool threads that the runtime really created.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

from _helpers import Table, claim, machine, pair, show

show(machine())

# %%
# One process per first call
# --------------------------
# ``set_pools_after`` imports TensorFlow, makes the call, calls both setters with ``1``, reads the values back with ``get_*``, runs a matmul and counts the pool threads that appeared since the import (:func:`tfthreads.inventory.pool_counts`).
# The row ``import only`` makes no call at all: it is the control.
# Processes run two at a time (they only count threads; nothing is timed).

from tfthreads.process import run_functions
from tfthreads.topology import topology


def set_pools_after(first_call: str) -> dict:
    """Make ``first_call``, then try to set both pools to 1; say what happened."""
    import tensorflow as tf

    from tfthreads.inventory import inventory, pool_counts

    before = inventory()
    {
        "import only (control)": lambda: None,
        "tf.constant(1.0)": lambda: tf.constant(1.0),
        "list_physical_devices()": tf.config.list_physical_devices,
        "list_logical_devices()": tf.config.list_logical_devices,
        "Keras model built": lambda: tf.keras.Sequential(
            [tf.keras.Input((4,)), tf.keras.layers.Dense(2)]
        ),
        "tf.data dataset created": lambda: tf.data.Dataset.range(8).map(lambda x: x * 2),
        "tf.function traced": lambda: tf.function(lambda x: x * 2).get_concrete_function(
            tf.TensorSpec([None])
        ),
    }[first_call]()
    errors = []
    for setter in ("set_intra_op_parallelism_threads", "set_inter_op_parallelism_threads"):
        try:
            getattr(tf.config.threading, setter)(1)
        except RuntimeError as error:
            errors.append(f"{type(error).__name__}: {error}")
    got = [
        getattr(tf.config.threading, f"get_{p}_op_parallelism_threads")()
        for p in ("intra", "inter")
    ]
    tf.reduce_sum(tf.matmul(tf.ones([256, 256]), tf.ones([256, 256]))).numpy()
    counts = pool_counts(before)
    return {"errors": errors, "get": got, "threads": [counts["intra_op"], counts["inter_op"]]}


FIRST_CALLS = [
    "import only (control)",
    "tf.constant(1.0)",
    "list_physical_devices()",
    "list_logical_devices()",
    "Keras model built",
    "tf.data dataset created",
    "tf.function traced",
]
cpus = topology().affinity_cpus
runs = run_functions(set_pools_after, [{"first_call": call} for call in FIRST_CALLS])
cells = dict(zip(FIRST_CALLS, runs, strict=True))
for c in cells.values():
    c["verdict"] = "raises" if c["errors"] else "works" if c["threads"] == [1, 1] else "ignored"
    setters = "RuntimeError" if c["errors"] else "ok"
    c["row"] = [setters, pair(*c["get"]), pair(*c["threads"]), c["verdict"]]

messages = sorted({message for c in cells.values() for message in c["errors"]})
print("The exact errors raised:" if messages else "No setter raised an error.", *messages, sep="\n")
columns = ["set_intra / set_inter", "get_* after", "pool threads", "verdict"]
note = "(intra-op / inter-op; the setters asked for 1 / 1)"
show(Table(["first call", *columns], [[call, *c["row"]] for call, c in cells.items()], note=note))

# %%
# The same table as a picture.
# Green: the setters worked and the pools have the size asked for.
# Red: the setters raised ``RuntimeError``.
# Orange (if any): the setters returned without error, but the runtime did not use the values.

import matplotlib.pyplot as plt

colors = {"works": "#b7e1a1", "raises": "#f4a6a6", "ignored": "#f8d49a"}
fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(cells) + 1.2), layout="constrained")
ax.axis("off")
table = ax.table(
    cellText=[c["row"] for c in cells.values()],
    rowLabels=list(cells),
    colLabels=columns,
    cellColours=[[colors[c["verdict"]]] * len(columns) for c in cells.values()],
    loc="center",
    cellLoc="center",
)
table.scale(1, 1.5)
ax.set_title("Setting the pools to 1 / 1 after a first call, one process per row")
plt.show()

# %%
# What this shows
# ---------------
# A call that only *lists* or *builds* something can still start the runtime: the runtime starts when TensorFlow creates its eager context, and every call that needs a device does that.
# Once it has started, the setters raise rather than silently keeping the old values, and the pools keep their default size, one thread per CPU in the affinity mask (both checked below against this build's processes).
# The fix is ordering: call the setters right after ``import tensorflow``, before anything else, or set ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` in the environment.
# On a machine with more CPUs the late rows get larger pools; which calls are too late does not depend on the machine, only on the TensorFlow version.

for kind in ("works", "raises", "ignored"):
    print(f"{kind:>7}:", ", ".join(k for k, c in cells.items() if c["verdict"] == kind) or "(none)")
late = [c for c in cells.values() if c["verdict"] != "works"]
claim(
    "once the runtime has started, the setters raise", all(c["verdict"] == "raises" for c in late)
)
claim(
    "once the runtime has started, the pools keep their default size",
    all(c["threads"] == [cpus, cpus] for c in late),
)
claim(
    "the control (import only) can still set the pools", cells[FIRST_CALLS[0]]["verdict"] == "works"
)
if late:
    print(f"every late call left both pools at the default size, {cpus} threads each")
