"""What every catalog directive needs: MyST rendering and rebuild dependencies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog

__all__ = ["catalog_files", "note_catalog_dependency", "render_inline", "table"]


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
