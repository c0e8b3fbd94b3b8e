"""
.. _gallery-tf1-sessions:

TF1 sessions: who owns the thread pools
=======================================

In ``tf.compat.v1`` code each ``Session`` takes a ``ConfigProto`` with pool sizes, which suggests that every session gets the pools it asks for.
It does not: the first session sizes the process-wide pools, and later sessions get pools of their own only through ``use_per_session_threads`` or ``session_inter_op_thread_pool``.
This example opens a series of sessions in one process and counts the threads each one adds, finds out which thread runs a step for each ``RunOptions.inter_op_thread_pool``, and checks what happens when two sessions share a ``global_name``.

.. seealso:: :ref:`setting-configproto-intra-op-parallelism-threads`, :ref:`setting-configproto-inter-op-parallelism-threads`, :ref:`setting-configproto-use-per-session-threads`, :ref:`setting-configproto-session-inter-op-thread-pool`, :ref:`setting-threadpooloptionproto-num-threads`, :ref:`setting-threadpooloptionproto-global-name`, :ref:`setting-runoptions-inter-op-thread-pool`.
"""

from _helpers import Table, claim, machine, observe_all, pool_bars, show

show(machine())

# %%
# Sessions in one process
# -----------------------
# ``open_sessions`` builds one graph: a chain of two 768 x 768 matmuls, and a ``py_func`` that reports the name of the thread it runs on (``caller`` when that is the thread that called ``Session.run``).
# Then it opens sessions one after another.
# For each it runs the matmuls, records the pool threads that appeared while it was open, and which thread ran the ``py_func`` for each ``inter_op_thread_pool`` asked.
# It runs twice: once with a first session of intra=inter=1 and a second of 2, once the other way round, so it is the *first* session that wins, not the larger one.
# Processes run two at a time (they only count threads; nothing is timed).

from tfthreads.process import run_function


def open_sessions(first: int, second: int, full: bool) -> list[dict]:
    """Open TF1 sessions in order; report the threads each added and where steps ran."""
    import threading
    from pathlib import Path

    import numpy as np
    import tensorflow as tf

    from tfthreads.inventory import classify, diff, inventory, pool_counts

    tf.compat.v1.disable_eager_execution()
    a = tf.random.uniform([768, 768])
    work = tf.reduce_sum(tf.matmul(tf.matmul(a, a), a))
    caller = threading.get_native_id()

    def where():
        tid = threading.get_native_id()
        name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        return np.array("caller" if tid == caller else name)

    probe = tf.compat.v1.py_func(where, [], tf.string)

    def pools(before):
        new = diff(before, inventory())
        inter = {name: n for name, n in new.items() if classify(name) == "inter-op pool"}
        return {"intra": pool_counts(before)["intra_op"], "inter": inter}

    def session(label, config, run_pools=()):
        before = inventory()
        entry = {"label": label, "ran_on": {}}
        with tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(**config)) as s:
            s.run(work)
            entry["new"] = pools(before)
            for index in run_pools:
                options = tf.compat.v1.RunOptions(inter_op_thread_pool=index)
                try:
                    entry["ran_on"][index] = s.run(probe, options=options).decode()
                except tf.errors.InvalidArgumentError as error:
                    message = error.message.splitlines()[-1]
                    entry["ran_on"][index] = f"InvalidArgumentError: {message}"
        entry["after_close"] = pools(before)
        return entry

    def sized(n):
        return {"intra_op_parallelism_threads": n, "inter_op_parallelism_threads": n}

    def listed(*pools):
        return {"session_inter_op_thread_pool": list(pools)}

    out = [
        session(f"1st: intra={first}, inter={first}", sized(first)),
        session(f"2nd: intra={second}, inter={second}", sized(second)),
    ]
    if full:
        shared = {"num_threads": 1, "global_name": "shared"}
        per_session = {"use_per_session_threads": True, "inter_op_parallelism_threads": 3}
        out += [
            session("use_per_session_threads, inter=3", per_session),
            session("pools [2, 1 'shared']", listed({"num_threads": 2}, shared), [0, 1, -1, 2]),
            session("pools [1 'shared'] again", listed(shared), [0]),
            session("pools [3 'shared']", listed(shared | {"num_threads": 3}), [0]),
        ]
    return out


main, reverse = observe_all(
    lambda arguments: run_function(open_sessions, arguments),
    [{"first": 1, "second": 2, "full": True}, {"first": 2, "second": 1, "full": False}],
)


def inter(entry: dict, key: str = "new") -> str:
    """Inter-op threads by pool name, such as ``tf_Compute0 x2``."""
    return ", ".join(f"{name} x{n}" for name, n in entry[key]["inter"].items()) or "none"


