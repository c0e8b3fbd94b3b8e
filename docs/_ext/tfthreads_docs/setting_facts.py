"""The ``setting-facts`` directive: one part of a catalog entry, as a field list.

``:part: facts`` (the default) gives what it controls, where it lives, type, default,
resolution, status, when it is read, when it freezes and the TensorFlow 2 path; a page
that shows this part is the page that documents the entry (see :mod:`.layout`).
``:part: notes`` gives the catalog's pitfalls; ``:part: evidence`` gives the gallery
examples that measure it, the source file and the related entries as links, then the
pages that mention it (:mod:`.mentions`). Each field's part, label and renderer are
one row of :data:`REFERENCE_FIELDS`.

The catalog's prose is MyST text and is parsed as such (:func:`.markup.render_inline`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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

__all__ = ["PARTS", "REFERENCE_FIELDS", "ReferenceField", "SettingFacts", "setup"]

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


def _tf2_path(setting: Setting) -> str:
    return COMPAT_V1_ONLY_TEXT if setting.tf2_path == ONLY_COMPAT_V1 else setting.tf2_path


#: How a field renders: MyST text to parse, a literal, or nodes the directive builds.
_Renderer = Callable[["SettingFacts", Setting], "list[nodes.Node] | None"]


def _prose(text: Callable[[Setting], str | None]) -> _Renderer:
    """Render the MyST text ``text`` gives for the setting (nothing when it is empty)."""

    def render(directive: SettingFacts, setting: Setting) -> list[nodes.Node] | None:
        shown = text(setting)
        return render_inline(directive, shown) if shown else None

    return render


def _attribute(attribute: str) -> _Renderer:
    """Render the setting's MyST ``attribute`` as is."""
    return _prose(lambda setting: getattr(setting, attribute))


def _literal(attribute: str) -> _Renderer:
    """Render the setting's ``attribute`` as code."""

    def render(directive: SettingFacts, setting: Setting) -> list[nodes.Node] | None:
        value = getattr(setting, attribute)
        return [nodes.literal(value, value)]

    return render


@dataclass(frozen=True)
class ReferenceField:
    """One field of a ``setting-facts`` part: which part, its label and how it renders.

    Attributes
    ----------
    part : str
        The ``:part:`` that shows it.
    attribute : str
        Its name; for the fields of :data:`~tfthreads.catalog.facts.FACT_FIELDS`, the
        facts that back the claim are shown under it.
    label : str
        The field list's name for it.
    render : callable
        Gives its body, or ``None`` when there is nothing to show.
    """

    part: str
    attribute: str
    label: str
    render: _Renderer


#: The fields of each part, in the order shown.
REFERENCE_FIELDS: tuple[ReferenceField, ...] = (
    ReferenceField("facts", "summary", "Controls", _attribute("summary")),
    ReferenceField("facts", "where", "Where", _prose(where)),
    ReferenceField("facts", "type", "Type", _literal("type")),
    ReferenceField("facts", "default", "Default", _attribute("default")),
    ReferenceField("facts", "resolution", "0, negative, unset", _attribute("resolution")),
    ReferenceField("facts", "status", "Status", _prose(status)),
    ReferenceField("facts", "read_when", "Read", _attribute("read_when")),
    ReferenceField("facts", "freezes", "Freezes", _attribute("freezes")),
    ReferenceField("facts", "tf2_path", "TF2 path", _prose(_tf2_path)),
    ReferenceField("notes", "notes", "Pitfalls (catalog)", _attribute("notes")),
    ReferenceField("evidence", "gallery", "Measured in", lambda d, s: d.gallery(s)),
    ReferenceField("evidence", "source", "TensorFlow source", _literal("source")),
    ReferenceField("evidence", "related", "Related", lambda d, s: d.related(s)),
)

#: The parts of ``setting-facts``, in the order of :data:`REFERENCE_FIELDS`.
PARTS = tuple(dict.fromkeys(field.part for field in REFERENCE_FIELDS))


class SettingFacts(SphinxDirective):
    """Render one part of a catalog entry as a field list."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"part": lambda arg: directives.choice(arg, PARTS)}

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
        for field in REFERENCE_FIELDS:
            if field.part != part:
                continue
            body = field.render(self, setting)
            if body is None:
                continue
            field_node = nodes.field()
            field_node += nodes.field_name(field.label, field.label)
            field_body = nodes.field_body()
            field_body += nodes.paragraph("", "", *body)
            if field.attribute in FACT_FIELDS:
                # What backs the claim, right under it: an observation or a citation.
                for kind, text in fact_lines(setting, field.attribute):
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

    def gallery(self, setting: Setting) -> list[nodes.Node] | None:
        """Link the gallery examples that measure ``setting`` (nothing when none does)."""
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

    def related(self, setting: Setting) -> list[nodes.Node] | None:
        """Link the related entries (nothing when there are none)."""
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
