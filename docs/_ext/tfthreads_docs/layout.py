"""Where the site documents each catalog entry.

The library knows nothing about pages. The site decides: a page documents an entry by
holding its ``setting-facts`` block (the ``facts`` part), under a section labelled
:func:`setting_label`. This module gives the labels, builds links to them, remembers
which page holds which entry, and warns when an entry is documented twice or, on a site
that documents any entry, not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging

from tfthreads import catalog
from tfthreads.catalog import Setting
from tfthreads_docs.markup import PageRecords

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["note_documented", "setting_label", "setting_reference", "undocumented"]

logger = logging.getLogger(__name__)

#: Kept on the build environment: catalog name -> docname of its facts block.
_DOCUMENTED = PageRecords("tfthreads_documented")


def setting_label(name: str) -> str:
    """Return the cross-reference label of a setting's section.

    Examples
    --------
    >>> setting_label("ConfigProto.intra_op_parallelism_threads")
    'setting-configproto-intra-op-parallelism-threads'
    >>> setting_label("--tensorflow_session_parallelism")
    'setting-tensorflow-session-parallelism'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"setting-{slug}"


def setting_reference(fromdocname: str, setting: Setting) -> addnodes.pending_xref:
    """Return a link to the setting's section, showing its name as code."""
    ref = addnodes.pending_xref(
        "",
        refdomain="std",
        reftype="ref",
        reftarget=setting_label(setting.name),
        refexplicit=True,
        refwarn=True,
        refdoc=fromdocname,
    )
    ref += nodes.literal(setting.name, setting.name)
    return ref


def note_documented(env: BuildEnvironment, name: str, location: Any) -> None:
    """Record that the page being read documents ``name``; warn if another page does."""
    documented = _DOCUMENTED.of(env)
    other = documented.get(name)
    if other is not None and other != env.docname:
        logger.warning(
            "setting-facts: %s is already documented on %s", name, other, location=location
        )
        return
    documented[name] = env.docname


def undocumented(documented: Mapping[str, str], entries: Iterable[Setting]) -> list[str]:
    """Names of ``entries`` that no page documents, if the site documents any entry.

    A site without any setting section (a test site, say) is not held to the catalog.

    Examples
    --------
    >>> from tfthreads.catalog import CATALOG
    >>> undocumented({}, CATALOG)
    []
    >>> undocumented({"TF_NUM_INTRAOP_THREADS": "reference/environment"}, CATALOG[:1])
    ['ConfigProto.intra_op_parallelism_threads']
    """
    if not documented:
        return []
    return [s.name for s in entries if s.name not in documented]


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    for name in undocumented(_DOCUMENTED.of(env), catalog.CATALOG):
        logger.warning(
            "catalog entry %s has no setting-facts section on any page "
            "(add ```{setting-facts} %s``` under a (%s)= section)",
            name,
            name,
            setting_label(name),
        )


def setup(app: Sphinx) -> ExtensionMetadata:
    """Track which page documents each entry, and check the whole catalog is covered."""
    _DOCUMENTED.connect(app)
    app.connect("env-check-consistency", _check)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
