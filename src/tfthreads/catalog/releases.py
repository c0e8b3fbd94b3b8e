"""What the release matrix shows side by side, and which releases name their pool threads.

:mod:`tfthreads.catalog.compat` reads the committed release files and judges each fact
on each release; this module decides the rest of the summary the documentation renders
(``release-matrix``), so that the documentation only words it:

- :data:`HIGHLIGHTS`: the behaviours shown for every release, as probe outputs;
- :func:`naming_summary`: the releases that name their inter-op pool threads and with
  which names, those that do not (grouped by why), and how many threads a session
  starts when every release agrees.

Examples
--------
>>> from tfthreads.catalog.compat import Release
>>> named = Release("2.21.0", {}, {"sessions": {"session_pool_thread_names": "tf_Compute0"}}, {})
>>> naming_summary([named]).names
('tf_Compute0',)
>>> highlight_values(HIGHLIGHTS[0], named)
('(not recorded)',)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tfthreads.catalog.compat import Release, pool_naming

__all__ = [
    "HIGHLIGHTS",
    "NOT_RECORDED",
    "Highlight",
    "NamingSummary",
    "UnnamedReleases",
    "highlight_values",
    "naming_summary",
]

#: What a release's file shows for a probe output it does not record.
NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class Highlight:
    """One behaviour shown for every release: a label and the probe outputs that show it.

    Attributes
    ----------
    label : str
        What the behaviour is, as the row's heading.
    probe : str
        The probe of :data:`tfthreads.catalog.probes.PROBES` that reports it.
    keys : tuple of str
        The probe's outputs, shown in this order.
    """

    label: str
    probe: str
    keys: tuple[str, ...]


#: Behaviours shown side by side for every release.
HIGHLIGHTS: tuple[Highlight, ...] = (
    Highlight(
        "Pools whose threads ran a session's ops (pool 0, pool 1, caller, pool 0)",
        "sessions",
        ("session_pools_ran_on",),
    ),
    Highlight("Names those threads really have", "sessions", ("session_pool_thread_names",)),
    Highlight(
        "Two sessions sharing a global_name: threads ran on", "sessions", ("global_name_ran_on",)
    ),
    Highlight(
        "Pool threads at start (intra-op, inter-op)",
        "runtime",
        ("default_intra_op", "default_inter_op"),
    ),
    Highlight(
        "New threads when a session starts, whatever their names",
        "sessions",
        ("session_new_threads_default",),
    ),
    Highlight(
        "oneDNN on with TF_ENABLE_ONEDNN_OPTS unset (this CPU)",
        "runtime",
        ("onednn_on_by_default",),
    ),
    Highlight(
        "Abort message for a negative intra-op size", "runtime", ("intra_op_negative_check",)
    ),
)


def highlight_values(highlight: Highlight, release: Release) -> tuple[Any, ...]:
    """Return what ``release`` recorded for each key of ``highlight`` (:data:`NOT_RECORDED` if none)."""
    data = release.data.get(highlight.probe, {})
    return tuple(data.get(key, NOT_RECORDED) for key in highlight.keys)


@dataclass(frozen=True)
class UnnamedReleases:
    """Releases that do not name their inter-op pool threads, or where it is not known.

    Attributes
    ----------
    why : str
        MyST phrase saying why (:attr:`tfthreads.catalog.compat.PoolNaming.why`).
    known : bool or None
        ``False`` when the threads are known to be unnamed, ``None`` when that is not known.
    versions : tuple of str
        The releases, in the order given.
    """

    why: str
    known: bool | None
    versions: tuple[str, ...]


@dataclass(frozen=True)
class NamingSummary:
    """Which releases name their inter-op pool threads (:func:`naming_summary`).

    Attributes
    ----------
    named : tuple of str
        The releases whose pool threads all carry TensorFlow's names.
    names : tuple of str
        Those names, sorted, each once.
    unnamed : tuple of UnnamedReleases
        The other releases, grouped by why, in the order first seen.
    session_new_threads : Any
        How many new threads a session starts, when every release recorded the same
        number; ``None`` otherwise.
    """

    named: tuple[str, ...]
    names: tuple[str, ...]
    unnamed: tuple[UnnamedReleases, ...]
    session_new_threads: Any


def naming_summary(releases: Sequence[Release]) -> NamingSummary:
    """Say on which releases pool threads carry TensorFlow's names (:func:`~.compat.pool_naming`).

    Examples
    --------
    >>> def ran_on(version, names):
    ...     data = {"session_pool_thread_names": names, "session_new_threads_default": 4}
    ...     return Release(version, {}, {"sessions": data}, {})
    >>> summary = naming_summary([ran_on("2.16.2", "python caller"), ran_on("2.21.0", "tf_Compute0")])
    >>> summary.named, summary.names, summary.session_new_threads
    (('2.21.0',), ('tf_Compute0',), 4)
    >>> [(group.known, group.versions) for group in summary.unnamed]
    [(False, ('2.16.2',))]
    """
    namings = {r.version: pool_naming(r) for r in releases}
    named = tuple(v for v, naming in namings.items() if naming.named)
    names = tuple(sorted({n for v in named for n in namings[v].names}))
    groups: dict[tuple[str, bool | None], list[str]] = {}
    for version, naming in namings.items():
        if not naming.named:
            groups.setdefault((naming.why, naming.named), []).append(version)
    unnamed = tuple(
        UnnamedReleases(why, known, tuple(versions)) for (why, known), versions in groups.items()
    )
    started = {r.data.get("sessions", {}).get("session_new_threads_default") for r in releases}
    same = started.pop() if len(started) == 1 else None
    return NamingSummary(named, names, unnamed, same)
