"""Run the catalog's probes (cached per machine) and check the catalog against them.

:func:`observe` runs each probe of :mod:`tfthreads.catalog.probes` in a fresh process
through :func:`tfthreads.isolation.run_function`, a few at a time, and keeps each result
in a cache file keyed by the machine fingerprint and the probes' source: a warm build
starts no process, and a changed machine, TensorFlow or probe runs them again.
:func:`contradictions` lists every claim an observation contradicts, and
:func:`coverage` says how each fact field of an entry is backed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tfthreads.catalog import probes
from tfthreads.catalog.facts import FACT_FIELDS, Cited, Observed, contradiction
from tfthreads.catalog.model import Setting
from tfthreads.isolation import run_function
from tfthreads.provenance import machine_fingerprint

__all__ = ["contradictions", "coverage", "observe", "probe_key", "probes_used", "unbacked"]


def probes_used(settings: Iterable[Setting]) -> list[str]:
    """Names of the probes the entries' observed facts need, in first-use order."""
    names: dict[str, None] = {}
    for setting in settings:
        for fact in setting.facts:
            if isinstance(fact, Observed):
                names[fact.probe] = None
    return list(names)


def probe_key(name: str, fingerprint: str | None = None) -> str:
    """Cache key of a probe: machine fingerprint, probe module source and environment."""
    probe = probes.PROBES[name]
    text = json.dumps(
        [fingerprint or machine_fingerprint(), inspect.getsource(probes), dict(probe.env)],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def observe(
    names: Iterable[str],
    *,
    cache_dir: str | Path | None = None,
    jobs: int = 2,
    timeout: float = 300.0,
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

    Returns
    -------
    dict
        Probe name to its data.

    Raises
    ------
    KeyError
        For a name that is not a probe.
    tfthreads.isolation.WorkerError
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
    for name in wanted:
        path = folder / f"{name}-{probe_key(name, fingerprint)}.json" if folder else None
        if path is not None and path.exists():
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
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                key = probe_key(name, fingerprint)
                (folder / f"{name}-{key}.json").write_text(json.dumps(data, indent=1) + "\n")
    return {name: found[name] for name in wanted}


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
