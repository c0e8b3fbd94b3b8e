"""
.. _gallery-tf1-sessions:

TF1 sessions: who owns the thread pools
=======================================

In ``tf.compat.v1`` code each ``Session`` takes a ``ConfigProto`` with pool sizes, which
suggests that every session gets the pools it asks for.
It does not: the first session sizes the process-wide pools, and later sessions get
pools of their own only through ``use_per_session_threads`` or
``session_inter_op_thread_pool``.
This example opens a series of sessions in one process and counts the threads each one
adds, finds out which thread runs a step for each ``RunOptions.inter_op_thread_pool``,
and checks what happens when two sessions share a ``global_name``.

.. seealso::
   The reference sections this example is evidence for:
   :ref:`setting-configproto-intra-op-parallelism-threads`,
   :ref:`setting-configproto-inter-op-parallelism-threads`,
   :ref:`setting-configproto-use-per-session-threads`,
   :ref:`setting-configproto-session-inter-op-thread-pool`,
   :ref:`setting-threadpooloptionproto-num-threads`,
   :ref:`setting-threadpooloptionproto-global-name`,
   :ref:`setting-runoptions-inter-op-thread-pool`.
"""

# %%
# The machine
# -----------

from tfthreads.provenance import describe_machine
from tfthreads.topology import topology

print(describe_machine(sep="\n"))
topo = topology()

# %%
# Sessions in one process
# -----------------------
# The snippet below runs in a fresh process. It builds one graph: a chain of two
# 768 x 768 matmuls, and a ``py_func`` that reports the name of the thread it runs on
# (``caller`` when that is the thread that called ``Session.run``).
# Then it opens sessions one after another. For each it runs the matmuls, records the
# threads that appeared while it was open, and which thread ran the ``py_func`` for
# each ``inter_op_thread_pool`` asked.
#
# The same snippet runs twice: once with a first session of intra=inter=1 and a second
# of 2, once the other way round, so it is the *first* session that wins, not the
# larger one.

import json

from tfthreads.isolation import run_snippet

SNIPPET = r"""
import json, threading
from pathlib import Path
import numpy as np
import tensorflow as tf
from tfthreads.inventory import classify, diff, inventory

tf.compat.v1.disable_eager_execution()
a = tf.random.uniform([768, 768])
work = tf.reduce_sum(tf.matmul(tf.matmul(a, a), a))
MAIN = threading.get_native_id()

def where():
    tid = threading.get_native_id()
    name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
    return np.array("caller" if tid == MAIN else name)

probe = tf.compat.v1.py_func(where, [], tf.string)
C = tf.compat.v1.ConfigProto

def pools(new):
    return {
        "intra": sum(n for name, n in new.items() if classify(name) == "unnamed"),
        "inter": {name: n for name, n in new.items() if classify(name) == "inter-op pool"},
    }

def session(label, config, run_pools=()):
    before = inventory()
    entry = {"label": label}
    with tf.compat.v1.Session(config=config) as s:
        s.run(work)
        entry["new"] = pools(diff(before, inventory()))
        entry["ran_on"] = {}
        for index in run_pools:
            options = tf.compat.v1.RunOptions(inter_op_thread_pool=index)
            try:
                entry["ran_on"][index] = s.run(probe, options=options).decode()
            except tf.errors.InvalidArgumentError as error:
                entry["ran_on"][index] = "InvalidArgumentError: " + error.message.splitlines()[-1]
    entry["after_close"] = pools(diff(before, inventory()))
    return entry

FIRST, SECOND, FULL = {first}, {second}, {full}
out = [
    session(f"1st: intra={FIRST}, inter={FIRST}",
            C(intra_op_parallelism_threads=FIRST, inter_op_parallelism_threads=FIRST)),
    session(f"2nd: intra={SECOND}, inter={SECOND}",
            C(intra_op_parallelism_threads=SECOND, inter_op_parallelism_threads=SECOND)),
]
if FULL:
    out += [
        session("use_per_session_threads, inter=3",
                C(use_per_session_threads=True, inter_op_parallelism_threads=3)),
        session("pools [2, 1 'shared']",
                C(session_inter_op_thread_pool=[
                    {"num_threads": 2}, {"num_threads": 1, "global_name": "shared"}]),
                run_pools=[0, 1, -1, 2]),
        session("pools [1 'shared'] again",
                C(session_inter_op_thread_pool=[{"num_threads": 1, "global_name": "shared"}]),
                run_pools=[0]),
        session("pools [3 'shared']",
                C(session_inter_op_thread_pool=[{"num_threads": 3, "global_name": "shared"}]),
                run_pools=[0]),
    ]
print(json.dumps(out))
"""


def run(first: int, second: int, full: bool) -> list[dict]:
    """Run the snippet in a fresh process and return its sessions."""
    code = SNIPPET.replace("{first}", str(first)).replace("{second}", str(second))
    result = run_snippet(code.replace("{full}", str(full)))
    if result.returncode != 0:
        raise RuntimeError(f"session snippet failed: {result.last_error_line}")
    return json.loads(result.stdout)


