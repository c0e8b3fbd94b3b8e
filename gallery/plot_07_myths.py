"""
.. _gallery-myths:

Myths about TensorFlow's CPU threads, measured
==============================================

Snippets copied between projects carry settings that do not do what their comments say.
This example measures five of them on this machine, in fresh processes:

1. ``device_count={"CPU": n}`` limits TensorFlow to ``n`` cores.
2. ``allow_soft_placement=True`` lets TensorFlow allocate GPU memory as it goes.
3. ``OMP_NUM_THREADS`` and the Intel ``KMP_*`` variables size TensorFlow's pools.
4. oneDNN (``TF_ENABLE_ONEDNN_OPTS``) is always faster, or always slower.
5. Seeing more threads than configured (``top -H``, ``ps -T``) means the setting was ignored.

.. seealso:: :ref:`setting-configproto-device-count`, :ref:`setting-configproto-allow-soft-placement`, :ref:`setting-omp-num-threads`, :ref:`setting-kmp-blocktime`, :ref:`setting-kmp-affinity`, :ref:`setting-tf-enable-onednn-opts`, :ref:`setting-configproto-intra-op-parallelism-threads`.
"""

from _helpers import Table, claim, machine, pair, pools, ratio, show, typical, verdict

show(machine())

# %%
# Myths 1 and 2: ``device_count`` and ``allow_soft_placement``
# ------------------------------------------------------------
# One TF1 process: its first session sets ``device_count={"CPU": 1}`` and nothing else, and ``first_sessions`` counts the pool threads that session creates.
# Then it pins a matmul to ``/device:GPU:0`` (this machine has no GPU), runs it in a session without soft placement and in one with it, and asks TensorFlow where the matmul ran.

from tfthreads.process import run_function
from tfthreads.topology import topology


def first_sessions() -> dict:
    """Open a ``device_count={"CPU": 1}`` session, then run a GPU-pinned op two ways."""
    import tensorflow as tf

    from tfthreads.inventory import inventory, pool_counts

    tf.compat.v1.disable_eager_execution()
    config = tf.compat.v1.ConfigProto
    a = tf.random.uniform([512, 512])
    out = {}
    before = inventory()
    with tf.compat.v1.Session(config=config(device_count={"CPU": 1})) as session:
        session.run(tf.matmul(a, a))
        out["devices"] = sum(d.device_type == "CPU" for d in session.list_devices())
    out["pools"] = pool_counts(before)

    with tf.device("/device:GPU:0"):
        pinned = tf.matmul(a, a, name="pinned_matmul")
    try:
        with tf.compat.v1.Session(config=config(allow_soft_placement=False)) as session:
            session.run(pinned)
        out["hard"] = "ran"
    except tf.errors.InvalidArgumentError as error:
        lines = [line for line in error.message.splitlines() if line.startswith("Cannot assign")]
        out["hard"] = "InvalidArgumentError: " + (lines or error.message.splitlines())[-1]
    with tf.compat.v1.Session(config=config(allow_soft_placement=True)) as session:
        metadata = tf.compat.v1.RunMetadata()
        options = tf.compat.v1.RunOptions(output_partition_graphs=True)
        session.run(pinned, options=options, run_metadata=metadata)
        graphs = metadata.partition_graphs
        out["soft"] = [n.device for g in graphs for n in g.node if n.name == "pinned_matmul"]
    return out


cpus = topology().affinity_cpus
sessions = run_function(first_sessions)
first_pools = (sessions["pools"]["intra_op"], sessions["pools"]["inter_op"])
facts = {
    "device_count={CPU: 1}: CPU devices": sessions["devices"],
    "device_count={CPU: 1}: pool threads": pair(*first_pools),
    "GPU-pinned matmul, allow_soft_placement=False": sessions["hard"],
    "GPU-pinned matmul, allow_soft_placement=True, ran on": ", ".join(sessions["soft"]),
}
note = f"(pool threads: intra-op / inter-op; TensorFlow's default here is {cpus} per pool)"
show(Table(["", "in the first sessions"], facts.items(), note=note))

