"""Sphinx directives that render reference facts from :mod:`tfthreads.catalog`.

The catalog is the one source of truth for what each TensorFlow setting is, how its
values resolve and when it freezes. These directives put those facts on the reference
pages at build time, so no page copies them by hand:

``setting-facts``
    The facts of one catalog entry, in a fixed order. ``:part: facts`` (the default)
    gives what it controls, type, default, resolution, when it is read, when it freezes
    and the TensorFlow 2 path; ``:part: notes`` gives the catalog's pitfalls;
    ``:part: evidence`` gives the source file and the related entries as links.
``crosswalk``
    The table TF1 field, TF2 call, environment variable, ``tf.data`` option, TF Serving
    flag and "freezes at", one row per catalog entry that is not already a column of
    another row (see :func:`crosswalk_rows`).
``checked-against``
    The line "This page was checked against TensorFlow X.Y.Z", with the version read
    from the installed distribution's metadata. TensorFlow itself is never imported here.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.catalog import ONLY_COMPAT_V1, Kind, Setting
from tfthreads.errors import SettingError

__all__ = [
    "CrosswalkRow",
    "catalog_tensorflow_versions",
    "crosswalk_rows",
    "freezes_at",
    "installed_tensorflow_version",
    "setup",
]

logger = logging.getLogger(__name__)

#: Files whose change must rebuild every page that uses these directives.
CATALOG_FILES = (
    Path(catalog.__file__),
    Path(catalog.__file__).with_name("_catalog_entries.py"),
    Path(__file__),
)

#: Distributions that install the ``tensorflow`` package, in the order they are tried.
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tf-nightly", "tf-nightly-cpu")

#: Parts of ``setting-facts`` and the catalog attributes each one shows, in order.
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

# Quoted error text in catalog strings ('RuntimeError: ...', 'Check failed: ...') is shown
# as code so that it can be searched for verbatim.
_QUOTED_ERROR = re.compile(r"'((?:[A-Za-z.]*(?:Error|Exception)\b|Check failed)[^']*)'")
_TF_NAME = re.compile(r"\b(?:tf\.[\w.]+\w(?:\([^()]*\))?|os\.environ|taskset|numactl)")
_CLAUSE_END = re.compile(r"[.;:](?=\s|$)")
_VERSION_IN_SOURCE = re.compile(r"\(v(\d+\.\d+\.\d+)\)")


def _inline(text: str, pattern: re.Pattern[str] = _QUOTED_ERROR) -> list[nodes.Node]:
    """Split ``text`` into text and literal nodes, with ``pattern``'s group 1 (or all) as code."""
    out: list[nodes.Node] = []
    position = 0
    for match in pattern.finditer(text):
        out.append(nodes.Text(text[position : match.start()]))
        code = match.group(1) if pattern.groups else match.group(0)
        out.append(nodes.literal(code, code))
        position = match.end()
    out.append(nodes.Text(text[position:]))
    return [node for node in out if not (isinstance(node, nodes.Text) and not str(node))]


def _sentence(text: str) -> str:
    text = text.strip()
    if re.fullmatch(r"[a-z]+[,:]?", text.split(" ", 1)[0]):  # a plain word, not a name
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _is_call(tf2_path: str) -> bool:
    return tf2_path.startswith(("tf.", "options.")) and "; " not in tf2_path


def _reference(fromdocname: str, setting: Setting) -> addnodes.pending_xref:
    ref = addnodes.pending_xref(
        "",
        refdomain="std",
        reftype="ref",
        reftarget=setting.doc_label,
        refexplicit=True,
        refwarn=True,
        refdoc=fromdocname,
    )
    ref += nodes.literal(setting.name, setting.name)
    return ref


def _where(setting: Setting) -> list[nodes.Node]:
    if setting.kind is Kind.PROTO_FIELD:
        message = (setting.message or "").removeprefix("tensorflow.")
        text = f"field {setting.field_number} of the {message} protocol buffer"
        return [nodes.literal(setting.field, setting.field), nodes.Text(f", {text}.")]
    return [nodes.Text(f"a {setting.kind.value}.")]


def _status(setting: Setting) -> str | None:
    words = []
    if setting.deprecated:
        words.append("Deprecated by TensorFlow.")
    if not setting.effective_in_stock_wheel:
        words.append("No effect on the thread pools of the stock pip wheel.")
    return " ".join(words) or None


def _tf2(setting: Setting) -> list[nodes.Node]:
    path = setting.tf2_path
    if path == ONLY_COMPAT_V1:
        text = (
            "None; TensorFlow 2 reaches it only through tf.compat.v1 "
            "(a ConfigProto or RunOptions given to a tf.compat.v1.Session)."
        )
        return _inline(text, _TF_NAME)
    if _is_call(path):
        return [nodes.literal(path, path)]
    return _inline(_sentence(path[:1].upper() + path[1:]), _TF_NAME)