main = run(1, 2, full=True)
reverse = run(2, 1, full=False)


def inter(entry: dict, key: str = "new") -> str:
    """Inter-op threads by pool name, such as ``tf_Compute0 x2``."""
    found = entry[key]["inter"]
    return ", ".join(f"{name} x{n}" for name, n in found.items()) or "none"


header = f"{'session (in order)':<34}{'new intra':>10}  {'new inter-op threads'}"
print(header)
print("-" * len(header))
for title, entries in (("process 1", main), ("process 2", reverse)):
    print(title)
    for e in entries:
        print(f"  {e['label']:<32}{e['new']['intra']:>10}  {inter(e)}")
print()
per_session = main[2]
print(
    f"use_per_session_threads: {inter(per_session)} while open, "
    f"{inter(per_session, 'after_close')} left after close"
)
print()
print("Which thread ran the step, by session and RunOptions.inter_op_thread_pool:")
for e in main[3:]:
    for index, where in e["ran_on"].items():
        print(f"  {e['label']:<26}{index:>3} -> {where}")

# %%
# The threads each session added
# ------------------------------
# Bars show the threads that appeared while each session of the first process was
# open; the black ticks show the sizes its ``ConfigProto`` asked for.

import matplotlib.pyplot as plt
import numpy as np

asked = [(1, 1), (2, 2), (0, 3), (0, 3), (0, 1), (0, 3)]
labels = [e["label"] for e in main]
x = np.arange(len(main))
fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
ax.bar(x - 0.2, [e["new"]["intra"] for e in main], 0.4, label="intra-op threads added")
ax.bar(
    x + 0.2,
    [sum(e["new"]["inter"].values()) for e in main],
    0.4,
    label="inter-op threads added",
    color="tab:orange",
)
ax.scatter(x - 0.2, [a[0] for a in asked], marker="_", s=300, color="black", zorder=3)
ax.scatter(x + 0.2, [a[1] for a in asked], marker="_", s=300, color="black", zorder=3)
ax.scatter([], [], marker="_", s=150, color="black", label="asked for")
ax.set_xticks(x, labels, rotation=20, ha="right")
ax.set_ylabel("threads")
ax.yaxis.get_major_locator().set_params(integer=True)
ax.set_title("Threads added per session (process 1)")
ax.legend(loc="upper left", fontsize="small")

plt.show()

# %%
# What this shows
# ---------------
# The conclusions below are computed from the measurements above.
#
# * The first session's sizes are the process's sizes. A second session asking for
#   other sizes, larger or smaller, adds no threads and gets no error: its ops run on
#   the pools the first session created.
# * ``use_per_session_threads`` gives the session its own inter-op pool, which ends
#   with the session; the intra-op pool stays shared.
# * ``session_inter_op_thread_pool`` creates one pool per entry, named
#   ``tf_Compute0``, ``tf_Compute1``, ...; ``RunOptions.inter_op_thread_pool`` picks
#   one per ``Session.run``, ``-1`` runs the step on the calling thread, and an index
#   past the end is an ``InvalidArgumentError``.
# * A ``global_name`` pool is shared: a later session asking for the same name and size
#   creates no threads and runs on the existing pool.

first, second = main[0], main[1]
added_by_second = second["new"]["intra"] + sum(second["new"]["inter"].values())
print(
    "the 2nd session added no pool threads"
    if added_by_second == 0
    else f"the 2nd session added {added_by_second} threads"
)
added_by_first = reverse[0]["new"]["intra"] + sum(reverse[0]["new"]["inter"].values())
added_later = reverse[1]["new"]["intra"] + sum(reverse[1]["new"]["inter"].values())
print(
    f"with the larger session first, it added {added_by_first} threads and the smaller "
    f"one after it {added_later}"
)
mismatch = main[5]
print("reusing 'shared' with num_threads=3 (first created with 1):")
print(
    f"  {sum(mismatch['new']['inter'].values())} new threads, no error, "
    f"step ran on: {mismatch['ran_on']['0']}"
)

# %%
# Reusing a ``global_name`` with another size
# -------------------------------------------
# ``config.proto`` says that asking for an existing ``global_name`` with a different
# ``num_threads`` is an error, and TensorFlow's ``DirectSession`` does build that error
# (``Pool shared configured previously with num_threads=1; cannot re-configure with
# num_threads=3``).
# When this example was written, with TensorFlow 2.21, a Python session did something
# else: nothing was raised, no threads were created, and the step ran on the thread
# that called ``Session.run``, as it would with ``inter_op_thread_pool=-1``. The lines
# printed above say what happens on the version this page was built with.
# In the ``DirectSession`` source the error is stored when the session is constructed
# and checked by ``Session::Create``; a Python session receives its graph through
# ``Session::Extend``, which does not check it, and a step whose pool is missing runs
# on the caller's thread. So a mistyped size is not reported: the session silently
# loses its inter-op parallelism.
