"""Run the catalog's probes (cached per machine) and check the catalog against them.

:func:`observe` runs each probe of :mod:`tfthreads.catalog.probes` in a fresh process
through :func:`tfthreads.process.run_function`, a few at a time, and keeps each result
in a cache file keyed by the machine fingerprint and that probe's own source: a warm
build starts no process, and a changed machine, TensorFlow or probe runs that probe
again. :func:`check` is what a build and the tests use: it observes, observes again every
probe whose data contradict a claim, fails only a claim contradicted both times, and
keeps in the cache only results that contradicted nothing and left nothing undecided, so
a failure is never read back into a later build. :func:`contradictions` lists every claim
an observation contradicts, and :func:`coverage` says how each fact field of an entry is
backed.

Run one probe by hand, without the cache, with ``python -m tfthreads.catalog.observe NAME``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import Any

from tfthreads.catalog import CATALOG, probes
from tfthreads.catalog.facts import (
    FACT_FIELDS,
    UNDECIDED,
    Cited,
    Observed,
    contradiction,
    undecided,
)
from tfthreads.catalog.model import Setting
from tfthreads.process import run_function
from tfthreads.provenance import machine_fingerprint

__all__ = [
    "Checked",
    "check",
    "contradictions",
    "coverage",
    "observe",
    "probe_key",
    "probes_used",
    "unbacked",
]


def probes_used(settings: Iterable[Setting]) -> list[str]:
    """Names of the probes the entries' observed facts need, in first-use order."""
    names: dict[str, None] = {}
    for setting in settings:
        for fact in setting.facts:
            if isinstance(fact, Observed):
                names[fact.probe] = None
    return list(names)


def probe_key(name: str, fingerprint: str | None = None) -> str:
    """Cache key of a probe: machine fingerprint, that probe's source and its environment."""
    probe = probes.PROBES[name]
    text = json.dumps(
        [fingerprint or machine_fingerprint(), probes.source(name), dict(probe.env)],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def observe(
    names: Iterable[str],
    *,
    cache_dir: str | Path | None = None,
    jobs: int = 2,
    timeout: float = 300.0,
    refresh: Iterable[str] = (),
    keep: bool = True,
) -> dict[str, dict[str, Any]]:
    """Return each probe's data, running those without a cached result.

    Parameters
    ----------
    names : iterable of str
        Probe names from :data:`tfthreads.catalog.probes.PROBES`.
    cache_dir : str or pathlib.Path, optional
        Folder of cached results (``<name>-<key>.json``); no caching when ``None``.
    jobs : int
        How many probe processes run at once.
    timeout : float
        Seconds one probe may run.
    refresh : iterable of str
        Probes to run again even when the cache holds a result.
    keep : bool
        Whether to write the results of the probes that ran into the cache.

    Returns
    -------
    dict
        Probe name to its data.

    Raises
    ------
    KeyError
        For a name that is not a probe.
    tfthreads.process.WorkerError
        When a probe's process fails.
    """
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in probes.PROBES]
    if unknown:
        raise KeyError(f"observe: unknown probe(s) {unknown}; known: {sorted(probes.PROBES)}")
    fingerprint = machine_fingerprint()
    folder = Path(cache_dir) if cache_dir is not None else None
    found: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    fresh = set(refresh)
    for name in wanted:
        path = _cached(folder, name, fingerprint)
        if path is not None and path.exists() and name not in fresh:
            found[name] = json.loads(path.read_text())
        else:
            missing.append(name)

    def run(name: str) -> dict[str, Any]:
        probe = probes.PROBES[name]
        data: dict[str, Any] = run_function(probe.function, env=probe.env, timeout=timeout)
        return data

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, data in zip(missing, pool.map(run, missing), strict=True):
            found[name] = data
            path = _cached(folder, name, fingerprint)
            if path is not None and keep:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(data, indent=1) + "\n")
    return {name: found[name] for name in wanted}


