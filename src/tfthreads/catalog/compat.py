"""The release matrix: the catalog's probes run on one TensorFlow release, and read back.

``python3 -m nox -s compat`` installs each TensorFlow release the project verifies in a
virtual environment of its own and runs ``python -m tfthreads.catalog.compat OUTPUT``
there. :func:`record` runs every probe the catalog's observed facts name, each in a
fresh process of that interpreter (:func:`tfthreads.catalog.observe.observe`), and
writes a results file (:mod:`tfthreads.results_file`, format ``tfthreads-results``)
whose header holds the release and where it ran (:func:`tfthreads.provenance.provenance`)
and whose rows are one per probe: its data, or the one line that says why it could not
run on that release. The files are committed under ``docs/results/compat/``.

:func:`read_release` reads such a file back, refusing in one line anything else;
:func:`fact_outcomes` says, per release, whether an observed fact holds there, what was
seen instead, or why it could not be seen, and :func:`changed` whether its observation
differs between releases.

A release's values are not all evidence about TensorFlow. tfthreads tells TensorFlow's
two pools apart by their threads' names where TensorFlow sets them (the inter-op pool's
are ``tf_Compute...``, the intra-op pool's the unnamed threads left over), and by what
the threads run where it sets none (:mod:`tfthreads.pool_identity`): pool counts are
observable on every release, and so are the threads of each of a session's pools and
which pool ran a step. A few outputs still read names (the ``tf_numa_`` pools, the other
threads' names); on a release that leaves its pool threads unnamed those say nothing
about the pools. The rule, applied per release from that release's own file:

1. :func:`pool_naming` reads the names of the threads that ran a session's steps on its
   inter-op pools (:data:`POOL_NAME_EVIDENCE`, the sessions probe). The release names
   its pool threads when every one of them has a TensorFlow pool name
   (:func:`tfthreads.inventory.classify`); it does not when one of them has another
   name (``python``: the name the thread inherited); and it is not known when the file
   records none of them (the probe could not run, or predates those keys).
2. :data:`COUNTED_BY_NAME` lists, per probe, the outputs that count or name threads
   told apart by name only.
3. On a release that does not name its pool threads, or where that is not known, a
   fact's keys in that list are *not observable*: they are neither checked nor shown
   as a difference. The fact's other keys are still checked, so a real difference on
   that release reads as ``"differs"``, with what was seen against what was expected.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfthreads._text import one_line
from tfthreads.catalog import CATALOG, probes
from tfthreads.catalog.facts import UNDECIDED, Observed, expected_value, undecided
from tfthreads.catalog.observe import observe, probes_used
from tfthreads.errors import SettingError
from tfthreads.inventory import classify
from tfthreads.process import WorkerError
from tfthreads.provenance import provenance
from tfthreads.results_file import ResultsFile, read_results

__all__ = [
    "COUNTED_BY_NAME",
    "KIND",
    "POOL_NAME_EVIDENCE",
    "FactOutcome",
    "PoolNaming",
    "Release",
    "changed",
    "counted_by_name",
    "fact_outcomes",
    "main",
    "pool_naming",
    "read_release",
    "read_releases",
    "record",
    "release_key",
]

#: What the header's ``run.kind`` says in a release-matrix file.
KIND = "release-matrix"

#: Per probe, the outputs whose values still depend on thread names. Pool counts, the
#: threads of one of a session's pools and which pool ran a step are not here: where
#: TensorFlow names no thread, :mod:`tfthreads.pool_identity` tells the pools apart by
#: what they run (and the sessions probe labels their threads with the names TensorFlow
#: 2.21 gives them), so they are observable on every release. What is here: the
#: ``tf_numa_`` pools, counted by name, the names of the other threads, and the names
#: the threads that ran a session's steps really have (:data:`POOL_NAME_EVIDENCE`).
COUNTED_BY_NAME: dict[str, frozenset[str]] = {
    "sessions": frozenset(
        {
            "numa_pool_threads",
            "numa_pool_threads_after_default_session",
            "session_pool_thread_names",
        }
    ),
    "onednn": frozenset({"onednn_matmul_other_threads"}),
}

#: The probe, and its outputs, that give the real names of the threads which ran a
#: session's steps on its inter-op pools (space-separated; ``caller`` is the calling
#: thread, told by its id).
POOL_NAME_EVIDENCE: tuple[str, tuple[str, ...]] = ("sessions", ("session_pool_thread_names",))


@dataclass(frozen=True)
class Release:
    """The probes' results on one TensorFlow release, as read from its file.

    Attributes
    ----------
    version : str
        The TensorFlow version the probes imported.
    provenance : dict
        Where and when they ran (:func:`tfthreads.provenance.provenance`).
    data : dict
        Probe name to its data, for the probes that ran.
    errors : dict
        Probe name to the line saying why it could not run on this release.
    """

    version: str
    provenance: dict[str, Any]
    data: dict[str, dict[str, Any]]
    errors: dict[str, str]


@dataclass(frozen=True)
class FactOutcome:
    """What one release showed for one observed fact.

    Attributes
    ----------
    version : str
        The release.
    status : str
        One of:

        - ``"holds"``: every key the fact checks has the value the claim implies;
        - ``"differs"``: a key that can be observed on this release has another value;
        - ``"not observable"``: none differs, but some keys tell pool threads apart by name
          (:func:`counted_by_name`) and this release gives no names to tell its pools
          apart by (:func:`pool_naming`);
        - ``"undecided"``: none differs, and this release's machine did not decide some
          (their value starts with :data:`tfthreads.catalog.facts.UNDECIDED`);
        - ``"unavailable"``: the probe could not run on this release;
        - ``"missing"``: the file predates the fact (its probe reported none of its keys).
    seen : str
        The observed values (``key=value, ...``): of every key for ``"holds"``, of the
        keys that differ for ``"differs"``, of the keys not observable for
        ``"not observable"``; the undecided keys with what was seen for
        ``"undecided"``; the reason for ``"unavailable"``; empty for ``"missing"``.
    expected : str
        For ``"differs"``: the values the claim implies for those keys, in the same form.
    unobserved : tuple of str
        The keys that are not observable on this release (also for ``"differs"``, whose
        difference is then in the other keys).
    why : str
        MyST phrase saying why ``unobserved`` cannot be observed there
        (:attr:`PoolNaming.why`); empty when all keys are observable.
    """

    version: str
    status: str
    seen: str
    expected: str = ""
    unobserved: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class PoolNaming:
    """Whether one release names its inter-op pool threads, from its own sessions probe.

    Attributes
    ----------
    named : bool or None
        ``True`` when every thread that ran a session's step on one of its inter-op
        pools has a TensorFlow pool name, ``False`` when one has another name, ``None``
        when the file records none of those threads.
    names : tuple of str
        The names of those threads, each once, in the order seen.
    why : str
        MyST phrase, for ``named`` ``False`` or ``None``: why a count of pool threads by
        name says nothing about that release's pools; empty when ``named``.
    """

    named: bool | None
    names: tuple[str, ...]
    why: str


def release_key(version: str) -> tuple[int, ...]:
    """Sort key of a version such as ``"2.19.1"`` (numbers compared as numbers).

    Examples
    --------
    >>> sorted(["2.9.0", "2.16.2", "2.21.0"], key=release_key)
    ['2.9.0', '2.16.2', '2.21.0']
    """
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _run_probe(name: str, timeout: float) -> dict[str, Any]:
    try:
        return {"probe": name, "data": observe([name], jobs=1, timeout=timeout)[name]}
    except WorkerError as error:
        # An API this release lacks, or a crash: recorded, not fatal.
        return {"probe": name, "error": one_line(str(error), 300)}


def record(
    path: str | os.PathLike[str], *, names: Iterable[str] | None = None, timeout: float = 600.0
) -> Path:
    """Run the probes on the installed TensorFlow and write the results file ``path``.

    Parameters
    ----------
    path : path-like
        The results file, written afresh.
    names : iterable of str, optional
        Probes to run; by default every probe the catalog's observed facts name.
    timeout : float
        Seconds one probe may run.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    SettingError
        When no TensorFlow is installed, or ``path`` cannot hold a results file.
    """
    machine = provenance()
    if machine["tensorflow_version"] is None:
        raise SettingError("compat: no TensorFlow distribution is installed in this environment")
    wanted = list(names) if names is not None else probes_used(CATALOG)
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(lambda name: _run_probe(name, timeout), wanted))
    run = {"kind": KIND, "release": machine["tensorflow_version"], "provenance": machine}
    with ResultsFile.open(path, resume=False, name="compat", run=run) as results:
        for row in rows:
            results.append(row)
    return results.path


def read_release(path: str | os.PathLike[str]) -> Release:
    """Read a release-matrix file; anything else is refused in one line.

    Raises
    ------
    SettingError
        Naming the file and the problem: not a results file, not a release-matrix file,
        a row that is neither a probe's data nor its error, or an unknown probe.
    """
    header, rows = read_results(path, name="compat")
    where = f"compat: {os.fspath(path)!r}"
    run = header.get("run", {})
    if run.get("kind") != KIND:
        raise SettingError(
            f"{where} is a results file of kind {run.get('kind')!r}; expected {KIND!r}"
        )
    version = run.get("release")
    if not isinstance(version, str) or not isinstance(run.get("provenance"), dict):
        raise SettingError(f"{where}: the header names no release and provenance")
    data: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for number, row in rows:
        name = row.get("probe")
        if name not in probes.PROBES:
            raise SettingError(
                f"{where}: line {number} names probe {name!r}; known: {sorted(probes.PROBES)}"
            )
        if isinstance(row.get("data"), dict):
            data[name] = row["data"]
        elif isinstance(row.get("error"), str):
            errors[name] = row["error"]
        else:
            raise SettingError(f"{where}: line {number} has neither 'data' (object) nor 'error'")
    return Release(version, run["provenance"], data, errors)


def read_releases(folder: str | os.PathLike[str]) -> list[Release]:
    """Read every ``*.jsonl`` file of ``folder``, oldest release first (none if no folder)."""
    paths = sorted(Path(folder).glob("*.jsonl")) if Path(folder).is_dir() else []
    return sorted((read_release(path) for path in paths), key=lambda r: release_key(r.version))


def pool_naming(release: Release) -> PoolNaming:
    """Say whether ``release`` names its inter-op pool threads, from :data:`POOL_NAME_EVIDENCE`.

    Examples
    --------
    >>> def ran_on(names):
    ...     return Release("x", {}, {"sessions": {"session_pool_thread_names": names}}, {})
    >>> pool_naming(ran_on("tf_Compute0 tf_Compute1 caller tf_Compute0")).named
    True
    >>> unnamed = pool_naming(ran_on("python python caller python"))
    >>> unnamed.named, unnamed.names
    (False, ('python',))
    >>> pool_naming(Release("x", {}, {}, {"sessions": "ImportError: no module"})).named is None
    True
    """
    probe, keys = POOL_NAME_EVIDENCE
    if probe in release.errors:
        return PoolNaming(
            None,
            (),
            f"whether TensorFlow names its pool threads is not known (the {probe} probe, "
            f"which shows it, could not run: {release.errors[probe]})",
        )
    data = release.data.get(probe, {})
    values = [data[key] for key in keys if isinstance(data.get(key), str)]
    # "caller" is the thread that called run(), "gone" one that ended before it was named.
    names = tuple(
        dict.fromkeys(
            name
            for value in values
            if not value.startswith(UNDECIDED)
            for name in value.split()
            if name not in ("caller", "gone")
        )
    )
    if not names:
        return PoolNaming(
            None,
            (),
            f"whether TensorFlow names its pool threads is not recorded (in this file, the "
            f"{probe} probe's {', '.join(f'`{key}`' for key in keys)} name no pool thread)",
        )
    others = [name for name in names if classify(name) != "inter-op pool"]
    if not others:
        return PoolNaming(True, names, "")
    shown = " or ".join(f"`{name}`" for name in others)
    # Some named and some not: the counts by name are still wrong, but say "some".
    some = "some of " if len(others) < len(names) else ""
    return PoolNaming(
        False,
        names,
        f"TensorFlow left {some}its inter-op pool threads unnamed (the threads that ran a "
        f"session's steps on those pools were called {shown}, not `tf_Compute…`)",
    )


def counted_by_name(fact: Observed) -> tuple[str, ...]:
    """List the keys of ``fact`` that tell pool threads apart by name (:data:`COUNTED_BY_NAME`).

    Examples
    --------
    >>> other = ("onednn_matmul_other_threads", "tf_graph_runner")
    >>> counted_by_name(Observed(("default",), "onednn", (("omp_1_intra_op", 2), other), ""))
    ('onednn_matmul_other_threads',)
    """
    by_name = COUNTED_BY_NAME.get(fact.probe, frozenset())
    return tuple(key for key, _ in fact.expect if key in by_name)


def _values(data: Mapping[str, Any], keys: Iterable[str]) -> str:
    return ", ".join(f"{key}={data[key]!r}" for key in keys)


def _judge(
    version: str, fact: Observed, data: Mapping[str, Any], naming: PoolNaming | None
) -> FactOutcome:
    """Return one release's outcome for ``fact``, whose keys are all in ``data``."""
    unobserved = counted_by_name(fact) if naming is not None and not naming.named else ()
    why = naming.why if unobserved and naming is not None else ""
    wrong = []
    for key, value in fact.expect:
        wanted = expected_value(value, data)
        seen = data[key]
        if key in unobserved or (isinstance(seen, str) and seen.startswith(UNDECIDED)):
            continue
        if str(seen) != str(wanted):
            wrong.append((key, wanted))
    if wrong:
        # Only the keys that differ: the others hold and would bury the difference.
        expected = ", ".join(f"{key}={value!r}" for key, value in wrong)
        seen_text = _values(data, (key for key, _ in wrong))
        return FactOutcome(version, "differs", seen_text, expected, unobserved, why)
    if unobserved:
        return FactOutcome(
            version, "not observable", _values(data, unobserved), "", unobserved, why
        )
    pending = undecided(fact, data)
    if pending:
        return FactOutcome(version, "undecided", "; ".join(pending))
    return FactOutcome(version, "holds", _values(data, (key for key, _ in fact.expect)))


