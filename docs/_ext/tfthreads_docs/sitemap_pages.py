"""Every page in the sitemap, after an incremental build too.

sphinx-sitemap lists the pages that this build wrote (it collects them as each page is
written), so a build that writes a few changed pages would leave a ``sitemap.xml`` of
those few. This module hands it, before it writes the file, the pages that were not
written again this time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["setup"]

#: Kept on the application: the pages written by this build.
_WRITTEN = "tfthreads_written_pages"


def _note_written(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    getattr(app, _WRITTEN).add(pagename)


def _add_unwritten(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or not hasattr(app.env.app, "sitemap_links"):
        return  # a failed build, or another builder than HTML
    from sphinx_sitemap import add_html_link

    for docname in sorted(app.env.found_docs - getattr(app, _WRITTEN)):
        add_html_link(app, docname, None, {}, None)


def _start(app: Sphinx) -> None:
    setattr(app, _WRITTEN, set())


def setup(app: Sphinx) -> ExtensionMetadata:
    """Count the pages written, and add the others before sphinx-sitemap writes its file."""
    app.connect("builder-inited", _start)
    app.connect("html-page-context", _note_written)
    # sphinx-sitemap writes the file at build-finished, default priority 500.
    app.connect("build-finished", _add_unwritten, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