GALLERY = Path(__file__).resolve().parents[2] / "gallery"
_GALLERY_LABEL = re.compile(r"^\.\. _(gallery-[\w-]+):", re.MULTILINE)


def gallery_examples_citing(label: str, folder: Path = GALLERY) -> list[tuple[Path, str]]:
    """Gallery scripts that cite a setting's label, with each script's own label.

    A gallery example is evidence for a setting when its text links to the setting's
    section (``:ref:`setting-...```); the reference page then links back to it, so the
    two directions cannot drift apart.
    """
    found = []
    for script in sorted(folder.glob("plot_*.py")):
        text = script.read_text(encoding="utf-8")
        own = _GALLERY_LABEL.search(text)
        if own and re.search(rf"`{re.escape(label)}`|<{re.escape(label)}>`", text):
            found.append((script, own.group(1)))
    return found


def _note_catalog_dependency(directive: SphinxDirective) -> None:
    """Rebuild the page when the catalog or this extension changes, not only its source."""
    for path in CATALOG_FILES:
        directive.env.note_dependency(str(path))


class SettingFacts(SphinxDirective):
    """Render one part of a catalog entry as a field list."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "part": lambda arg: directives.choice(arg, tuple(PARTS))
    }

    def run(self) -> list[nodes.Node]:
        _note_catalog_dependency(self)
        name = self.arguments[0]
        try:
            setting = catalog.get(name)
        except SettingError as error:
            raise self.error(f"setting-facts: {error}") from None
        if setting.name != name:
            raise self.error(f"setting-facts: use the full catalog name {setting.name!r}")
        part = self.options.get("part", "facts")
        field_list = nodes.field_list(classes=["setting-facts", f"setting-{part}"])
        for attribute in PARTS[part]:
            body = self._body(setting, attribute)
            if body is None:
                continue
            field_node = nodes.field()
            field_node += nodes.field_name(FIELD_NAMES[attribute], FIELD_NAMES[attribute])
            field_body = nodes.field_body()
            field_body += body
            field_node += field_body
            field_list += field_node
        if not field_list.children:
            return []
        return [field_list]

    def _body(self, setting: Setting, attribute: str) -> nodes.Node | None:
        paragraph = nodes.paragraph()
        if attribute == "where":
            paragraph += _where(setting)
        elif attribute == "status":
            status = _status(setting)
            if status is None:
                return None
            paragraph += nodes.Text(status)
        elif attribute == "tf2_path":
            paragraph += _tf2(setting)
        elif attribute == "gallery":
            examples = gallery_examples_citing(setting.doc_label)
            if not examples:
                return None
            for index, (script, label) in enumerate(examples):
                self.env.note_dependency(str(script))
                if index:
                    paragraph += nodes.Text(", ")
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
                paragraph += ref
        elif attribute == "related":
            if not setting.related:
                return None
            for index, other_name in enumerate(setting.related):
                try:
                    other = catalog.get(other_name)
                except SettingError as error:
                    raise self.error(f"setting-facts: {setting.name} related: {error}") from None
                if index:
                    paragraph += nodes.Text(", ")
                paragraph += _reference(self.env.docname, other)
        elif attribute == "type":
            paragraph += nodes.literal(setting.type, setting.type)
        elif attribute == "default":
            paragraph += _inline(setting.default)
        elif attribute == "source":
            paragraph += nodes.literal(setting.source, setting.source)
        else:
            value = getattr(setting, attribute)
            if not value:
                return None
            paragraph += _inline(_sentence(value))
        return paragraph


def freezes_at(setting: Setting) -> str:
    """Return the first clause of ``setting.freezes``: when changes stop having an effect.

    Examples
    --------
    >>> freezes_at(catalog.get("ConfigProto.allow_soft_placement"))
    'Never in TF2'
    """
    text = setting.freezes.strip()
    match = _CLAUSE_END.search(text)
    clause = text[: match.start()] if match else text
    return clause[:1].upper() + clause[1:]


@dataclass
class CrosswalkRow:
    """One row of the crosswalk: a primary entry and its counterparts in other layers."""

    primary: Setting
    proto: list[Setting] = field(default_factory=list)
    env: list[Setting] = field(default_factory=list)
    data: list[Setting] = field(default_factory=list)
    flags: list[Setting] = field(default_factory=list)

    @property
    def settings(self) -> list[Setting]:
        """Every catalog entry shown in the row."""
        return [*self.proto, *self.env, *self.data, *self.flags]


def _mutual(a: Setting, b: Setting) -> bool:
    return b.name in a.related and a.name in b.related


def crosswalk_rows(entries: tuple[Setting, ...] | None = None) -> list[CrosswalkRow]:
    """Group catalog entries into crosswalk rows.

    Every proto field starts a row. An environment variable joins a proto field's row
    when the two name each other in ``related`` and share the same TF2 path; a TF
    Serving flag joins when the two name each other; a ``tf.data`` option joins the
    first proto field it names in ``related``. Every other entry starts its own row, so
    each entry appears in exactly one row.

    Examples
    --------
    >>> rows = crosswalk_rows()
    >>> [s.name for s in rows[0].settings]
    ['ConfigProto.intra_op_parallelism_threads', 'TF_NUM_INTRAOP_THREADS', \
'tf.data.Options.threading.max_intra_op_parallelism', '--tensorflow_intra_op_parallelism']
    """
    entries = catalog.CATALOG if entries is None else entries
    rows = [CrosswalkRow(primary=s, proto=[s]) for s in entries if s.kind is Kind.PROTO_FIELD]
    for setting in entries:
        if setting.kind is Kind.PROTO_FIELD:
            continue
        home: CrosswalkRow | None = None
        for row in rows:
            proto = row.primary
            if proto.kind is not Kind.PROTO_FIELD:
                continue
            if setting.kind is Kind.ENV_VAR:
                joins = _mutual(setting, proto) and setting.tf2_path == proto.tf2_path
            elif setting.kind is Kind.SERVING_FLAG:
                joins = _mutual(setting, proto)
            else:
                joins = proto.name in setting.related
            if joins:
                home = row
                break
        if home is None:
            home = CrosswalkRow(primary=setting)
            rows.append(home)
        column = {
            Kind.ENV_VAR: home.env,
            Kind.TF_DATA_OPTION: home.data,
            Kind.SERVING_FLAG: home.flags,
        }[setting.kind]
        column.append(setting)
    return rows


# Six columns of long dotted names: let them wrap anywhere so the table fits the page.
CROSSWALK_CSS = (
    "<style>table.crosswalk { font-size: 0.8em; }"
    " table.crosswalk td { overflow-wrap: anywhere; }"
    "</style>"
)


class Crosswalk(SphinxDirective):
    """Render the crosswalk table from the catalog."""

    has_content = False
    HEADERS = (
        "TF1 ConfigProto / RunOptions field",
        "TF2 call",
        "Environment variable",
        "tf.data option",
        "TF Serving flag",
        "Freezes at",
    )

    def run(self) -> list[nodes.Node]:
        _note_catalog_dependency(self)
        rows = crosswalk_rows()
        table = nodes.table(classes=["crosswalk"])
        group = nodes.tgroup(cols=len(self.HEADERS))
        table += group
        for _ in self.HEADERS:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        head += self._row([[nodes.Text(text)] for text in self.HEADERS])
        group += head
        body = nodes.tbody()
        for row in rows:
            cells = [
                self._links(row.proto),
                self._tf2_cell(row.primary),
                self._links(row.env),
                self._links(row.data),
                self._links(row.flags),
                [nodes.Text(freezes_at(row.primary))],
            ]
            body += self._row(cells)
        group += body
        return [nodes.raw("", CROSSWALK_CSS, format="html"), table]

    def _links(self, settings: list[Setting]) -> list[nodes.Node]:
        if not settings:
            return [nodes.Text("\u2014")]
        out: list[nodes.Node] = []
        for index, setting in enumerate(settings):
            if index:
                out.append(nodes.Text(", "))
            out.append(_reference(self.env.docname, setting))
        return out

    @staticmethod
    def _tf2_cell(setting: Setting) -> list[nodes.Node]:
        path = setting.tf2_path
        if path == ONLY_COMPAT_V1:
            return [nodes.Text("none (tf.compat.v1 only)")]
        if _is_call(path):
            return [nodes.literal(path, path)]
        return _inline(path, _TF_NAME)

    @staticmethod
    def _row(cells: list[list[nodes.Node]]) -> nodes.row:
        row = nodes.row()
        for content in cells:
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            paragraph += content
            entry += paragraph
            row += entry
        return row


def installed_tensorflow_version() -> str | None:
    """Return the installed TensorFlow version from package metadata, without importing it."""
    for distribution in TENSORFLOW_DISTRIBUTIONS:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def catalog_tensorflow_versions() -> set[str]:
    """Return the TensorFlow versions named in the catalog's ``source`` fields."""
    return {m.group(1) for s in catalog.CATALOG for m in _VERSION_IN_SOURCE.finditer(s.source)}


class CheckedAgainst(SphinxDirective):
    """Render "This page was checked against TensorFlow X.Y.Z" for the installed version."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        installed = installed_tensorflow_version()
        paragraph = nodes.paragraph(classes=["checked-against"])
        if installed is None:
            logger.warning(
                "checked-against: no TensorFlow distribution is installed (tried %s)",
                ", ".join(TENSORFLOW_DISTRIBUTIONS),
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


def setup(app: Any) -> dict[str, Any]:
    """Register the directives."""
    app.add_directive("setting-facts", SettingFacts)
    app.add_directive("crosswalk", Crosswalk)
    app.add_directive("checked-against", CheckedAgainst)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