# %%
# Myths 3, 4 and 5: OpenMP variables, oneDNN, and thread listings
# ---------------------------------------------------------------
# Three environments time the same two built-in workloads, a 1024 x 1024 matmul and a 3x3 Conv2D layer on 8 64x64 images of 64 channels, with TensorFlow's default pool sizes: oneDNN on, oneDNN off, and oneDNN on plus ``OMP_NUM_THREADS=1`` and the ``KMP_*`` values of Intel's tuning guides.
# An environment is fixed when a process starts, so each is measured in processes of its own, in rounds: in each round one process per environment starts, and the three take turns running chunks of their timed loops, in an order reversed every other turn and every other round (:func:`tfthreads.measure.measure_many_in_turns`); the ratios are paired by round (:class:`tfthreads.compare.Comparison`).
# TensorFlow reads these variables when it is imported, so each environment has an import of its own, made once, and every round forks one process from each (:func:`tfthreads.measure.importing_once`); each process times 12 steps of each workload in turns of 2 steps, for 6 to 12 rounds, until every ratio is known within ±4 % or 14 seconds are spent.
# Each process also reports the pools its runtime created, the threads listed in it after the timed loop, and the threads that used CPU during it.

import contextlib
import time

from tfthreads.compare import Comparison
from tfthreads.measure import importing_once, measure_many_in_turns
from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload

OMP = {"OMP_NUM_THREADS": "1", "KMP_BLOCKTIME": "0", "KMP_AFFINITY": "granularity=fine,compact,1,0"}
variants = {
    "oneDNN on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "oneDNN on + OMP/KMP vars": {"TF_ENABLE_ONEDNN_OPTS": "1", **OMP},
}
labels = list(variants)
specs = [parse_workload("matmul", n=1024), parse_workload("conv2d", batch=8, size=64, channels=64)]
by_workload = [
    Comparison(spec, "latency", (ThreadSettings(),) * len(variants), stopped="rounds")
    for spec in specs
]
options = MeasureOptions(repeats=12)
started = time.monotonic()


def enough(done: int) -> bool:
    """12 rounds, or 6 once every ratio is within ±4 % or 14 seconds are spent."""
    precise = all(c.precise(0.04) for c in by_workload)
    return done >= 12 or (done >= 6 and (precise or time.monotonic() - started > 14))


with contextlib.ExitStack() as imports:
    for environment in variants.values():  # one TensorFlow import per environment
        imports.enter_context(importing_once(options.replace(env=environment)))
    while not enough(len(by_workload[0].rounds)):
        order = labels if len(by_workload[0].rounds) % 2 == 0 else labels[::-1]
        measured = measure_many_in_turns(
            specs,
            [ThreadSettings()] * len(order),
            options=options,
            chunks=6,
            environments=[variants[label] for label in order],
        )
        taken = dict(zip(order, measured, strict=True))
        for w, comparison in enumerate(by_workload):
            comparison.rounds.append([taken[label][w] for label in labels])  # type: ignore[index]

rows = [
    {"environment": label, "workload": c.workload.name}
    | {"median ms": typical(c, i, lambda m: m.wall.median * 1e3)}
    | {"vs oneDNN on [95 % CI]": None if i == 0 else ratio(c.interval(i, 0))}
    | {"verdict": "baseline" if i == 0 else c.verdict(i, 0, settled=True)}
    | {"pools": pools(c.measured(i)[0]), "listed": c.measured(i)[0].row()["threads_total"]}
    | {"active": c.measured(i)[0].row()["threads_active"]}
    for c in by_workload
    for i, label in enumerate(labels)
]
note = f"median ms: geometric mean over {len(by_workload[0].rounds)} rounds;\n"
note += "vs oneDNN on: how many times faster,\n"
note += "paired by round (95 % interval); pools: intra-op / inter-op threads created;\n"
note += "listed: threads in the process; active: threads that used CPU during the timed loop\n"
note += "(pools, listed, active: the first round's process)"
show(Table.of(rows, note=note))

# %%
# Left: each workload's median time in each environment, one dot per round.
# Right: threads in the process against threads that used CPU, next to the pool threads that the settings account for (the matmul, first round).

