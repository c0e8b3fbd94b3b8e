"""The ``setting-facts`` directive: one part of a catalog entry, as a field list.

``:part: facts`` (the default) gives what it controls, where it lives, type, default,
resolution, status, when it is read, when it freezes and the TensorFlow 2 path; a page
that shows this part is the page that documents the entry (see :mod:`.layout`).
``:part: notes`` gives the catalog's pitfalls; ``:part: evidence`` gives the gallery
examples that measure it, the source file and the related entries as links, then the
pages that mention it (:mod:`.mentions`).

The catalog's prose is MyST text and is parsed as such (:func:`.markup.render_inline`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.catalog import ONLY_COMPAT_V1, Kind, Setting
from tfthreads.catalog.facts import FACT_FIELDS
from tfthreads.errors import SettingError
from tfthreads_docs.code_links import note_setter
from tfthreads_docs.evidence import gallery_examples_citing, gallery_folders
from tfthreads_docs.facts import fact_lines
from tfthreads_docs.layout import note_documented, setting_label, setting_reference
from tfthreads_docs.markup import note_catalog_dependency, render_inline
from tfthreads_docs.mentions import MentionsPlaceholder
from tfthreads_docs.search import index_node

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["FIELD_NAMES", "PARTS", "SettingFacts", "setup"]

#: Parts of ``setting-facts`` and the fields each one shows, in order.
PARTS = {
    "facts": (
        "summary",
        "where",
        "type",
        "default",
        "resolution",
        "status",
        "read_when",
        "freezes",
        "tf2_path",
    ),
    "notes": ("notes",),
    "evidence": ("gallery", "source", "related"),
}

FIELD_NAMES = {
    "summary": "Controls",
    "where": "Where",
    "type": "Type",
    "default": "Default",
    "resolution": "0, negative, unset",
    "status": "Status",
    "read_when": "Read",
    "freezes": "Freezes",
    "tf2_path": "TF2 path",
    "notes": "Pitfalls (catalog)",
    "gallery": "Measured in",
    "source": "TensorFlow source",
    "related": "Related",
}

#: What the TF2 path field says for settings only ``tf.compat.v1`` reaches (MyST).
COMPAT_V1_ONLY_TEXT = (
    "None; TensorFlow 2 reaches it only through `tf.compat.v1` "
    "(a ConfigProto or RunOptions given to a `tf.compat.v1.Session`)."
)


def where(setting: Setting) -> str:
    """Return where the setting lives, as MyST text.

    Examples
    --------
    >>> where(catalog.get("ConfigProto.intra_op_parallelism_threads"))
    '`intra_op_parallelism_threads`, field 2 of the ConfigProto protocol buffer.'
    >>> where(catalog.get("TF_NUM_INTRAOP_THREADS"))
    'a environment variable.'
    """
    if setting.kind is Kind.PROTO_FIELD:
        message = (setting.message or "").removeprefix("tensorflow.")
        return f"`{setting.field}`, field {setting.field_number} of the {message} protocol buffer."
    return f"a {setting.kind.value}."


def status(setting: Setting) -> str | None:
    """Return the deprecation and stock-wheel status, or None when there is nothing to say."""
    words = []
    if setting.deprecated:
        words.append("Deprecated by TensorFlow.")
    if not setting.effective_in_stock_wheel:
        words.append("No effect on the thread pools of the stock pip wheel.")
    return " ".join(words) or None


class SettingFacts(SphinxDirective):
    """Render one part of a catalog entry as a field list."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "part": lambda arg: directives.choice(arg, tuple(PARTS))
    }

    def run(self) -> list[nodes.Node]:
        """Build the field list of the requested part."""
        note_catalog_dependency(self)
        name = self.arguments[0]
        try:
            setting = catalog.get(name)
        except SettingError as error:
            raise self.error(f"setting-facts: {error}") from None
        if setting.name != name:
            raise self.error(f"setting-facts: use the full catalog name {setting.name!r}")
        part = self.options.get("part", "facts")
        out: list[nodes.Node] = []
        if part == "facts":
            note_documented(self.env, setting.name, self.get_location())
            note_setter(self.env, setting, self.get_location())
            # What readers search for that this section answers (tfthreads_docs.search).
            out.append(index_node(setting))
        field_list = nodes.field_list(classes=["setting-facts", f"setting-{part}"])
        for attribute in PARTS[part]:
            body = self._body(setting, attribute)
            if body is None:
                continue
            field_node = nodes.field()
            field_node += nodes.field_name(FIELD_NAMES[attribute], FIELD_NAMES[attribute])
            field_body = nodes.field_body()
            field_body += nodes.paragraph("", "", *body)
            if attribute in FACT_FIELDS:
                # What backs the claim, right under it: an observation or a citation.
                for kind, text in fact_lines(setting, attribute):
                    line = render_inline(self, text)
                    field_body += nodes.paragraph("", "", *line, classes=["fact", f"fact-{kind}"])
            field_node += field_body
            field_list += field_node
        if part == "evidence":
            # The pages that mention the setting are known once every page is read.
            field_list += MentionsPlaceholder(setting=setting.name)
        if field_list.children:
            out.append(field_list)
        return out

    def _body(self, setting: Setting, attribute: str) -> list[nodes.Node] | None:
        if attribute == "type":
            return [nodes.literal(setting.type, setting.type)]
        if attribute == "source":
            return [nodes.literal(setting.source, setting.source)]
        if attribute == "gallery":
            return self._gallery(setting)
        if attribute == "related":
            return self._related(setting)
        if attribute == "where":
            text: str | None = where(setting)
        elif attribute == "status":
            text = status(setting)
        elif attribute == "tf2_path" and setting.tf2_path == ONLY_COMPAT_V1:
            text = COMPAT_V1_ONLY_TEXT
        else:
            text = getattr(setting, attribute)
        return render_inline(self, text) if text else None

    def _gallery(self, setting: Setting) -> list[nodes.Node] | None:
        folders = gallery_folders(self.config, self.env.srcdir)
        examples = gallery_examples_citing(setting_label(setting.name), folders)
        if not examples:
            return None
        out: list[nodes.Node] = []
        for index, (script, label) in enumerate(examples):
            self.env.note_dependency(str(script))
            if index:
                out.append(nodes.Text(", "))
            ref = addnodes.pending_xref(
                "",
                refdomain="std",
                reftype="ref",
                reftarget=label,
                refexplicit=False,
                refwarn=True,
                refdoc=self.env.docname,
            )
            ref += nodes.inline(label, label)
            out.append(ref)
        return out

    def _related(self, setting: Setting) -> list[nodes.Node] | None:
        if not setting.related:
            return None
        out: list[nodes.Node] = []
        for index, other_name in enumerate(setting.related):
            try:
                other = catalog.get(other_name)
            except SettingError as error:
                raise self.error(f"setting-facts: {setting.name} related: {error}") from None
            if index:
                out.append(nodes.Text(", "))
            out.append(setting_reference(self.env.docname, other))
        return out


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register ``setting-facts``."""
    app.add_directive("setting-facts", SettingFacts)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
