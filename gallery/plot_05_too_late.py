"""
.. _gallery-too-late:

When is it too late to set the thread pools?
============================================

``tf.config.threading.set_intra_op_parallelism_threads`` and
``set_inter_op_parallelism_threads`` only work before TensorFlow's runtime starts.
Which calls start it is not obvious: some innocent-looking calls do, others do not.
This example starts one fresh process per *first call*, makes that call, then tries to
set both pools to 1 thread, reads the settings back and counts the pool threads that the
runtime really created.

.. seealso::
   The reference sections this example is evidence for:
   :ref:`setting-configproto-intra-op-parallelism-threads`,
   :ref:`setting-configproto-inter-op-parallelism-threads`.
"""

# %%
# The machine
# -----------
# The default pool size is the number of CPUs in the affinity mask, so a call that
# comes too late leaves that many threads in each pool.

from tfthreads.provenance import describe_machine
from tfthreads.topology import topology

print(describe_machine(sep="\n"))
topo = topology()

# %%
# One process per first call
# --------------------------
# Every process runs the same snippet: import TensorFlow, make one *first call*, then
# call both setters with ``1``, read the values back with ``get_*``, run a matmul and
# count the threads that appeared since the import (``tf_Compute`` threads are the
# inter-op pool; the unnamed ones are the intra-op pool).
# The row ``import only`` makes no call at all: it is the control.
# Processes run two at a time (they only count threads, nothing is timed).

import json
from concurrent.futures import ThreadPoolExecutor

from tfthreads.isolation import run_snippet

SNIPPET = """
import json
import tensorflow as tf
from tfthreads.inventory import classify, diff, inventory
before = inventory()
{call}
result = {{}}
for pool in ("intra", "inter"):
    setter = getattr(tf.config.threading, f"set_{{pool}}_op_parallelism_threads")
    try:
        setter(1)
        result[pool] = "accepted"
    except RuntimeError as error:
        result[pool] = f"{{type(error).__name__}}: {{error}}"
result["get"] = [
    tf.config.threading.get_intra_op_parallelism_threads(),
    tf.config.threading.get_inter_op_parallelism_threads(),
]
tf.reduce_sum(tf.matmul(tf.ones([256, 256]), tf.ones([256, 256]))).numpy()
new = diff(before, inventory())
result["threads"] = [
    sum(n for name, n in new.items() if classify(name) == "unnamed"),
    sum(n for name, n in new.items() if classify(name) == "inter-op pool"),
]
print(json.dumps(result))
"""

FIRST_CALLS = {
    "import only (control)": "pass",
    "tf.constant(1.0)": "tf.constant(1.0)",
    "list_physical_devices()": "tf.config.list_physical_devices()",
    "list_logical_devices()": "tf.config.list_logical_devices()",
    "Keras model built": ("tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])"),
    "tf.data dataset created": "tf.data.Dataset.range(8).map(lambda x: x * 2)",
    "tf.function traced": (
        "tf.function(lambda x: x * 2).get_concrete_function(tf.TensorSpec([None]))"
    ),
}


def run_cell(call: str) -> dict:
    """Run the snippet with one first call in a fresh process; return its JSON."""
    result = run_snippet(SNIPPET.format(call=call))
    if result.returncode != 0:
        raise RuntimeError(f"snippet for {call!r} failed: {result.last_error_line}")
    return json.loads(result.stdout)


with ThreadPoolExecutor(max_workers=min(2, max(1, topo.affinity_cpus))) as pool:
    cells = dict(zip(FIRST_CALLS, pool.map(run_cell, FIRST_CALLS.values()), strict=True))


def verdict(cell: dict) -> str:
    """Works, raises or ignored: from what the setters did and what the runtime made."""
    if any(cell[pool] != "accepted" for pool in ("intra", "inter")):
        return "raises"
    return "works" if cell["threads"] == [1, 1] else "ignored"


for cell in cells.values():
    cell["verdict"] = verdict(cell)

header = f"{'first call':<26}{'set_*(1)':>10}{'get_* after':>14}{'pool threads':>15}{'verdict':>10}"
print(header)
print("-" * len(header))
for label, cell in cells.items():
    setters = "ok" if cell["verdict"] != "raises" else "error"
    got = "{} / {}".format(*cell["get"])
    threads = "{} / {}".format(*cell["threads"])
    print(f"{label:<26}{setters:>10}{got:>14}{threads:>15}{cell['verdict']:>10}")
print("(intra-op / inter-op; the setters asked for 1 / 1)")

messages = sorted({cell[p] for cell in cells.values() for p in ("intra", "inter")} - {"accepted"})
print()
print("The exact errors raised:" if messages else "No setter raised an error.")
for message in messages:
    print("  " + message)

# %%
# The table as a picture
# ----------------------
# Green: the setters worked and the pools have the size asked for.
# Red: the setters raised ``RuntimeError``. Orange (if any): the setters returned
# without error, but the runtime did not use the values.

import matplotlib.pyplot as plt

colors = {"works": "#b7e1a1", "raises": "#f4a6a6", "ignored": "#f8d49a"}
columns = ["set_intra / set_inter", "get_* after", "pool threads", "verdict"]
text = [
    [
        "ok" if c["verdict"] != "raises" else "RuntimeError",
        "{} / {}".format(*c["get"]),
        "{} / {}".format(*c["threads"]),
        c["verdict"],
    ]
    for c in cells.values()
]
fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(cells) + 1.2), layout="constrained")
ax.axis("off")
table = ax.table(
    cellText=text,
    rowLabels=list(cells),
    colLabels=columns,
    cellColours=[[colors[c["verdict"]]] * len(columns) for c in cells.values()],
    loc="center",
    cellLoc="center",
)
table.scale(1, 1.5)
ax.set_title("Setting the pools to 1 / 1 after a first call, one fresh process per row")
plt.show()

# %%
# What this shows
# ---------------
# The lines printed below are computed from the table above.
# A call that only *lists* or *builds* something can still start the runtime: the
# runtime starts when TensorFlow creates its eager context, and every call that needs
# a device does that.
# Once it has started, the setters raise rather than silently keeping the old values,
# and the pools keep their default size, one thread per CPU in the affinity mask.
# The fix is ordering: call the setters right after ``import tensorflow``, before
# anything else, or set ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` in the
# environment.
# On a machine with more CPUs the late rows get larger pools; which calls are too late
# does not depend on the machine, only on the TensorFlow version.

import textwrap

for kind in ("works", "raises", "ignored"):
    labels = [label for label, cell in cells.items() if cell["verdict"] == kind]
    line = f"{kind:>8}: " + (", ".join(labels) if labels else "(none)")
    print(textwrap.fill(line, width=88, subsequent_indent=" " * 10))
late = [cell for cell in cells.values() if cell["verdict"] != "works"]
default = topo.affinity_cpus
if late and all(cell["threads"] == [default, default] for cell in late):
    print(f"every late call left both pools at the default size, {default} threads each")