rows = [
    {"process": n, "session (in order)": e["label"], "new intra": e["new"]["intra"]}
    | {"new inter-op threads": inter(e), "left after close": inter(e, "after_close")}
    for n, entries in ((1, main), (2, reverse))
    for e in entries
]
show(Table.of(rows))

# %%
# Which thread ran the step, by session and ``RunOptions.inter_op_thread_pool`` (``-1`` asks for the calling thread; *caller* is the thread that called ``Session.run``):

ran_on = [(e["label"], i, on) for e in main for i, on in e["ran_on"].items()]
show(Table(["session", "inter_op_thread_pool", "step ran on"], ran_on))

# %%
# Bars show the threads that appeared while each session of the first process was open; the black ticks show the sizes its ``ConfigProto`` asked for.

import matplotlib.pyplot as plt

asked = [(1, 1), (2, 2), (0, 3), (0, 3), (0, 1), (0, 3)]
new = [(e["new"]["intra"], sum(e["new"]["inter"].values())) for e in main]
fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
labels = [e["label"] for e in main]
pool_bars(ax, labels, new, asked, bar_label="{} threads added", tick_label="asked for")
ax.set_title("Threads added per session (process 1)")
plt.show()

# %%
# What this shows
# ---------------
# * The first session's sizes are the process's sizes.
#   A second session asking for other sizes, larger or smaller, adds no threads and gets no error: its ops run on the pools the first session created.
# * ``use_per_session_threads`` gives the session its own inter-op pool, which ends with the session; the intra-op pool stays shared.
# * ``session_inter_op_thread_pool`` creates one pool per entry, named ``tf_Compute0``, ``tf_Compute1``, ...; ``RunOptions.inter_op_thread_pool`` picks one per ``Session.run``, ``-1`` runs the step on the calling thread, and an index past the end is an ``InvalidArgumentError``.
# * A ``global_name`` pool is shared: a later session asking for the same name and size creates no threads and runs on the existing pool.


def added(entry: dict) -> int:
    """Pool threads, of both pools, that appeared while the session was open."""
    return entry["new"]["intra"] + sum(entry["new"]["inter"].values())


# Each bullet above, checked against this build's two processes.
claim(
    "the first session's sizes are the process's sizes",
    (added(main[0]), added(reverse[0])) == (2, 4),
)
claim(
    "a second session asking for other sizes adds no threads",
    added(main[1]) == added(reverse[1]) == 0,
)
claim(
    "use_per_session_threads gives the session its own inter-op pool, which ends with the session",
    (sum(main[2]["new"]["inter"].values()), inter(main[2], "after_close")) == (3, "none"),
)
claim(
    "session_inter_op_thread_pool creates one pool per entry, named tf_Compute0, tf_Compute1",
    set(main[3]["new"]["inter"]) == {"tf_Compute0", "tf_Compute1"},
)
pools_ran = main[3]["ran_on"]
claim(
    "RunOptions.inter_op_thread_pool picks one pool per Session.run",
    (pools_ran["0"], pools_ran["1"]) == ("tf_Compute0", "tf_Compute1"),
)
claim("-1 runs the step on the calling thread", pools_ran["-1"] == "caller")
claim(
    "an index past the end is an InvalidArgumentError",
    pools_ran["2"].startswith("InvalidArgumentError"),
)
claim(
    "a later session asking for the same global_name and size creates no threads and runs on the existing pool",
    added(main[4]) == 0 and main[4]["ran_on"]["0"] == pools_ran["1"],
)
print(f"the 2nd session added {added(main[1])} pool threads")
print(f"with the larger session first: {added(reverse[0])} added, then {added(reverse[1])}")
new_inter, ran_on = sum(main[5]["new"]["inter"].values()), main[5]["ran_on"]["0"]
print(f"'shared' again with num_threads=3: {new_inter} new threads, no error, ran on {ran_on}")

# %%
# Reusing a ``global_name`` with another size
# -------------------------------------------
# ``config.proto`` says that asking for an existing ``global_name`` with a different ``num_threads`` is an error, and TensorFlow's ``DirectSession`` does build that error (``Pool shared configured previously with num_threads=1; cannot re-configure with num_threads=3``).
# When this example was written, with TensorFlow 2.21, a Python session did something else: nothing was raised, no threads were created, and the step ran on the thread that called ``Session.run``, as it would with ``inter_op_thread_pool=-1``.
# The lines printed above say what happens on the version this page was built with.
# In the ``DirectSession`` source the error is stored when the session is constructed and checked by ``Session::Create``; a Python session receives its graph through ``Session::Extend``, which does not check it, and a step whose pool is missing runs on the caller's thread.
# So a mistyped size is not reported: the session silently loses its inter-op parallelism.
