"""Observed facts on the site: run the catalog's probes, check the claims, count coverage.

At ``builder-inited`` of an HTML build, :func:`tfthreads.catalog.observe.check` runs
the probes the catalog names (in child processes, two at a time, cached under
``_build/probe-cache`` by machine fingerprint and each probe's source; TensorFlow never
enters this process). A claim contradicted twice (the first contradiction is observed
again in a fresh process) is a warning naming entry, claim, probe, observation and how to
run the probe again, so ``-W`` fails the build; so is a fact field that nothing backs (no
probe, and no citation that says why it cannot be observed). A claim this machine did
not decide is shown as not decided on its page, and does not fail the build. Other builders (doctest, linkcheck) run
no probe and show the facts as not observed in that build.

:func:`fact_lines` gives the "Observed on ..." and "Cited: ..." lines that
``setting-facts`` puts under each field, and the ``fact-coverage`` directive counts, for
the page's entries, how many facts were observed and how many cited; with ``:all:`` it
adds a table of observed / cited / total per reference page.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.catalog.facts import Cited, Observed, contradiction, undecided
from tfthreads.catalog.model import Setting
from tfthreads.catalog.observe import check, coverage, unbacked
from tfthreads_docs.releases import release_line

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["FactCoverage", "fact_lines", "observations", "setup"]

logger = logging.getLogger(__name__)

#: Probe data of this build, by probe name; empty when no probe ran.
_OBSERVATIONS: dict[str, dict[str, Any]] = {}
_ENV_KEY = "tfthreads_observations_hash"


def observations() -> dict[str, dict[str, Any]]:
    """Return the probe data of this build (empty for builders that run no probe)."""
    return _OBSERVATIONS


def _run_probes(app: Sphinx) -> None:
    """``builder-inited``: observe, then warn once per claim contradicted twice.

    :func:`tfthreads.catalog.observe.check` observes a contradicted probe again before
    calling it a problem and never caches a doubtful result, so a failed build observes
    afresh next time. A claim this machine did not decide is logged, not a warning: the
    page says so next to it.
    """
    _OBSERVATIONS.clear()
    if app.builder.format != "html":
        return
    cache = Path(app.outdir).parent / "probe-cache"
    checked = check(catalog.CATALOG, cache_dir=cache)
    _OBSERVATIONS.update(checked.observations)
    for line in checked.undecided:
        logger.info(f"tfthreads: {line}")
    for problem in checked.problems:
        logger.warning(problem, type="tfthreads", subtype="contradiction")
    for field in unbacked(catalog.CATALOG):
        logger.warning(
            f"{field}: no probe observes it and no citation says why it cannot be observed",
            type="tfthreads",
            subtype="unbacked",
        )


def _outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Re-read every page when the observations differ from those the pages show."""
    digest = hashlib.sha256(json.dumps(_OBSERVATIONS, sort_keys=True).encode()).hexdigest()
    if getattr(env, _ENV_KEY, None) == digest:
        return []
    setattr(env, _ENV_KEY, digest)
    return sorted(env.found_docs - added - changed - removed)


def fact_lines(setting: Setting, field: str) -> list[tuple[str, str]]:
    """Return ``(kind, MyST text)`` for each fact backing ``field`` of ``setting``.

    ``kind`` is ``"observed"``, ``"unobserved"`` (a probe that did not run in this build),
    ``"releases"`` (what each release of the committed release matrix showed, after the
    observation) or ``"cited"``; a contradicted observation is shown as what was seen.
    """
    lines = []
    for fact in setting.facts:
        if field not in fact.fields:
            continue
        if fact.fields[0] != field:
            continue  # a fact backing several fields is shown once, under the first
        if isinstance(fact, Observed):
            data = _OBSERVATIONS.get(fact.probe)
            if data is None:
                lines.append(("unobserved", "Checked by a probe when the HTML site is built."))
            else:
                where = (
                    f"Observed on TensorFlow {data.get('tensorflow_version', _version())}, "
                    f"the machine that built this page ({data['cpus']} CPUs)"
                )
                broken = contradiction(setting.name, field, "", fact, data)
                mark = " (contradicts the claim above)" if broken else ""
                if undecided(fact, data):
                    mark = " (so this build neither confirms nor contradicts the claim above)"
                elif data.get("cpus") == 1 and any(
                    value == "{several_cpus}" for _, value in fact.expect
                ):
                    mark = " (as expected with one CPU: what the claim describes needs two or more)"
                lines.append(("observed", f"{where}: {fact.shows.format(**data)}{mark}."))
            across = release_line(fact)
            if across is not None:
                lines.append(("releases", across))
        elif isinstance(fact, Cited):
            why = f" (not observed here: {fact.why_not_observed})" if fact.why_not_observed else ""
            link = f"[`{fact.path}` at {fact.short_ref}]({fact.url})"
            lines.append(("cited", f"Cited{why}: {link}."))
    return lines


