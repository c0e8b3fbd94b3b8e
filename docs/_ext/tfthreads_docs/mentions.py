"""Where else the site discusses each catalog entry: the "Mentioned in" field.

A page mentions a setting when its code (inline code, code blocks, gallery scripts) names
it by one of :func:`aliases`, or when it links to the setting's section. Every page read
is scanned once (``doctree-read``); the setting's section, the ``evidence`` part of
``setting-facts``, gets the list when its page is written (``doctree-resolved``), so a new
how-to shows up there without anyone editing the reference. The pages counted are those
under ``tfthreads_mention_folders`` (how-tos, explanations, tutorial, gallery).

A page that explains a pitfall of a setting says so in its front matter,
``pitfall-of: <catalog name>, ...``; the section lists it as "Pitfall explained in".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging

from tfthreads import catalog
from tfthreads.catalog import Kind, Setting
from tfthreads.errors import SettingError
from tfthreads_docs.layout import setting_label
from tfthreads_docs.markup import catalog_files

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["MentionsPlaceholder", "aliases", "mentioned_settings", "pitfall_pages", "tf2_setter"]

logger = logging.getLogger(__name__)

#: Kept on the build environment: docname -> catalog names its code or links mention.
_KEY = "tfthreads_mentions"
#: Kept on the build environment: docname -> catalog names its front matter's pitfall-of.
_PITFALL_KEY = "tfthreads_pitfalls"
_PITFALL_FIELD = "pitfall-of"

# Bare field names that other libraries use for their own things (threadpoolctl reports
# "num_threads"): code that says them is not about TensorFlow's thread pool options.
_COMMON_WORDS = frozenset({"num_threads", "global_name"})
# A TF2 path that is one TensorFlow call and nothing else: that call sets the entry.
_ONE_CALL = re.compile(r"`(tf\.[\w.]+)\([^`]*\)`")


class MentionsPlaceholder(nodes.General, nodes.Element):
    """Where the "Mentioned in" fields of one setting go once every page is read."""


def tf2_setter(setting: Setting) -> str | None:
    """Return the TensorFlow 2 function that sets ``setting`` and nothing else, if any.

    Environment variables share the setter of the field they stand for; it is the
    field's. A TF2 path that is prose or several calls names no setter of its own.

    Examples
    --------
    >>> tf2_setter(catalog.get("ConfigProto.inter_op_parallelism_threads"))
    'tf.config.threading.set_inter_op_parallelism_threads'
    >>> tf2_setter(catalog.get("ConfigProto.allow_soft_placement"))
    'tf.config.set_soft_device_placement'
    >>> tf2_setter(catalog.get("TF_NUM_INTEROP_THREADS")) is None
    True
    >>> tf2_setter(catalog.get("ConfigProto.device_count")) is None
    True
    """
    if setting.kind is Kind.ENV_VAR:
        return None
    one_call = _ONE_CALL.fullmatch(setting.tf2_path or "")
    return one_call.group(1) if one_call else None


@cache
def aliases(name: str) -> tuple[str, ...]:
    """Return the names under which code refers to the catalog entry ``name``.

    The full name; a protocol buffer field's own name (unless other libraries use it too);
    a tf.data option's attribute; the TensorFlow 2 function that sets it, with and without
    its module.

    Examples
    --------
    >>> aliases("ConfigProto.inter_op_parallelism_threads")
    ('ConfigProto.inter_op_parallelism_threads', 'inter_op_parallelism_threads', \
'tf.config.threading.set_inter_op_parallelism_threads', 'set_inter_op_parallelism_threads')
    >>> aliases("tf.data.Options.threading.private_threadpool_size")
    ('tf.data.Options.threading.private_threadpool_size', 'private_threadpool_size')
    >>> aliases("TF_NUM_INTEROP_THREADS")
    ('TF_NUM_INTEROP_THREADS',)
    >>> aliases("ThreadPoolOptionProto.num_threads")
    ('ThreadPoolOptionProto.num_threads',)
    """
    setting = catalog.get(name)
    found = [setting.name]
    if setting.kind is Kind.PROTO_FIELD and setting.field and setting.field not in _COMMON_WORDS:
        found.append(setting.field)
    if setting.kind is Kind.TF_DATA_OPTION:
        found.append(setting.name.rsplit(".", 1)[1])
    setter = tf2_setter(setting)
    if setter:
        found += [setter, setter.rsplit(".", 1)[1]]
    return tuple(dict.fromkeys(found))


@cache
def _owner_of_alias() -> dict[str, str]:
    return {alias: setting.name for setting in catalog.CATALOG for alias in aliases(setting.name)}


@cache
def _pattern() -> re.Pattern[str]:
    # Longest first, so that set_inter_op_parallelism_threads wins over its tail.
    ordered = sorted(_owner_of_alias(), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ordered)) + r")(?!\w)")


def mentioned_settings(code: str) -> set[str]:
    """Return the catalog names that a piece of code names.

    Examples
    --------
    >>> sorted(mentioned_settings("tf.config.threading.set_inter_op_parallelism_threads(1)"))
    ['ConfigProto.inter_op_parallelism_threads']
    >>> sorted(mentioned_settings("TF_NUM_INTRAOP_THREADS=2 options.threading.private_threadpool_size"))
    ['TF_NUM_INTRAOP_THREADS', 'tf.data.Options.threading.private_threadpool_size']
    >>> mentioned_settings("my_inter_op_parallelism_threads_copy")
    set()
    """
    owners = _owner_of_alias()
    return {owners[match] for match in _pattern().findall(code)}


def _labels() -> dict[str, str]:
    return {setting_label(setting.name): setting.name for setting in catalog.CATALOG}


def _scan(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    # What counts as a mention follows the catalog: scan again when it changes.
    for path in catalog_files():
        env.note_dependency(str(path))
    found: set[str] = set()
    for node in doctree.findall(nodes.literal_block):
        found |= mentioned_settings(node.astext())
    for inline in doctree.findall(nodes.literal):
        found |= mentioned_settings(inline.astext())
    labels = _labels()
    for ref in doctree.findall(addnodes.pending_xref):
        name = labels.get(ref.get("reftarget", ""))
        if name:
            found.add(name)
    _record(env, _KEY)[env.docname] = found
    _record(env, _PITFALL_KEY)[env.docname] = _pitfalls_declared(env, doctree)


def _pitfalls_declared(env: BuildEnvironment, doctree: nodes.document) -> set[str]:
    declared = env.metadata.get(env.docname, {}).get(_PITFALL_FIELD)
    if not declared:
        return set()
    names = set()
    for name in str(declared).split(","):
        try:
            names.add(catalog.get(name.strip()).name)
        except SettingError as error:
            logger.warning("%s: %s", _PITFALL_FIELD, error, location=(env.docname, 1))
    return names


def _record(env: BuildEnvironment, key: str) -> dict[str, set[str]]:
    if not hasattr(env, key):
        setattr(env, key, {})
    record: dict[str, set[str]] = getattr(env, key)
    return record


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    for key in (_KEY, _PITFALL_KEY):
        _record(env, key).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: Any) -> None:
    for key in (_KEY, _PITFALL_KEY):
        theirs = _record(other, key)
        _record(env, key).update({doc: names for doc, names in theirs.items() if doc in docnames})


def _counted(app: Sphinx, docname: str) -> bool:
    folders = app.config.tfthreads_mention_folders
    return any(docname.startswith(f"{folder}/") for folder in folders) and not docname.endswith(
        "/index"
    )


def pages_mentioning(app: Sphinx, name: str, own_page: str) -> list[str]:
    """Return the counted pages whose code or links mention ``name``, in site order."""
    record = _record(app.env, _KEY)
    pages = [
        doc
        for doc, names in record.items()
        if name in names and doc != own_page and _counted(app, doc)
    ]
    return _in_site_order(app, pages)


def pitfall_pages(app: Sphinx, name: str) -> list[str]:
    """Return the pages whose front matter declares a pitfall of ``name``."""
    record = _record(app.env, _PITFALL_KEY)
    return _in_site_order(app, [doc for doc, names in record.items() if name in names])


def _in_site_order(app: Sphinx, pages: Iterable[str]) -> list[str]:
    folders = list(app.config.tfthreads_mention_folders)
    return sorted(pages, key=lambda doc: (folders.index(doc.split("/", 1)[0]), doc))


def _links(app: Sphinx, fromdocname: str, pages: list[str]) -> nodes.paragraph:
    paragraph = nodes.paragraph()
    for index, doc in enumerate(pages):
        if index:
            paragraph += nodes.Text(", ")
        title = app.env.titles[doc].astext() if doc in app.env.titles else doc
        uri = app.builder.get_relative_uri(fromdocname, doc)
        paragraph += nodes.reference("", title, internal=True, refuri=uri, classes=["mention"])
    return paragraph


def _field(name: str, body: nodes.paragraph) -> nodes.field:
    field = nodes.field(classes=["setting-mentions"])
    field += nodes.field_name(name, name)
    field_body = nodes.field_body()
    field_body += body
    field += field_body
    return field


def _fill(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    for placeholder in list(doctree.findall(MentionsPlaceholder)):
        name = placeholder["setting"]
        fields = []
        pitfalls = pitfall_pages(app, name)
        if pitfalls:
            fields.append(_field("Pitfall explained in", _links(app, fromdocname, pitfalls)))
        mentioned = pages_mentioning(app, name, fromdocname)
        if mentioned:
            fields.append(_field("Mentioned in", _links(app, fromdocname, mentioned)))
        field_list = placeholder.parent
        placeholder.replace_self(fields)
        if isinstance(field_list, nodes.field_list) and not field_list.children:
            field_list.parent.remove(field_list)


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    # A pitfall page must say which setting it is about in words a reader can follow.
    mentions = _record(env, _KEY)
    for doc, names in _record(env, _PITFALL_KEY).items():
        for name in sorted(names - mentions.get(doc, set())):
            logger.warning(
                "%s: the page declares a pitfall of %s but never names it in code "
                "or links to its section",
                _PITFALL_FIELD,
                name,
                location=(doc, 1),
            )


def _reread_sections(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    # The lists on a reference page follow other pages: rewrite it when any page changed.
    if not (added or changed or removed):
        return []
    placeholder_pages = getattr(env, "tfthreads_documented", {}).values()
    return sorted(set(placeholder_pages) - added - changed)


def setup(app: Sphinx) -> ExtensionMetadata:
    """Scan every page for settings; fill the sections' lists when pages are written."""
    app.add_config_value(
        "tfthreads_mention_folders",
        ("how-to", "explanation", "tutorial", "gallery"),
        "env",
        types=frozenset({tuple, list}),
    )
    app.add_node(MentionsPlaceholder)
    app.connect("doctree-read", _scan)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-outdated", _reread_sections)
    app.connect("env-check-consistency", _check)
    app.connect("doctree-resolved", _fill)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
