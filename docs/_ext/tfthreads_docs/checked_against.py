"""The ``checked-against`` directive: which TensorFlow the page was checked with.

The installed version comes from :func:`tfthreads.provenance.installed_tensorflow_version`,
which reads package metadata for the library's one list of TensorFlow distributions;
TensorFlow itself is never imported here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.provenance import TENSORFLOW_DISTRIBUTIONS, installed_tensorflow_version

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = [
    "CheckedAgainst",
    "catalog_tensorflow_versions",
    "setup",
]

logger = logging.getLogger(__name__)

_VERSION_IN_SOURCE = re.compile(r"\(v(\d+\.\d+\.\d+)\)")


def catalog_tensorflow_versions() -> set[str]:
    """Return the TensorFlow versions named in the catalog's ``source`` fields.

    Examples
    --------
    >>> "2.21.0" in catalog_tensorflow_versions()
    True
    """
    return {m.group(1) for s in catalog.CATALOG for m in _VERSION_IN_SOURCE.finditer(s.source)}


class CheckedAgainst(SphinxDirective):
    """Render "This page was checked against TensorFlow X.Y.Z" for the installed version."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Build the paragraph."""
        installed = installed_tensorflow_version()
        paragraph = nodes.paragraph(classes=["checked-against"])
        if installed is None:
            logger.warning(
                "checked-against: none of the TensorFlow distributions "
                f"{', '.join(TENSORFLOW_DISTRIBUTIONS)} is installed",
                location=self.get_location(),
            )
            paragraph += nodes.Text("This page was not checked against an installed TensorFlow.")
            return [paragraph]
        paragraph += nodes.Text(
            f"This page was checked against TensorFlow {installed}: "
            "its examples run with sphinx-build -b doctest against that version."
        )
        read = sorted(catalog_tensorflow_versions() - {installed})
        if read:
            paragraph += nodes.Text(
                f" The catalog facts without an example were read from TensorFlow "
                f"{', '.join(read)}."
            )
        return [paragraph]


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register ``checked-against``."""
    app.add_directive("checked-against", CheckedAgainst)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
