"""Search that finds a name inside a longer name: identifiers are indexed with their parts.

Sphinx's search keeps ``set_inter_op_parallelism_threads`` and
``inter_op_parallelism_threads`` as separate terms, and adds partial matches only when
a term is missing from the whole index; so searching the field skipped every page that
names only its setter, environment variable or Serving flag. The English splitter here
also indexes each run of an identifier's ``_``-separated parts
(``inter_op_parallelism_threads``, ``op_parallelism``, ``threads``...), so the exact
term a reader types is in the index for every page whose names contain it. The query
side is Sphinx's own: its search page splits a query at characters other than letters,
digits and ``_``, and stems each word as the index was stemmed.

Words alone rank every page that contains them alike. What a setting's section answers,
:func:`search_entries` takes from the catalog: its name, its TF2 setter, the
``RuntimeError`` messages it raises and the names of the threads it starts. Each becomes
a main index entry pointing at the section (``index_node``); Sphinx's search ranks a
main index entry that contains the query (and is at most twice its length) above any
page that merely has its words, and the general index lists them too.

Read the Docs' search (its Addons search, server side) answers on the hosted site instead
of this index unless the Search addon is turned off in the project's settings; the
search page of the built site (``search.html``) always uses this index.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sphinx import addnodes
from sphinx.search.en import SearchEnglish

from tfthreads.catalog import Setting
from tfthreads_docs.layout import setting_label
from tfthreads_docs.mentions import tf2_setter

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["SearchIdentifiers", "identifier_parts", "index_node", "search_entries", "setup"]

# An error message the catalog quotes, and the thread names it gives.
_ERROR = re.compile(r"`RuntimeError: ([^`]+?)\.?`")
_THREAD_NAME = re.compile(r"\bnamed `?(tf_\w+)")
#: The catalog's texts that quote errors and thread names.
_TEXTS = ("summary", "freezes", "notes", "read_when", "resolution")


def identifier_parts(word: str) -> list[str]:
    """Return every run of the ``_``-separated parts of ``word``, except ``word`` itself.

    Examples
    --------
    >>> identifier_parts("set_inter_op_parallelism_threads")[:6]
    ['set', 'set_inter', 'set_inter_op', 'set_inter_op_parallelism', 'inter', 'inter_op']
    >>> "inter_op_parallelism_threads" in identifier_parts("set_inter_op_parallelism_threads")
    True
    >>> identifier_parts("tf_Compute")
    ['tf', 'Compute']
    >>> identifier_parts("threads")
    []
    """
    parts = [part for part in word.split("_") if part]
    runs = [
        "_".join(parts[start:end])
        for start in range(len(parts))
        for end in range(start + 1, len(parts) + 1)
    ]
    return [run for run in runs if run != word]


def search_entries(setting: Setting) -> list[str]:
    """Return what a reader may search for that the setting's section answers.

    Examples
    --------
    >>> from tfthreads import catalog
    >>> search_entries(catalog.get("ConfigProto.inter_op_parallelism_threads"))
    ['ConfigProto.inter_op_parallelism_threads', \
'tf.config.threading.set_inter_op_parallelism_threads', \
'Inter op parallelism cannot be modified after initialization', 'tf_Compute']
    """
    text = " ".join(str(getattr(setting, field) or "") for field in _TEXTS)
    entries = [setting.name]
    setter = tf2_setter(setting)
    if setter:
        entries.append(setter)
    entries += _ERROR.findall(text)
    entries += _THREAD_NAME.findall(text)
    return list(dict.fromkeys(entries))


def index_node(setting: Setting) -> addnodes.index:
    """Return the index entries of :func:`search_entries`, pointing at the section."""
    target = setting_label(setting.name)
    entries = [("single", entry, target, "main", None) for entry in search_entries(setting)]
    return addnodes.index(entries=entries)


class SearchIdentifiers(SearchEnglish):
    """English search whose index also holds the parts of every identifier."""

    def split(self, input: str) -> list[str]:
        """Split text into words, adding each word's identifier parts after it."""
        words = super().split(input)
        return [*words, *(part for word in words if "_" in word for part in identifier_parts(word))]


def setup(app: Sphinx) -> ExtensionMetadata:
    """Index English pages with :class:`SearchIdentifiers`."""
    app.add_search_language(SearchIdentifiers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
