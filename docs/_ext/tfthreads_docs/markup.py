"""What every catalog directive needs: MyST rendering and rebuild dependencies."""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog

__all__ = ["catalog_files", "note_catalog_dependency", "render_inline"]


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
