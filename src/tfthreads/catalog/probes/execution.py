"""The execution probe: which threads run eager ops and which run a ``tf.function``'s.

The same small independent ops (:func:`tfthreads.pool_identity.independent_ops`, each
too small to split over the intra-op pool) run two ways in one forked copy: one by one
from a Python loop in eager mode, and as one graph through ``tf.function``. Which
threads ran them is read from the share of the process's CPU time that the inter-op
pool's threads, and all the threads the runtime started, gained meanwhile
(:func:`~tfthreads.catalog.probes._common.pool_share`, decided with a margin by
:func:`~tfthreads.catalog.probes._common.decide`). oneDNN is off (:data:`ENV`), as in
the sessions probe, so the intra-op phase that tells the pools apart on releases that
name no thread splits a matmul as TensorFlow's own kernels do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfthreads.catalog.probes._common import cpu_count, decide, import_tensorflow, pool_share
from tfthreads.inventory import inventory
from tfthreads.pool_identity import identify_pools, independent_ops
from tfthreads.process import run_forked

__all__ = ["ENV", "probe"]

#: With oneDNN off, as in the sessions probe.
ENV: dict[str, str | None] = {"TF_ENABLE_ONEDNN_OPTS": "0"}


def probe() -> dict[str, Any]:
    """Observe that eager ops run on the calling thread and a ``tf.function``'s on the inter-op pool.

    Each decision comes with the mean of the shares it was made from (``..._share``):
    the share of the process's CPU time that those threads took while the ops ran.
    """
    tf, _ = import_tensorflow()

    def eager_and_function() -> dict[str, Any]:
        before = inventory()
        float(tf.reduce_sum(tf.ones((4, 4))))  # starts the runtime: its pools exist
        pools = identify_pools(before)
        if pools.undecided:
            return {**dict.fromkeys(_KEYS, pools.undecided), **{f"{k}_share": 0.0 for k in _KEYS}}
        inter = set(pools.inter_op)
        started = inter | pools.intra_op | pools.other
        vector = tf.random.uniform((100,))
        branches = independent_ops(_BRANCHES)
        graph = tf.function(branches)
        graph(vector)  # traced here: the measurement runs the graph, it does not build it

        def eager() -> None:
            branches(vector)

        def function() -> None:
            graph(vector)

        out: dict[str, Any] = {}
        for key, work, threads, what in (
            ("eager_ops_on_inter_op", eager, inter, "the inter-op pool"),
            ("eager_ops_on_runtime_threads", eager, started, "the threads the runtime started"),
            ("function_ops_on_inter_op", function, inter, "the inter-op pool"),
        ):
            out[key], out[f"{key}_share"] = _decided(work, threads, what)
        return out

    return {"cpus": cpu_count(), **run_forked(eager_and_function)["value"]}


#: Independent ops per call: with 128 rather than pool_identity's 32, a ``tf.function``
#: gave the inter-op pool 0.41 to 0.43 of the CPU time on one CPU (0.23 to 0.26 with 32),
#: far from :data:`~tfthreads.catalog.probes._common.SPLIT_SHARE`; eager ops gave it 0.00.
_BRANCHES = 128

#: The decisions the probe reports, each with its ``<key>_share``.
_KEYS = ("eager_ops_on_inter_op", "eager_ops_on_runtime_threads", "function_ops_on_inter_op")


def _decided(work: Callable[[], object], threads: set[int], what: str) -> tuple[bool | str, float]:
    """:func:`decide` whether ``threads`` take part in ``work``; also the mean share measured."""
    seen: list[float] = []

    def measure() -> float:
        seen.append(pool_share(work, threads))
        return seen[-1]

    return decide(measure, what), round(sum(seen) / len(seen), 2)
