"""Observe the thread pools TensorFlow really creates, in a fresh process.

:func:`observe_pools` starts a worker, applies the settings there, starts TensorFlow's
runtime with one matmul and counts the threads that appeared.
The child tells the pools apart (:func:`tfthreads.pool_identity.identify_pools`): by
name where TensorFlow names its inter-op threads (``tf_Compute``, 2.21), the intra-op
threads being the unnamed ones that appeared; by what the threads run where it names
none (2.16 to 2.20).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfthreads.inventory import count_pools
from tfthreads.process import run_worker
from tfthreads.settings import ThreadSettings

__all__ = ["PoolObservation", "observe_pools"]


@dataclass(frozen=True)
class PoolObservation:
    """What one fresh TensorFlow process did with one set of thread settings.

    Attributes
    ----------
    settings : ThreadSettings
        The settings applied with ``tf.config.threading`` in the child.
    env : dict
        Environment changes the child was started with.
    tensorflow_version : str
        ``tf.__version__`` in the child.
    affinity : tuple of int
        CPUs the child was allowed to run on.
    configured_intra_op, configured_inter_op : int
        What ``tf.config.threading.get_*`` returned (0 means "TensorFlow picks").
    observed_inter_op : int or None
        Inter-op pool threads that appeared when the runtime started: ``tf_Compute``
        threads where TensorFlow names them, else told apart by what they run
        (:mod:`tfthreads.pool_identity`); ``None`` when that was not decided.
    observed_intra_op : int or None
        Intra-op pool threads that appeared when the runtime started, likewise.
    new_threads : dict
        Every thread that appeared when the runtime started, by name.
    total_threads : int
        Threads in the child after the runtime started.
    onednn_enabled, is_cuda_build : bool
        Facts about the TensorFlow build, read in the child.
    stderr : str
        The child's stderr without TensorFlow's start-up chatter.
    pools_method : str
        How the pools were told apart: ``"names"`` or ``"behaviour"``.
    pools_undecided : str
        Why the pools could not be told apart (``"not decided on this machine: ..."``),
        or empty.
    """

    settings: ThreadSettings
    env: dict[str, str | None]
    tensorflow_version: str
    affinity: tuple[int, ...]
    configured_intra_op: int
    configured_inter_op: int
    observed_intra_op: int | None
    observed_inter_op: int | None
    new_threads: dict[str, int]
    total_threads: int
    onednn_enabled: bool
    is_cuda_build: bool
    stderr: str
    pools_method: str = "names"
    pools_undecided: str = ""

    @classmethod
    def from_result(
        cls,
        settings: ThreadSettings,
        env: Mapping[str, str | None],
        result: Mapping[str, Any],
        stderr: str = "",
    ) -> PoolObservation:
        """Build an observation from the worker's JSON result."""
        new = {str(name): int(count) for name, count in result["new_at_init"].items()}
        # Told apart in the child, by name or by behaviour; by name here for old workers.
        pools = result.get("pools") or {**count_pools(new), "method": "names", "undecided": ""}
        undecided = str(pools.get("undecided", ""))
        return cls(
            settings=settings,
            env=dict(env),
            tensorflow_version=str(result["tensorflow_version"]),
            affinity=tuple(result["affinity"]),
            configured_intra_op=int(result["configured"]["intra_op"]),
            configured_inter_op=int(result["configured"]["inter_op"]),
            observed_intra_op=None if undecided else int(pools["intra_op"]),
            observed_inter_op=None if undecided else int(pools["inter_op"]),
            pools_method=str(pools.get("method", "names")),
            pools_undecided=undecided,
            new_threads=new,
            total_threads=int(result["inventory"]["count"]),
            onednn_enabled=bool(result["build"]["onednn_enabled"]),
            is_cuda_build=bool(result["build"]["is_cuda_build"]),
            stderr=stderr,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {
            "settings": {"intra_op": self.settings.intra_op, "inter_op": self.settings.inter_op},
            "env": self.env,
            "tensorflow_version": self.tensorflow_version,
            "affinity": list(self.affinity),
            "configured_intra_op": self.configured_intra_op,
            "configured_inter_op": self.configured_inter_op,
            "observed_intra_op": self.observed_intra_op,
            "observed_inter_op": self.observed_inter_op,
            "pools_method": self.pools_method,
            "pools_undecided": self.pools_undecided,
            "new_threads": self.new_threads,
            "total_threads": self.total_threads,
            "onednn_enabled": self.onednn_enabled,
            "is_cuda_build": self.is_cuda_build,
        }


def observe_pools(
    settings: ThreadSettings | None = None,
    *,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    timeout: float = 120.0,
) -> PoolObservation:
    """Start TensorFlow in a fresh process and count the pool threads it creates.

    Within an :func:`~tfthreads.process.importing_once` block for TensorFlow in the same
    environment and CPUs, the process is a copy forked from the block's import, before
    any runtime started: the threads counted are those its runtime starts, as in a
    process of its own.

    Parameters
    ----------
    settings : ThreadSettings, optional
        Applied in the child with ``tf.config.threading`` before the runtime starts.
        The default leaves both pools at 0 (TensorFlow picks).
    env : mapping, optional
        Environment changes for the child, for example ``{"TF_NUM_INTRAOP_THREADS": "1"}``;
        ``None`` as a value removes a variable.
    cpus : iterable of int, optional
        Restrict the child to these CPUs (its affinity mask), as ``taskset`` would.
    timeout : float
        Seconds before the child is killed.

    Returns
    -------
    PoolObservation
        Configured and observed pool sizes, and every thread that appeared.

    Raises
    ------
    tfthreads.process.WorkerError
        When the child fails; the message says how.

    Examples
    --------
    >>> seen = observe_pools(ThreadSettings(intra_op=1, inter_op=1))
    >>> seen.observed_intra_op, seen.observed_inter_op
    (1, 1)
    """
    settings = settings or ThreadSettings()
    env = dict(env or {})
    payload = {"intra_op": settings.intra_op, "inter_op": settings.inter_op}
    outcome = run_worker(
        "observe_pools", payload, env=env, cpus=cpus, timeout=timeout, share_import=("tensorflow",)
    )
    return PoolObservation.from_result(settings, env, outcome.result, outcome.stderr)
