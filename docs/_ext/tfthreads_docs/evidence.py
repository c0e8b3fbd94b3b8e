"""Which gallery examples are evidence for a setting.

A gallery example is evidence for a setting when its text links to the setting's
section (``:ref:`setting-...```); the reference page then links back to it, so the two
directions cannot drift apart. The gallery's folders are those sphinx-gallery is
configured with (``sphinx_gallery_conf["examples_dirs"]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["gallery_examples_citing", "gallery_folders", "gallery_label"]

# The label each example declares for itself, in its rST docstring.
_OWN_LABEL = re.compile(r"^\.\. _(gallery-[\w-]+):", re.MULTILINE)


def gallery_folders(config: Any, srcdir: str | Path, kind: str = "examples_dirs") -> list[Path]:
    """Return the example folders of the Sphinx ``config`` (none without sphinx-gallery).

    ``kind="gallery_dirs"`` gives the folders of the generated pages instead. Relative
    folders are relative to the source directory, as for sphinx-gallery.
    """
    conf = getattr(config, "sphinx_gallery_conf", None) or {}
    folders = conf.get(kind, [])
    if isinstance(folders, (str, Path)):
        folders = [folders]
    return [Path(srcdir, folder) for folder in folders]


def gallery_label(text: str) -> str | None:
    """Return the ``gallery-...`` label an example's source declares for itself, if any."""
    own = _OWN_LABEL.search(text)
    return own.group(1) if own else None


def gallery_examples_citing(label: str, folders: Iterable[Path]) -> list[tuple[Path, str]]:
    """Gallery scripts that cite ``label``, with each script's own label."""
    cites = re.compile(rf"`{re.escape(label)}`|<{re.escape(label)}>`")
    found = []
    for folder in folders:
        for script in sorted(folder.glob("plot_*.py")):
            text = script.read_text(encoding="utf-8")
            own = gallery_label(text)
            if own and cites.search(text):
                found.append((script, own))
    return found