def _cached(folder: Path | None, name: str, fingerprint: str) -> Path | None:
    return folder / f"{name}-{probe_key(name, fingerprint)}.json" if folder else None


@dataclass(frozen=True)
class Checked:
    """The catalog checked against this machine: what :func:`check` returns.

    Attributes
    ----------
    observations : dict
        Probe name to its data (for a probe observed twice, the second observation,
        with each flipped value replaced by a :data:`~tfthreads.catalog.facts.UNDECIDED` text).
    problems : list of str
        One line per claim contradicted by both observations: it names the entry, the
        claim, the probe, what it saw and how to run the probe again.
    undecided : list of str
        One line per claim this machine did not decide.
    """

    observations: dict[str, dict[str, Any]]
    problems: list[str] = default(default_factory=list)
    undecided: list[str] = default(default_factory=list)


def _failing(
    settings: Sequence[Setting], observations: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """``(entry, probe data key)`` of every contradicted expectation, to its probe and message."""
    out = {}
    for setting in settings:
        for fact in setting.facts:
            if not isinstance(fact, Observed) or fact.probe not in observations:
                continue
            field_name = fact.fields[0]
            for key, value in fact.expect:
                one = Observed(fact.fields, fact.probe, ((key, value),), fact.shows)
                claim = getattr(setting, field_name)
                message = contradiction(
                    setting.name, field_name, claim, one, observations[fact.probe]
                )
                if message is not None:
                    out[(setting.name, key)] = (fact.probe, message)
    return out


def _undecided(
    settings: Sequence[Setting], observations: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Probe name to the lines of the entries' claims it did not decide."""
    out: dict[str, list[str]] = {}
    for setting in settings:
        for fact in setting.facts:
            if isinstance(fact, Observed) and fact.probe in observations:
                lines = undecided(fact, observations[fact.probe])
                out.setdefault(fact.probe, []).extend(f"{setting.name}: {x}" for x in lines)
    return {name: lines for name, lines in out.items() if lines}


def check(
    settings: Iterable[Setting] = CATALOG,
    *,
    cache_dir: str | Path | None = None,
    jobs: int = 2,
    timeout: float = 300.0,
) -> Checked:
    """Observe the probes the entries need and check every claim, observing twice before failing.

    A claim contradicted by a probe's data (cached or fresh) is observed again in a new
    process. Contradicted again, it is a problem; not contradicted the second time, its
    value flipped between two runs on this machine, and it is reported as not decided,
    with both values. A probe that left a claim undecided runs again too. Results are
    cached only when they contradicted nothing and left nothing undecided, so the next
    build observes every doubtful probe again.

    Parameters
    ----------
    settings : iterable of Setting
        The entries to check (default: the whole catalog).
    cache_dir, jobs, timeout
        As for :func:`observe`.
    """
    entries = list(settings)
    names = probes_used(entries)
    folder = Path(cache_dir) if cache_dir is not None else None
    fingerprint = machine_fingerprint()

    def doubtful(data: Mapping[str, Mapping[str, Any]]) -> list[str]:
        failing = {probe for probe, _ in _failing(entries, data).values()}
        return sorted(failing | set(_undecided(entries, data)))

    def cached(name: str) -> Path | None:
        return _cached(folder, name, fingerprint)

    from_cache = {name for name in names if (path := cached(name)) and path.exists()}
    first = observe(names, cache_dir=cache_dir, jobs=jobs, timeout=timeout, keep=False)
    ran = set(names) - from_cache
    # A cached result is a shortcut, not an observation of this build: doubtful, it is
    # replaced by a fresh one, which then has to pass like any other.
    stale = [name for name in doubtful(first) if name in from_cache]
    first.update(observe(stale, jobs=jobs, timeout=timeout, keep=False) if stale else {})
    ran |= set(stale)
    failing = _failing(entries, first)
    again_names = doubtful(first)
    again = observe(again_names, jobs=jobs, timeout=timeout, keep=False) if again_names else {}
    ran |= set(again)
    observations = {name: dict(again.get(name, first[name])) for name in names}
    still = _failing(entries, observations)
    for (_, key), (probe, _) in failing.items():
        before, after = first[probe].get(key), observations[probe].get(key)
        if str(before) != str(after) and not str(after).startswith(UNDECIDED):
            text = f"{UNDECIDED}: {key} was {before!r} in one run and {after!r} in another"
            observations[probe][key] = text
    problems = [
        f"{message} [probe {probe!r}, observed twice; not cached; run it alone with "
        f"'python -m tfthreads.catalog.observe {probe}']"
        for probe, message in _failing(entries, observations).values()
    ]
    left_open = _undecided(entries, observations)
    if folder is not None:
        bad = {probe for probe, _ in still.values()} | set(left_open)
        for name in names:
            path = cached(name)
            assert path is not None  # a folder was given
            if name in bad:
                path.unlink(missing_ok=True)
            elif name in ran:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(observations[name], indent=1) + "\n")
    return Checked(observations, problems, [x for lines in left_open.values() for x in lines])


def contradictions(
    settings: Iterable[Setting], observations: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """One line per claim that an observation contradicts (``entry: claim ... ; observed ...``)."""
    problems = []
    for setting in settings:
        for fact in setting.facts:
            if not isinstance(fact, Observed) or fact.probe not in observations:
                continue
            field = fact.fields[0]
            problem = contradiction(
                setting.name, field, getattr(setting, field), fact, observations[fact.probe]
            )
            if problem is not None:
                problems.append(problem)
    return problems


def coverage(setting: Setting) -> dict[str, str | None]:
    """How each non-empty fact field of ``setting`` is backed.

    A cited fact counts only when it says why it cannot be observed
    (``Cited.why_not_observed``): "every fact is backed" then means "every fact a CPU
    machine can show is observed, and every other one is cited with a reason".

    Returns
    -------
    dict
        Field name to ``"observed"`` (some probe checks it), ``"cited"`` (only pinned
        source files, each with a reason, back it) or ``None`` (nothing does, or a
        citation gives no reason).
    """
    out: dict[str, str | None] = {}
    for field in FACT_FIELDS:
        if not getattr(setting, field):
            continue
        facts = [f for f in setting.facts if field in f.fields]
        if any(isinstance(f, Observed) for f in facts):
            out[field] = "observed"
        elif facts and all(isinstance(f, Cited) and f.why_not_observed for f in facts):
            out[field] = "cited"
        else:
            out[field] = None
    return out


def unbacked(settings: Iterable[Setting]) -> list[str]:
    """``entry.field`` of every fact field that no probe observes and no reasoned citation backs."""
    return [
        f"{setting.name}.{field}"
        for setting in settings
        for field, kind in coverage(setting).items()
        if kind is None
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run probes by name in fresh processes (no cache); print their data and what they contradict."""
    parser = argparse.ArgumentParser(
        prog="python -m tfthreads.catalog.observe",
        description="Run the catalog's probes on this machine, without the build's cache.",
    )
    parser.add_argument("probes", nargs="*", help=f"default: all of {', '.join(probes.PROBES)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.probes if name not in probes.PROBES]
    if unknown:
        parser.error(f"probes: got {unknown}; expected some of {list(probes.PROBES)}")
    wanted = set(args.probes or probes.PROBES)
    entries = [s for s in CATALOG if any(getattr(f, "probe", None) in wanted for f in s.facts)]
    data = observe(args.probes or list(probes.PROBES))
    print(json.dumps(data, indent=1, sort_keys=True))
    problems = contradictions(entries, data)
    left_open = [line for lines in _undecided(entries, data).values() for line in lines]
    for line in left_open:
        print(f"not decided: {line}", file=sys.stderr)
    for line in problems:
        print(f"contradicted: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
