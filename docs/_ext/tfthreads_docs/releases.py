"""The release matrix on the site: per-fact release lines and the ``release-matrix`` summary.

``python3 -m nox -s compat`` commits one file per TensorFlow release under
``docs/results/compat/`` (:mod:`tfthreads.catalog.compat`). When a build starts they are
read; one that is not a release-matrix file is an error of one line naming it, and the
build exits with status 1. :func:`release_line` gives the line ``setting-facts`` puts
under each observed fact: the releases on which it holds, and what the others showed
instead or why they could not show it. The ``release-matrix`` directive renders the
summary: the releases and where they ran, the facts whose behaviour changed between
releases, and the other probe outputs that changed.

TensorFlow is not imported here: the files were written by the releases themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.catalog.compat import (
    FactOutcome,
    Release,
    changed,
    fact_outcomes,
    read_release,
    release_key,
)
from tfthreads.catalog.facts import Observed
from tfthreads.errors import SettingError
from tfthreads.provenance import describe_machine
from tfthreads_docs.markup import note_catalog_dependency, render_inline, table

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["COMPAT_FOLDER", "ReleaseMatrix", "release_line", "releases", "setup"]

logger = logging.getLogger(__name__)

#: The folder of release-matrix files, relative to the documentation's source.
COMPAT_FOLDER = "results/compat"
#: The page with the summary, linked from every per-fact line.
SUMMARY_PAGE = "/reference/releases"
#: Behaviours shown side by side for every release: (label, probe, data keys).
HIGHLIGHTS = (
    (
        "Threads that ran a session's ops (pool 0, pool 1, caller, pool 0)",
        "sessions",
        ("session_pools_ran_on",),
    ),
    ("Two sessions sharing a global_name: threads ran on", "sessions", ("global_name_ran_on",)),
    (
        "Pool threads counted by name at start (intra-op, inter-op)",
        "runtime",
        ("default_intra_op", "default_inter_op"),
    ),
    (
        "New threads when a session starts, whatever their names",
        "sessions",
        ("session_new_threads_default",),
    ),
    ("oneDNN on with TF_ENABLE_ONEDNN_OPTS unset (this CPU)", "runtime", ("onednn_on_by_default",)),
    ("Abort message for a negative intra-op size", "runtime", ("intra_op_negative_check",)),
)
_RELEASES: list[Release] = []
_ENV_KEY = "tfthreads_releases_hash"


def releases() -> list[Release]:
    """Return the releases read when this build started, oldest first."""
    return _RELEASES


def _read(app: Sphinx) -> None:
    """``builder-inited``: read the committed files; a malformed one fails the build."""
    _RELEASES.clear()
    for path in sorted(Path(app.srcdir, COMPAT_FOLDER).glob("*.jsonl")):
        try:
            _RELEASES.append(read_release(path))
        except SettingError as error:
            shown = os.path.relpath(path, Path(app.srcdir).parent)
            problem = str(error).replace(repr(str(path)), repr(shown), 1)
            logger.error("Release matrix error: %s", problem, type="tfthreads", subtype="releases")
            app.statuscode = 1
    _RELEASES.sort(key=lambda release: release_key(release.version))


def _outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Re-read every page when the committed release files changed."""
    text = json.dumps([(r.version, r.data, r.errors) for r in _RELEASES], sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if getattr(env, _ENV_KEY, None) == digest:
        return []
    setattr(env, _ENV_KEY, digest)
    return sorted(env.found_docs - added - changed - removed)


def _versions(outcomes: list[FactOutcome]) -> str:
    names = [o.version for o in outcomes]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _parts(outcomes: list[FactOutcome]) -> list[str]:
    """MyST phrases, one per group of releases that showed the same for a fact."""
    values_differ = changed(outcomes)
    groups: dict[tuple[str, str, str], list[FactOutcome]] = {}
    for outcome in outcomes:
        seen = "" if outcome.status == "holds" and not values_differ else outcome.seen
        groups.setdefault((outcome.status, seen, outcome.expected), []).append(outcome)
    parts = []
    for (status, seen, expected), group in groups.items():
        versions = _versions(group)
        if status == "holds":
            parts.append(f"holds on TensorFlow {versions}" + (f" (`{seen}`)" if seen else ""))
        elif status == "differs":
            parts.append(f"on {versions} observed `{seen}` (the claim implies `{expected}`)")
        elif status == "unavailable":
            reason = seen.replace("`", "'")
            parts.append(f"not available on {versions} (`{reason}`)")
        else:
            parts.append(f"not recorded on {versions} (the file predates this fact)")
    return parts


def release_line(fact: Observed) -> str | None:
    """Return the MyST line saying what each committed release showed for ``fact``.

    Releases that showed the same are named together. ``None`` when no release file
    is committed.
    """
    outcomes = fact_outcomes(fact, _RELEASES)
    if not outcomes:
        return None
    verdict = "; behaviour changed between releases" if changed(outcomes) else ""
    return f"{{doc}}`Release matrix <{SUMMARY_PAGE}>`: {'; '.join(_parts(outcomes))}{verdict}."


class ReleaseMatrix(SphinxDirective):
    """``release-matrix``: the releases, the facts that changed, the other outputs that changed."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Build the summary from the files read when the build started."""
        note_catalog_dependency(self)
        for path in sorted(Path(self.env.srcdir, COMPAT_FOLDER).glob("*.jsonl")):
            self.env.note_dependency(str(path))
        if not _RELEASES:
            raise self.error(f"release-matrix: no release files under {COMPAT_FOLDER}/")
        out: list[nodes.Node] = [
            nodes.rubric(text="Releases"),
            table(
                ["TensorFlow", "Ran on", "Date", "Probes that could not run"],
                _rows(),
                "release-matrix",
            ),
            nodes.rubric(text="Behaviours side by side"),
            nodes.paragraph("", "", *render_inline(self, _names())),
            table(
                ["Behaviour", *(r.version for r in _RELEASES)],
                _highlights(),
                "release-matrix",
                literal_from=1,
            ),
            nodes.rubric(text="Facts whose observation differs between releases"),
        ]
        out += self._facts()
        out.append(nodes.rubric(text="Other probe outputs that differ between releases"))
        out += self._outputs()
        return out

    def _facts(self) -> list[nodes.Node]:
        rows: list[list[str | list[nodes.Node]]] = []
        steady = 0
        for setting in catalog.CATALOG:
            for fact in setting.facts:
                if not isinstance(fact, Observed):
                    continue
                outcomes = fact_outcomes(fact, _RELEASES)
                if not (changed(outcomes) or any(o.status != "holds" for o in outcomes)):
                    steady += 1
                    continue
                # A break opportunity after each dot: entry names are long and unbroken.
                name = setting.name.replace(".", ".\u200b")
                shown = "; ".join(_parts(outcomes))
                rows.append(
                    [
                        f"{name} ({fact.fields[0]})",
                        render_inline(self, shown[:1].upper() + shown[1:] + "."),
                    ]
                )
        intro = (
            f"{steady} observed facts hold, with the same observation, on every release; "
            f"{len(rows)} do not:"
        )
        body: list[nodes.Node] = [nodes.paragraph(text=intro)]
        if rows:
            body.append(
                table(["Entry (field)", "What the releases showed"], rows, "release-matrix")
            )
        return body

    def _outputs(self) -> list[nodes.Node]:
        checked = {
            (f.probe, key)
            for s in catalog.CATALOG
            for f in s.facts
            if isinstance(f, Observed)
            for key, _ in f.expect
        }
        rows = []
        for probe in dict.fromkeys(p for r in _RELEASES for p in r.data):
            keys = dict.fromkeys(k for r in _RELEASES for k in r.data.get(probe, {}))
            for key in keys:
                values = [r.data.get(probe, {}).get(key, "(not recorded)") for r in _RELEASES]
                # Timings (floats) differ from run to run; they are not behaviour.
                if (probe, key) in checked or key == "tensorflow_version":
                    continue
                if any(isinstance(v, float) for v in values):
                    continue
                if len({json.dumps(v) for v in values}) > 1:
                    rows.append([f"{probe}: {key}", *(_short(v) for v in values)])
        intro = (
            "Probe outputs that no fact checks and that are not timings, where the releases "
            f"disagree: {len(rows)}."
        )
        body: list[nodes.Node] = [nodes.paragraph(text=intro)]
        if rows:
            body.append(
                table(
                    ["Probe: output", *(r.version for r in _RELEASES)],
                    rows,
                    "release-matrix",
                    literal_from=1,
                )
            )
        return body


def _rows() -> list[list[str]]:
    rows = []
    for release in _RELEASES:
        record = release.provenance
        failed = ", ".join(sorted(release.errors)) or "none"
        rows.append([release.version, describe_machine(record), record["date"][:10], failed])
    return rows


def _names() -> str:
    """Say, from the sessions probe, on which releases pool threads carry TensorFlow's names."""

    def joined(versions: list[str]) -> str:
        return (
            ", ".join(versions[:-1]) + f" and {versions[-1]}" if len(versions) > 1 else versions[0]
        )

    sessions = {r.version: r.data.get("sessions", {}) for r in _RELEASES}
    named = [
        v for v, data in sessions.items() if "tf_Compute" in data.get("per_session_ran_on", "")
    ]
    unnamed = {v: data.get("per_session_ran_on", "?") for v, data in sessions.items()}
    unnamed = {v: name for v, name in unnamed.items() if v not in named}
    parts = []
    if named:
        parts.append(
            f"On {joined(named)}, a session's inter-op pool threads are named `tf_Compute`"
        )
    if unnamed:
        names = " or ".join(f"`{n}`" for n in sorted(set(unnamed.values())))
        parts.append(
            f"on {joined(list(unnamed))} they are named {names}: TensorFlow sets no name there, so "
            "{py:mod}`tfthreads.inventory`, which tells pools apart by name, counts them "
            "with the intra-op pool"
        )
    started = {data.get("session_new_threads_default") for data in sessions.values()}
    if len(started) == 1:
        parts.append(
            f"a session starts {started.pop()} new threads on every release: the threads "
            "are there, their names differ"
        )
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _highlights() -> list[list[str]]:
    rows = []
    for label, probe, keys in HIGHLIGHTS:
        cells = [label]
        for release in _RELEASES:
            data = release.data.get(probe, {})
            cells.append(", ".join(_short(data.get(key, "(not recorded)")) for key in keys))
        rows.append(cells)
    return rows


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def setup(app: Sphinx) -> ExtensionMetadata:
    """Read the release files when the build starts; register ``release-matrix``."""
    app.connect("builder-inited", _read)
    app.connect("env-get-outdated", _outdated)
    app.add_directive("release-matrix", ReleaseMatrix)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