import matplotlib.pyplot as plt
import numpy as np

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
width = 0.8 / len(labels)
for i, label in enumerate(labels):
    for w, c in enumerate(by_workload):
        medians = [m.wall.median * 1e3 for m in c.measured(i)]
        position = w + (i - (len(labels) - 1) / 2) * width
        ax.scatter(
            [position] * len(medians), medians, color=f"C{i}", label=label if w == 0 else None
        )
ax.set_xticks(np.arange(2), [c.workload.name for c in by_workload])
ax.set(ylabel="median ms per step", title="Time per step, each round", ylim=(0, None))
ax.legend(fontsize="small")

matmul_rows = [by_workload[0].measured(i)[0].row() for i in range(len(labels))]
for offset, name, count in (
    (-0.27, "listed", lambda r: r["threads_total"]),
    (0, "pool threads", lambda r: r["observed_intra_op"] + r["observed_inter_op"]),
    (0.27, "used CPU (matmul loop)", lambda r: r["threads_active"]),
):
    ax2.bar(np.arange(3) + offset, [count(r) for r in matmul_rows], 0.27, label=name)
ax2.set_xticks(np.arange(3), labels, rotation=15, ha="right")
ax2.set(ylabel="threads", title="Threads listed vs threads working")
ax2.yaxis.get_major_locator().set_params(integer=True)
ax2.legend(fontsize="small")
plt.show()

# %%
# What this shows
# ---------------
# The verdicts below are computed from the measurements above, so they describe this machine on this build; the statements about what a setting does are checked against the same processes.
#
# * ``device_count`` sets how many logical CPU *devices* exist for placing ops by hand; it does not size a pool.
#   Size the pools with ``intra_op_parallelism_threads`` / ``inter_op_parallelism_threads``.
# * ``allow_soft_placement`` is device fallback: an op pinned to a device that does not exist (or has no kernel for it) runs elsewhere instead of failing.
#   It has nothing to do with GPU memory; that is ``gpu_options.allow_growth`` (TF1) or ``tf.config.experimental.set_memory_growth`` (TF2).
# * The stock ``pip`` wheel runs oneDNN on TensorFlow's own intra-op pool, not on OpenMP threads, so ``OMP_NUM_THREADS`` and ``KMP_*`` are expected to change neither the pools nor the time (row 3 below says whether the time moved beyond the noise).
#   They matter for builds linked against Intel OpenMP.
# * Whether oneDNN helps depends on the op, the shapes and the CPU; row 4 asks, for each workload, only whether it was faster with oneDNN here; measure your model both ways rather than trusting a rule.
# * A process lists more threads than its pools hold; row 5 says how many of them did any work.
#   Count threads that use CPU, or CPU-seconds, not thread names.

claim("device_count does not size a pool", first_pools == (cpus, cpus))
fails = sessions["hard"].startswith("InvalidArgumentError")
soft = fails and all("CPU" in device for device in sessions["soft"])
claim("an op pinned to a missing device runs elsewhere with allow_soft_placement", soft)
first = by_workload[0].measured(0)[0].row()
listed, active = first["threads_total"], first["threads_active"]
pool_threads = first["observed_intra_op"] + first["observed_inter_op"]
claim("a process lists more threads than its pools hold", listed > pool_threads)


def versus(candidate: int, baseline: int, *, one_sided: bool = False) -> str:
    """Compare each workload's median time under two environments, from the paired rounds."""
    return " ".join(
        verdict(
            c,
            candidate,
            baseline,
            names=labels,
            quantity=f"the {c.workload.name} step time",
            one_sided=one_sided,
        )
        for c in by_workload
    )


pools_on = [c.measured(0)[0].observed_pools for c in by_workload]
pools_omp = [c.measured(2)[0].observed_pools for c in by_workload]
same = "unchanged" if pools_on == pools_omp else "CHANGED"
verdicts = {
    "1. device_count": f"pools {pair(*first_pools)}, default {cpus} per pool: it bounds no thread",
    "2. allow_soft_placement": "the pinned op fails without it, runs on the CPU with it",
    "3. OMP/KMP variables": f"pools {same}. {versus(2, 0)}",
    "4. oneDNN on": versus(0, 1, one_sided=True),
    "5. thread listings": f"{listed} listed, {pool_threads} pool threads, {active} used CPU in the matmul loop",
}
show(Table(["myth", "measured here"], verdicts.items()))
