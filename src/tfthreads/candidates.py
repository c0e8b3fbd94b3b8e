"""The settings a tune screens: TensorFlow's defaults, the advice, and a coarse grid.

The recommendation (:func:`tfthreads.recommend.recommend`) only chooses where the grid
starts; what is measured, and how, is :func:`tfthreads.tune.tune`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tfthreads.recommend import MIN_INTER_OP, Recommendation
from tfthreads.settings import ThreadSettings, resolve_pools

__all__ = ["candidates", "distinct_pools"]


def candidates(max_threads: int, advice: Recommendation) -> list[ThreadSettings]:
    """Return the settings :func:`~tfthreads.tune.tune` screens: defaults, recommendation, a coarse grid.

    Settings that start the same pools as an earlier one are left out, the defaults first.

    Examples
    --------
    >>> from tfthreads.recommend import recommend
    >>> from tfthreads.topology import Topology
    >>> eight = Topology(logical_cpus=8, affinity=tuple(range(8)), physical_cores=8,
    ...                  sockets=1, numa_nodes=1, smt=False, cpuset=None, quota=None)
    >>> advice = recommend("latency", topology=eight)
    >>> [s.describe() for s in candidates(8, advice)][:3]
    ['intra_op=0, inter_op=0', 'intra_op=8, inter_op=4', 'intra_op=8, inter_op=2']
    >>> len(candidates(8, advice))
    9
    >>> one = Topology(logical_cpus=1, affinity=(0,), physical_cores=1, sockets=1,
    ...                numa_nodes=1, smt=False, cpuset=None, quota=None)
    >>> [s.describe() for s in candidates(1, recommend("latency", topology=one))]
    ['intra_op=0, inter_op=0', 'intra_op=1, inter_op=2']
    """
    intra = sorted({1, max_threads} | {2**k for k in range(1, 16) if 2**k < max_threads})
    # Never fewer inter-op threads than recommend gives (MIN_INTER_OP, 2): one inter-op
    # thread can deadlock (explanation/inter-op-deadlock), and a second one measured no
    # slower. Two even on one CPU: the defaults there (1/1) have another candidate then.
    # A user's own grid (--inter-op 1) is still measured as given.
    inter = sorted({MIN_INTER_OP, max(MIN_INTER_OP, max_threads)})
    # Keeping the defaults is the first candidate anyway: look near the pools they resolve to.
    target = advice.tensorflow_default if advice.keeps_defaults else advice.settings

    def distance(s: ThreadSettings) -> tuple[float, float]:
        return (
            abs(math.log2(s.intra_op) - math.log2(max(1, target.intra_op))),
            abs(math.log2(s.inter_op) - math.log2(max(1, target.inter_op))),
        )

    grid = sorted((ThreadSettings(a, b) for a in intra for b in inter), key=distance)
    return distinct_pools([ThreadSettings(), advice.settings, *grid], max_threads)


def distinct_pools(settings: Sequence[ThreadSettings], max_threads: int) -> list[ThreadSettings]:
    """Keep the first of the settings that start the same pools, in order.

    Two settings that start the same pools (2/2 and the defaults on 2 CPUs) are one
    candidate: measuring both would compare a setting with itself.

    Examples
    --------
    >>> [s.describe() for s in distinct_pools([ThreadSettings(), ThreadSettings(2, 2),
    ...                                        ThreadSettings(1, 2)], max_threads=2)]
    ['intra_op=0, inter_op=0', 'intra_op=1, inter_op=2']
    """
    unique: dict[tuple[int, int], ThreadSettings] = {}
    for one in settings:
        # No environment: the settings alone decide, as they do in the measuring children.
        pools = resolve_pools(one, affinity_cpus=max_threads, environ={})
        unique.setdefault((pools.intra_op, pools.inter_op), one)
    return list(unique.values())
