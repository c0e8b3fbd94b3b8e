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
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfthreads.catalog import CATALOG, probes
from tfthreads.catalog.facts import Observed, contradiction, expected_value
from tfthreads.catalog.observe import observe, probes_used
from tfthreads.errors import SettingError
from tfthreads.isolation import WorkerError, one_line
from tfthreads.provenance import provenance
from tfthreads.results_file import ResultsFile, read_results

__all__ = [
    "KIND",
    "FactOutcome",
    "Release",
    "changed",
    "fact_outcomes",
    "main",
    "read_release",
    "read_releases",
    "record",
    "release_key",
]

#: What the header's ``run.kind`` says in a release-matrix file.
KIND = "release-matrix"


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
        ``"holds"`` (the observation agrees with the claim), ``"differs"`` (it does
        not), ``"unavailable"`` (the probe could not run on this release) or
        ``"missing"`` (the file predates the fact: its probe reported none of its keys).
    seen : str
        The observed values of the keys the fact checks (``key=value, ...``; for
        ``"differs"`` only those that differ), or the reason for ``"unavailable"``;
        empty for ``"missing"``.
    expected : str
        For ``"differs"``: the values the claim implies for those keys, in the same form.
    """

    version: str
    status: str
    seen: str
    expected: str = ""


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


def _values(fact: Observed, data: dict[str, Any]) -> str:
    return ", ".join(f"{key}={data[key]!r}" for key, _ in fact.expect if key in data)


def fact_outcomes(fact: Observed, releases: Sequence[Release]) -> list[FactOutcome]:
    """Say what each release showed for ``fact``, in the order of ``releases``.

    Examples
    --------
    >>> fact = Observed(("default",), "runtime", (("default_intra_op", "{cpus}"),), "")
    >>> old = Release("2.16.2", {}, {"runtime": {"cpus": 2, "default_intra_op": 5}}, {})
    >>> new = Release("2.21.0", {}, {}, {"runtime": "AttributeError: no such API"})
    >>> for outcome in fact_outcomes(fact, [old, new]):
    ...     print(outcome.version, outcome.status, outcome.seen, "|", outcome.expected or "-")
    2.16.2 differs default_intra_op=5 | default_intra_op='2'
    2.21.0 unavailable AttributeError: no such API | -
    """
    out = []
    for release in releases:
        if fact.probe in release.errors:
            out.append(FactOutcome(release.version, "unavailable", release.errors[fact.probe]))
            continue
        data = release.data.get(fact.probe, {})
        if any(key not in data for key, _ in fact.expect):
            out.append(FactOutcome(release.version, "missing", ""))
        elif contradiction("", "", "", fact, data) is None:
            out.append(FactOutcome(release.version, "holds", _values(fact, data)))
        else:
            # Only the keys that differ: the others hold and would bury the difference.
            wrong = [
                (key, expected_value(value, data))
                for key, value in fact.expect
                if str(data[key]) != str(expected_value(value, data))
            ]
            seen = ", ".join(f"{key}={data[key]!r}" for key, _ in wrong)
            expected = ", ".join(f"{key}={value!r}" for key, value in wrong)
            out.append(FactOutcome(release.version, "differs", seen, expected))
    return out


def changed(outcomes: Sequence[FactOutcome]) -> bool:
    """Whether the releases that ran the fact's probe saw different behaviour.

    Examples
    --------
    >>> changed([FactOutcome("2.16.2", "differs", "a=1"), FactOutcome("2.21.0", "holds", "a=2")])
    True
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
