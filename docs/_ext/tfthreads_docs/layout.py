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

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["note_documented", "setting_label", "setting_reference", "undocumented"]

logger = logging.getLogger(__name__)

#: Attribute of the build environment: catalog name -> docname of its facts block.
_ENV_KEY = "tfthreads_documented"


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


def _documented(env: BuildEnvironment) -> dict[str, str]:
    if not hasattr(env, _ENV_KEY):
        setattr(env, _ENV_KEY, {})
    found: dict[str, str] = getattr(env, _ENV_KEY)
    return found


def note_documented(env: BuildEnvironment, name: str, location: Any) -> None:
    """Record that the page being read documents ``name``; warn if another page does."""
    documented = _documented(env)
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


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    documented = _documented(env)
    for name in [n for n, page in documented.items() if page == docname]:
        del documented[name]


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    theirs = _documented(other)
    _documented(env).update({n: page for n, page in theirs.items() if page in docnames})


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    for name in undocumented(_documented(env), catalog.CATALOG):
        logger.warning(
            "catalog entry %s has no setting-facts section on any page "
            "(add ```{setting-facts} %s``` under a (%s)= section)",
            name,
            name,
            setting_label(name),
        )


def setup(app: Sphinx) -> ExtensionMetadata:
    """Track which page documents each entry, and check the whole catalog is covered."""
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
