"""The release matrix on the site: per-fact release lines and the ``release-matrix`` summary.

``python3 -m nox -s compat`` commits one file per TensorFlow release under
``docs/results/compat/`` (:mod:`tfthreads.catalog.compat`). When a build starts they are
read; one that is not a release-matrix file is an error of one line naming it, and the
build exits with status 1. :func:`release_line` gives the line ``setting-facts`` puts
under each observed fact: the releases on which it holds, those on which it differs and
how, and those on which it is not observable and why. The ``release-matrix`` directive
renders the summary: the releases and where they ran, whether each names its pool
threads, the outcomes per release, the facts that differ, the facts not observable
(grouped by why), and the other probe outputs that changed.

What holds, differs or is not observable is decided by :mod:`tfthreads.catalog.compat`,
and which behaviours are shown side by side and which releases name their pool threads
by :mod:`tfthreads.catalog.releases`; this module only words it. TensorFlow is not imported here: the files were written by
the releases themselves.
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
    COUNTED_BY_NAME,
    FactOutcome,
    Release,
    changed,
    counted_by_name,
    fact_outcomes,
    read_release,
    release_key,
)
from tfthreads.catalog.facts import Observed
from tfthreads.catalog.releases import HIGHLIGHTS, NOT_RECORDED, highlight_values, naming_summary
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


def _joined(items: list[str]) -> str:
    """Join ``items`` as ``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def _versions(outcomes: list[FactOutcome]) -> str:
    return _joined([o.version for o in outcomes])


def _there(outcomes: list[FactOutcome]) -> str:
    return "on those releases" if len(outcomes) > 1 else "on that release"


def _keys(keys: tuple[str, ...]) -> str:
    return _joined([f"`{key}`" for key in keys])


def _parts(outcomes: list[FactOutcome]) -> list[str]:
    """MyST phrases, one per group of releases that showed the same for a fact."""
    # A holds shows its values only when every release holds and they changed (next to a
    # differs, the differs says what changed); a not observable never shows them, since
    # they say nothing about the pools.
    values_differ = changed(outcomes) and all(o.status != "differs" for o in outcomes)
    groups: dict[tuple[str, str, str, tuple[str, ...], str], list[FactOutcome]] = {}
    for outcome in outcomes:
        if outcome.status == "holds":
            seen = outcome.seen if values_differ else ""
        elif outcome.status == "not observable":
            seen = ""
        else:
            seen = outcome.seen
        key = (outcome.status, seen, outcome.expected, outcome.unobserved, outcome.why)
        groups.setdefault(key, []).append(outcome)
    parts = []
    for (status, seen, expected, unobserved, why), group in groups.items():
        versions = _versions(group)
        if status == "holds":
            parts.append(f"holds on TensorFlow {versions}" + (f" (`{seen}`)" if seen else ""))
        elif status == "differs":
            part = f"differs on {versions}: observed `{seen}` where the claim implies `{expected}`"
            if unobserved:
                part += (
                    ", and its values that depend on telling pool threads apart by name "
                    f"({_keys(unobserved)}) are not observable {_there(group)}, since {why}"
                )
            parts.append(part)
        elif status == "not observable":
            parts.append(
                f"not observable on {versions}: its values ({_keys(unobserved)}) depend on "
                f"telling pool threads apart by name, and {_there(group)} {why}"
            )
        elif status == "undecided":
            text = seen.replace("`", "'")
            parts.append(f"not decided on the machine that ran {versions} (`{text}`)")
        elif status == "unavailable":
            reason = seen.replace("`", "'")
            parts.append(f"not available on {versions}: the probe could not run (`{reason}`)")
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
    # A holds with other values on another release: the parts show the values.
    verdict = ""
    if changed(outcomes) and all(o.status != "differs" for o in outcomes):
        verdict = "; the observed values changed between releases"
    return f"{{doc}}`Release matrix <{SUMMARY_PAGE}>`: {'; '.join(_parts(outcomes))}{verdict}."


#: A zero-width space: a break opportunity after each dot of a long entry name.
_BREAK = "\u200b"

#: Column headings of the outcomes table, by status, in the order shown.
_STATUS_HEADINGS = {
    "holds": "Holds",
    "differs": "Differs",
    "not observable": "Not observable",
    "undecided": "Not decided on its machine",
    "unavailable": "Probe could not run",
    "missing": "Not recorded",
}