def fact_outcomes(fact: Observed, releases: Sequence[Release]) -> list[FactOutcome]:
    """Say what each release showed for ``fact``, in the order of ``releases``.

    The module's docstring gives the rule for what is not observable on a release.

    Examples
    --------
    >>> fact = Observed(("default",), "onednn", (("onednn_matmul_other_threads", "tf_x"),), "")
    >>> named = {"sessions": {"session_pool_thread_names": "tf_Compute0 tf_Compute1 caller"}}
    >>> unnamed = {"sessions": {"session_pool_thread_names": "python python caller"}}
    >>> def seen(names, other):
    ...     return {**names, "onednn": {"onednn_matmul_other_threads": other}}
    >>> right = Release("2.21.0", {}, seen(named, "tf_x"), {})
    >>> wrong = Release("2.22.0", {}, seen(named, "tf_y"), {})
    >>> blind = Release("2.16.2", {}, seen(unnamed, ""), {})
    >>> broken = Release("2.9.0", {}, {}, {"onednn": "AttributeError: no such API"})
    >>> for outcome in fact_outcomes(fact, [right, wrong, blind, broken]):
    ...     print(outcome.version, outcome.status, outcome.seen, "|", outcome.expected or "-")
    2.21.0 holds onednn_matmul_other_threads='tf_x' | -
    2.22.0 differs onednn_matmul_other_threads='tf_y' | onednn_matmul_other_threads='tf_x'
    2.16.2 not observable onednn_matmul_other_threads='' | -
    2.9.0 unavailable AttributeError: no such API | -
    """
    by_name = counted_by_name(fact)
    out = []
    for release in releases:
        if fact.probe in release.errors:
            out.append(FactOutcome(release.version, "unavailable", release.errors[fact.probe]))
            continue
        data = release.data.get(fact.probe, {})
        if any(key not in data for key, _ in fact.expect):
            out.append(FactOutcome(release.version, "missing", ""))
            continue
        naming = pool_naming(release) if by_name else None
        out.append(_judge(release.version, fact, data, naming))
    return out


