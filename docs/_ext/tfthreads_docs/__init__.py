"""Sphinx extension that puts :mod:`tfthreads.catalog` and the gallery on the site.

The catalog is the one source of truth for what each TensorFlow setting is, how its
values resolve and when it freezes; the site owns where each entry is documented. One
module per job:

``layout``
    Labels of the setting sections, links to them, and the check that each catalog
    entry is documented on exactly one page.
``facts``
    Running the catalog's probes, failing on a contradicted claim, and the
    ``fact-coverage`` counts.
``releases``
    The release matrix: what each committed TensorFlow release showed per fact, and
    the ``release-matrix`` summary.
``setting_facts``
    The ``setting-facts`` directive: one part of a catalog entry as a field list.
``crosswalk``
    The ``crosswalk`` directive: one table row per setting and its counterparts.
``evidence``
    Which gallery examples cite a setting (the "Measured in" links).
``mentions``
    Where else the site discusses each setting (the "Mentioned in" and "Pitfall
    explained in" links), from every page's code and links.
``code_links``
    Names in code linked to their documentation (sphinx-codeautolink), TensorFlow's
    setters to the catalog's sections.
``search``
    The search index: identifiers are indexed with their parts, so that a name is found
    inside a longer name.
``sitemap_pages``
    Every page in ``sitemap.xml``, after an incremental build too.
``config_bytes``
    The ``config-bytes`` directive: serialized ``ConfigProto`` bytes for the C API,
    made by TensorFlow in a child process.
``checked_against``
    The ``checked-against`` directive: the TensorFlow version the page was checked with.
``results``
    The ``results-file`` directive: results files from other machines under
    ``docs/results/``, checked when the build starts.
``gallery_support``
    Re-running the gallery when the machine changes, and refusing TensorFlow in the
    Sphinx process.
``tutorial_steps``
    The ``tutorial-file``, ``tutorial-run`` and ``tutorial-machine`` directives: each
    tutorial step run in a fresh process while the HTML site is built, its real output
    shown and checked, and cached per machine.

TensorFlow itself is never imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["setup"]

_MODULES = (
    "layout",
    "releases",
    "facts",
    "mentions",
    "code_links",
    "setting_facts",
    "crosswalk",
    "config_bytes",
    "checked_against",
    "results",
    "gallery_support",
    "tutorial_steps",
    "search",
    "sitemap_pages",
)


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register every part of the extension."""
    for module in _MODULES:
        app.setup_extension(f"{__name__}.{module}")
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