def _observed_facts() -> list[tuple[str, Observed]]:
    """Every observed fact with the name shown for it: ``entry (first field)``."""
    return [
        (f"{setting.name.replace('.', '.' + _BREAK)} ({fact.fields[0]})", fact)
        for setting in catalog.CATALOG
        for fact in setting.facts
        if isinstance(fact, Observed)
    ]


def _sentence(parts: list[str]) -> str:
    shown = "; ".join(parts)
    return shown[:1].upper() + shown[1:] + "."


class ReleaseMatrix(SphinxDirective):
    """``release-matrix``: the releases, their outcomes, what differs, what is not observable."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Build the summary from the files read when the build started."""
        note_catalog_dependency(self)
        for path in sorted(Path(self.env.srcdir, COMPAT_FOLDER).glob("*.jsonl")):
            self.env.note_dependency(str(path))
        if not _RELEASES:
            raise self.error(f"release-matrix: no release files under {COMPAT_FOLDER}/")
        facts = [(name, fact, fact_outcomes(fact, _RELEASES)) for name, fact in _observed_facts()]
        out: list[nodes.Node] = [
            nodes.rubric(text="Releases"),
            table(
                ["TensorFlow", "Ran on", "Date", "Probes that could not run"],
                _rows(),
                "release-matrix",
            ),
            nodes.rubric(text="Pool thread names, and behaviours side by side"),
            nodes.paragraph("", "", *render_inline(self, _names())),
            table(
                ["Behaviour", *(r.version for r in _RELEASES)],
                _highlights(),
                "release-matrix",
                literal_from=1,
            ),
            nodes.rubric(text="Outcomes per release"),
        ]
        out += self._tally(facts)
        out.append(nodes.rubric(text="Facts that differ between releases"))
        out += self._differing(facts)
        out.append(nodes.rubric(text="Facts not observable on some releases"))
        out += self._not_observable(facts)
        others = [
            (name, outcomes)
            for name, _, outcomes in facts
            if any(o.status in ("undecided", "unavailable", "missing") for o in outcomes)
        ]
        if others:
            out.append(nodes.rubric(text="Facts not decided, or whose probe could not run"))
            out.append(self._fact_table(others))
        out.append(nodes.rubric(text="Other probe outputs that differ between releases"))
        out += self._outputs()
        return out

    def _fact_table(self, rows: list[tuple[str, list[FactOutcome]]]) -> nodes.table:
        body: list[list[str | list[nodes.Node]]] = [
            [name, render_inline(self, _sentence(_parts(outcomes)))] for name, outcomes in rows
        ]
        return table(["Entry (field)", "What the releases showed"], body, "release-matrix")

    def _tally(self, facts: list[tuple[str, Observed, list[FactOutcome]]]) -> list[nodes.Node]:
        counts = {r.version: dict.fromkeys(_STATUS_HEADINGS, 0) for r in _RELEASES}
        for _, _, outcomes in facts:
            for outcome in outcomes:
                counts[outcome.version][outcome.status] += 1
        # The three outcomes always; the others only where some release has one.
        shown = [
            status
            for status in _STATUS_HEADINGS
            if status in ("holds", "differs", "not observable")
            or any(count[status] for count in counts.values())
        ]
        steady = sum(all(o.status == "holds" for o in outcomes) for _, _, outcomes in facts)
        intro = (
            f"Each of the {len(facts)} observed facts, on each release, holds, differs (the "
            "release behaved otherwise than the claim says, in a value tfthreads can observe "
            "there), or is not observable (the fact's values depend on thread names, such as "
            "which of a session's pools ran a step, and that release's own file does not "
            "show its inter-op pool threads with TensorFlow's names). "
            f"{steady} hold on every release."
        )
        return [
            nodes.paragraph(text=intro),
            table(
                ["TensorFlow", *(_STATUS_HEADINGS[status] for status in shown)],
                [[v, *(str(count[status]) for status in shown)] for v, count in counts.items()],
                "release-matrix",
            ),
        ]

    def _differing(self, facts: list[tuple[str, Observed, list[FactOutcome]]]) -> list[nodes.Node]:
        rows = [
            (name, outcomes)
            for name, _, outcomes in facts
            if changed(outcomes) or any(o.status == "differs" for o in outcomes)
        ]
        intro = (
            f"{len(rows)} observed facts differ on some release from what the claim says, "
            "or hold with other values on different releases. Each line gives what was "
            "observed and what the claim implies."
        )
        body: list[nodes.Node] = [nodes.paragraph(text=intro)]
        if rows:
            body.append(self._fact_table(rows))
        return body

    def _not_observable(
        self, facts: list[tuple[str, Observed, list[FactOutcome]]]
    ) -> list[nodes.Node]:
        """One paragraph per reason and set of releases, then the facts it covers."""
        groups: dict[tuple[str, tuple[str, ...]], list[list[str | list[nodes.Node]]]] = {}
        partly = 0
        for name, fact, outcomes in facts:
            blind = [o for o in outcomes if o.status == "not observable"]
            partly += any(o.status == "differs" and o.unobserved for o in outcomes)
            if not blind:
                continue
            elsewhere = [o for o in outcomes if o.status != "not observable"]
            key = (blind[0].why, tuple(o.version for o in blind))
            groups.setdefault(key, []).append(
                [
                    name,
                    render_inline(self, _keys(counted_by_name(fact))),
                    render_inline(self, _sentence(_parts(elsewhere)) if elsewhere else "-"),
                ]
            )
        total = sum(len(rows) for rows in groups.values())
        intro = (
            f"{total} observed facts are not observable on some release: their values "
            "there are read from threads told apart by a name that release does not give them."
        )
        if partly:
            intro += (
                f" {partly} more differ on such a release in a value that can be observed "
                "there; they are listed above, with the values that cannot."
            )
        body: list[nodes.Node] = [nodes.paragraph(text=intro)]
        for (why, versions), rows in groups.items():
            there = "those releases" if len(versions) > 1 else "that release"
            text = (
                f"On {_joined(list(versions))}, {why}. So the {len(rows)} facts below, whose "
                "values depend on telling pool threads apart by name, are not observable on "
                f"{there}; the second column names those values."
            )
            body.append(nodes.paragraph("", "", *render_inline(self, text)))
            body.append(
                table(
                    [
                        "Entry (field)",
                        "Values read by thread name",
                        "On the other releases",
                    ],
                    rows,
                    "release-matrix",
                )
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
                values = [r.data.get(probe, {}).get(key, NOT_RECORDED) for r in _RELEASES]
                # Timings (floats) differ from run to run; they are not behaviour.
                if (probe, key) in checked or key == "tensorflow_version":
                    continue
                if any(isinstance(v, float) for v in values):
                    continue
                if len({json.dumps(v) for v in values}) > 1:
                    # Such a value differs where pools are unnamed without TensorFlow changing.
                    mark = " (read by thread name)" if key in COUNTED_BY_NAME.get(probe, ()) else ""
                    rows.append([f"{probe}: {key}{mark}", *(_short(v) for v in values)])
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
    """Word on which releases pool threads carry TensorFlow's names (:func:`naming_summary`)."""
    summary = naming_summary(_RELEASES)
    sentences = []
    if summary.named:
        sentences.append(
            f"On {_joined(list(summary.named))}, the threads that ran a session's steps on its "
            f"inter-op pools were named {_joined([f'`{n}`' for n in summary.names])}."
        )
    for group in summary.unnamed:
        there = "those releases" if len(group.versions) > 1 else "that release"
        # Unnamed (known False): say what the inventory then does with those threads.
        counted = (
            f" On {there}, tfthreads tells the intra-op and inter-op pools apart by what their "
            "threads run ({py:mod}`tfthreads.pool_identity`), so the pools' sizes are "
            "observed there too, but"
            if group.known is False
            else f" On {there},"
        )
        sentences.append(
            f"On {_joined(list(group.versions))}, {group.why}.{counted} the facts whose values "
            "depend on telling pool threads apart by name are not observable."
        )
    if summary.session_new_threads is not None:
        sentences.append(
            f"A session starts {summary.session_new_threads} new threads on every release: the "
            "threads are there, their names differ."
        )
    return " ".join(sentences)


def _highlights() -> list[list[str]]:
    return [
        [
            highlight.label,
            *(
                ", ".join(_short(value) for value in highlight_values(highlight, release))
                for release in _RELEASES
            ),
        ]
        for highlight in HIGHLIGHTS
    ]


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def setup(app: Sphinx) -> ExtensionMetadata:
    """Read the release files when the build starts; register ``release-matrix``."""
    app.connect("builder-inited", _read)
    app.connect("env-get-outdated", _outdated)
    app.add_directive("release-matrix", ReleaseMatrix)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