def changed(outcomes: Sequence[FactOutcome]) -> bool:
    """Whether the releases on which the fact could be judged saw different behaviour.

    Only ``"holds"`` and ``"differs"`` outcomes are compared: a release on which the fact
    is not observable, not decided, or whose probe could not run shows nothing to
    compare.

    Examples
    --------
    >>> changed([FactOutcome("2.16.2", "differs", "a=1"), FactOutcome("2.21.0", "holds", "a=2")])
    True
    >>> changed([FactOutcome("2.16.2", "not observable", "a=1"), FactOutcome("2.21.0", "holds", "a=2")])
    False
    """
    seen = {(o.status, o.seen) for o in outcomes if o.status in ("holds", "differs")}
    return len(seen) > 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tfthreads.catalog.compat OUTPUT [PROBE ...]``: record this release."""
    parser = argparse.ArgumentParser(
        prog="python -m tfthreads.catalog.compat",
        description="Run the catalog's probes on the installed TensorFlow; write a results file.",
    )
    parser.add_argument("output", help="the results file to write (replaced)")
    parser.add_argument("probes", nargs="*", help=f"default: all of {', '.join(probes.PROBES)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.probes if name not in probes.PROBES]
    if unknown:
        parser.error(f"probes: got {unknown}; expected some of {list(probes.PROBES)}")
    try:
        path = record(args.output, names=args.probes or None)
        release = read_release(path)
    except SettingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = ", ".join(f"{name} ({line})" for name, line in release.errors.items()) or "none"
    print(f"TensorFlow {release.version}: wrote {path}; probes that could not run: {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