def _version() -> str:
    runtime = _OBSERVATIONS.get("runtime", {})
    return str(runtime.get("tensorflow_version", "the installed version"))


class fact_coverage(nodes.General, nodes.Element):
    """Placeholder replaced once every page's entries are known."""


class FactCoverage(SphinxDirective):
    """``fact-coverage``: observed/cited counts for this page's entries or ``:all:``."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"all": directives.flag}

    def run(self) -> list[nodes.Node]:
        """Return the placeholder."""
        node = fact_coverage(scope="all" if "all" in self.options else self.env.docname)
        return [node]


def coverage_counts(names: list[str]) -> dict[str, int]:
    """Count the fact fields of the named entries by how they are backed in this build.

    Returns
    -------
    dict
        ``observed``, ``cited`` (with a reason), ``neither`` and ``total``. A field whose
        probe did not run in this build (a non-HTML builder) counts as cited when a
        reasoned citation also backs it, else as neither.
    """
    counts = {"observed": 0, "cited": 0, "neither": 0, "total": 0}
    for name in names:
        setting = catalog.get(name)
        for field, backing in coverage(setting).items():
            kind = backing
            if kind == "observed" and not any(
                isinstance(f, Observed) and f.probe in _OBSERVATIONS and field in f.fields
                for f in setting.facts
            ):
                reasoned = any(
                    isinstance(f, Cited) and f.why_not_observed and field in f.fields
                    for f in setting.facts
                )
                kind = "cited" if reasoned else None
            counts[kind or "neither"] += 1
            counts["total"] += 1
    return counts


def _summary(counts: dict[str, int], where: str, settings: int) -> str:
    return (
        f"Facts {where}: {counts['observed']} of {counts['total']} observed on this build, "
        f"{counts['cited']} cited from TensorFlow source at a pinned version (each says why "
        f"a CPU machine cannot show it), {counts['neither']} neither ({settings} settings)."
    )


_COLUMNS = ("observed", "cited", "neither", "total")


def _coverage_table(app: Sphinx, docname: str, documented: dict[str, str]) -> nodes.table:
    """Observed / cited / neither / total per page that documents entries, then all pages."""
    pages: dict[str, list[str]] = {}
    for name, page in sorted(documented.items(), key=lambda item: item[1]):
        pages.setdefault(page, []).append(name)
    rows: list[tuple[nodes.Node, dict[str, int]]] = []
    for page, names in pages.items():
        title = app.env.titles[page].astext() if page in app.env.titles else page
        link = nodes.reference("", title, internal=True)
        link["refuri"] = app.builder.get_relative_uri(docname, page)
        rows.append((link, coverage_counts(names)))
    rows.append((nodes.strong("All", "All"), coverage_counts(list(documented))))
    table = nodes.table(classes=["fact-coverage-table"])
    group = nodes.tgroup(cols=1 + len(_COLUMNS))
    table += group
    group.extend(nodes.colspec(colwidth=w) for w in (40, 12, 12, 12, 12))
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    header = ["Page", "Observed", "Cited with reason", "Neither", "Total"]
    head += nodes.row("", *(nodes.entry("", nodes.paragraph(h, h)) for h in header))
    for first, counts in rows:
        cells = [nodes.entry("", nodes.paragraph("", "", first))]
        cells += [
            nodes.entry("", nodes.paragraph(str(counts[k]), str(counts[k]))) for k in _COLUMNS
        ]
        body += nodes.row("", *cells)
    return table


def _resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    documented: dict[str, str] = getattr(app.env, "tfthreads_documented", {})
    for node in list(doctree.findall(fact_coverage)):
        scope = node["scope"]
        names = [n for n, page in documented.items() if scope in ("all", page)]
        where = "in the reference" if scope == "all" else "on this page"
        text = _summary(coverage_counts(names), where, len(names))
        paragraph = nodes.paragraph(text, text, classes=["fact-coverage"])
        if scope == "all":
            node.replace_self([paragraph, _coverage_table(app, docname, documented)])
        else:
            node.replace_self(paragraph)


def setup(app: Sphinx) -> ExtensionMetadata:
    """Run the probes before reading, and register ``fact-coverage``."""
    app.connect("builder-inited", _run_probes)
    app.connect("env-get-outdated", _outdated)
    app.connect("doctree-resolved", _resolve)
    app.add_node(fact_coverage)
    app.add_directive("fact-coverage", FactCoverage)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
