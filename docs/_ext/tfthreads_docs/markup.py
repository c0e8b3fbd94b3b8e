"""What every catalog directive needs: MyST rendering, rebuild dependencies, page records."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

__all__ = ["PageRecords", "catalog_files", "note_catalog_dependency", "render_inline", "table"]


def catalog_files() -> list[Path]:
    """Return the files whose change must rebuild every page that renders catalog entries."""
    package = Path(catalog.__file__).parent
    return [*sorted(package.glob("*.py")), *sorted(Path(__file__).parent.glob("*.py"))]


def note_catalog_dependency(directive: SphinxDirective) -> None:
    """Rebuild the directive's page when the catalog or this extension changes."""
    for path in catalog_files():
        directive.env.note_dependency(str(path))


def render_inline(directive: SphinxDirective, text: str) -> list[nodes.Node]:
    """Parse catalog text (MyST Markdown in a ``.md`` page) into inline nodes.

    The parser is the page's own, so backticks become code, and anything else the
    page's markup language means is honoured; nothing is guessed from the text.
    """
    parsed, messages = directive.parse_inline(text, lineno=directive.lineno)
    return [*parsed, *messages]


def table(
    head: list[str],
    body: Sequence[Sequence[str | list[nodes.Node]]],
    kind: str,
    *,
    literal_from: int | None = None,
) -> nodes.table:
    """Build a table with a header row, of class ``<kind>-table``.

    A cell is plain text, or inline nodes (rendered MyST). Text cells of the body from
    column ``literal_from`` on are code (values, not prose: no smart quotes).
    """
    out = nodes.table(classes=[f"{kind}-table"])
    group = nodes.tgroup(cols=len(head))
    out += group
    group.extend(nodes.colspec(colwidth=1) for _ in head)
    thead, tbody = nodes.thead(), nodes.tbody()
    group += thead
    group += tbody
    rows: list[tuple[Sequence[str | list[nodes.Node]], nodes.Element]] = [(head, thead)]
    rows += [(cells, tbody) for cells in body]
    for cells, parent in rows:
        row = nodes.row()
        for index, cell in enumerate(cells):
            code = parent is tbody and literal_from is not None and index >= literal_from
            if isinstance(cell, list):
                inline = cell
            else:
                inline = [nodes.literal(cell, cell) if code else nodes.Text(cell)]
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *inline)
            row += entry
        parent.append(row)
    return out


class PageRecords:
    """Names recorded by the page that mentions them, kept on the build environment.

    The record survives incremental builds (the environment is pickled), forgets a page
    that is read again, and merges the records of parallel readers.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def of(self, env: BuildEnvironment) -> dict[str, str]:
        """Return the record: name -> the page that recorded it."""
        if not hasattr(env, self.key):
            setattr(env, self.key, {})
        record: dict[str, str] = getattr(env, self.key)
        return record

    def connect(self, app: Sphinx) -> None:
        """Forget a page when it is read again; merge what parallel readers recorded."""
        app.connect("env-purge-doc", self._purge)
        app.connect("env-merge-info", self._merge)

    def _purge(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        record = self.of(env)
        for name in [n for n, page in record.items() if page == docname]:
            del record[name]

    def _merge(
        self, app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
    ) -> None:
        theirs = self.of(other)
        self.of(env).update({n: page for n, page in theirs.items() if page in docnames})
