"""The ``crosswalk`` directive: every setting next to its counterparts in other layers.

One row per catalog entry that is not already a column of another row (see
:func:`crosswalk_rows`), with the TF1 field, the TF2 call, the environment variable,
the ``tf.data`` option, the TF Serving flag and when the setting freezes. The table's
style is in ``_static/crosswalk.css`` (class ``crosswalk``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.catalog import ONLY_COMPAT_V1, Kind, Setting
from tfthreads_docs.layout import setting_reference
from tfthreads_docs.markup import note_catalog_dependency, render_inline

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["Crosswalk", "CrosswalkRow", "crosswalk_rows", "first_clause", "freezes_at", "setup"]

_CLAUSE_ENDS = (". ", "; ", ": ")


def first_clause(text: str) -> str:
    """Return the MyST text up to the first ``.``, ``;`` or ``:`` that ends a clause.

    Punctuation inside a code span (between backticks) ends nothing.

    Examples
    --------
    >>> first_clause("Never; `RuntimeError: no.` is raised.")
    'Never'
    >>> first_clause("After `x: y` is set. Later too.")
    'After `x: y` is set'
    """
    text = text.strip()
    position = 0
    for index, piece in enumerate(text.split("`")):
        if index % 2 == 0:  # prose, not code
            ends = [piece.find(end) for end in _CLAUSE_ENDS if end in piece]
            if piece.endswith((".", ";", ":")) and position + len(piece) == len(text):
                ends.append(len(piece) - 1)
            if ends:
                return text[: position + min(ends)]
        position += len(piece) + 1
    return text


def freezes_at(setting: Setting) -> str:
    """Return the first clause of ``setting.freezes`` (MyST): when changes stop counting.

    Examples
    --------
    >>> freezes_at(catalog.get("ConfigProto.allow_soft_placement"))
    'Never in TF2'
    """
    clause = first_clause(setting.freezes)
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


def _joins(setting: Setting, proto: Setting) -> bool:
    if setting.kind is Kind.ENV_VAR:
        return _mutual(setting, proto) and setting.tf2_path == proto.tf2_path
    if setting.kind is Kind.SERVING_FLAG:
        return _mutual(setting, proto)
    return proto.name in setting.related


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
    >>> [s.name for s in rows[0].settings]  # doctest: +NORMALIZE_WHITESPACE
    ['ConfigProto.intra_op_parallelism_threads', 'TF_NUM_INTRAOP_THREADS',
     'tf.data.Options.threading.max_intra_op_parallelism', '--tensorflow_intra_op_parallelism']
    """
    entries = catalog.CATALOG if entries is None else entries
    rows = [CrosswalkRow(primary=s, proto=[s]) for s in entries if s.kind is Kind.PROTO_FIELD]
    for setting in entries:
        if setting.kind is Kind.PROTO_FIELD:
            continue
        home = next(
            (r for r in rows if r.primary.kind is Kind.PROTO_FIELD and _joins(setting, r.primary)),
            None,
        )
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
        """Build the table."""
        note_catalog_dependency(self)
        table = nodes.table(classes=["crosswalk"])
        group = nodes.tgroup(cols=len(self.HEADERS))
        table += group
        for _ in self.HEADERS:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        head += self._row([[nodes.Text(text)] for text in self.HEADERS])
        group += head
        body = nodes.tbody()
        for row in crosswalk_rows():
            cells = [
                self._links(row.proto),
                self._tf2_cell(row.primary),
                self._links(row.env),
                self._links(row.data),
                self._links(row.flags),
                render_inline(self, freezes_at(row.primary)),
            ]
            body += self._row(cells)
        group += body
        return [table]

    def _links(self, settings: list[Setting]) -> list[nodes.Node]:
        if not settings:
            return [nodes.Text("\u2014")]
        out: list[nodes.Node] = []
        for index, setting in enumerate(settings):
            if index:
                out.append(nodes.Text(", "))
            out.append(setting_reference(self.env.docname, setting))
        return out

    def _tf2_cell(self, setting: Setting) -> list[nodes.Node]:
        if setting.tf2_path == ONLY_COMPAT_V1:
            return [nodes.Text("none (tf.compat.v1 only)")]
        return render_inline(self, setting.tf2_path)

    @staticmethod
    def _row(cells: list[list[nodes.Node]]) -> nodes.row:
        row = nodes.row()
        for content in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *content)
            row += entry
        return row


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register ``crosswalk``."""
    app.add_directive("crosswalk", Crosswalk)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
