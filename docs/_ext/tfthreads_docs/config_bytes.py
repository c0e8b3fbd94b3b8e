"""The ``config-bytes`` directive: serialized ``ConfigProto`` bytes for ``TF_SetConfig``.

Each content line names a catalog entry and a value (JSON), for example
``ConfigProto.intra_op_parallelism_threads = 2``. The directive asks TensorFlow's own
serializer for the bytes (:func:`tfthreads.configproto.config_bytes`, one fresh process;
TensorFlow never enters the Sphinx process) and renders one table row per line: the
setting, linked to its reference section, the value and the bytes as a C initializer.
The ``:c-example:`` option names the lines to combine into one C snippet.

The first field number of each row's bytes must be the catalog's ``field_number``;
a mismatch is a build warning, so ``-W`` fails the build. Builders other than HTML do
not serialize anything and show a note instead.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from tfthreads import catalog
from tfthreads.configproto import c_array, config_bytes, field_numbers, proto_path
from tfthreads.errors import SettingError
from tfthreads_docs.layout import setting_reference
from tfthreads_docs.markup import note_catalog_dependency

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["ConfigBytes", "setup"]

logger = logging.getLogger(__name__)


def _c_snippet(names: list[str], values: dict[str, Any], data: bytes) -> str:
    fields = ", ".join(f"{proto_path(n)[-1]} = {json.dumps(values[n])}" for n in names)
    return (
        f"/* ConfigProto: {fields} */\n"
        f"static const uint8_t config[] = {c_array(data)};\n"
        "TF_SetConfig(session_options, config, sizeof config, status);\n"
    )


class ConfigBytes(SphinxDirective):
    """Render the serialized ``ConfigProto`` of each content line."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {"c-example": str}

    def _rows(self) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for line in self.content:
            if not line.strip():
                continue
            name, sep, raw = (part.strip() for part in line.partition("="))
            if not sep:
                raise self.error(f"config-bytes: got {line!r}; expected 'catalog name = value'")
            try:
                proto_path(name)
                rows[name] = json.loads(raw)
            except SettingError as error:
                raise self.error(f"config-bytes: {error}") from None
            except json.JSONDecodeError:
                raise self.error(
                    f"config-bytes: value of {name}: got {raw!r}; expected JSON "
                    '(2, true, [{"num_threads": 2}], {"CPU": 1})'
                ) from None
        return rows

    def run(self) -> list[nodes.Node]:
        """Build the table and the C example."""
        note_catalog_dependency(self)
        rows = self._rows()
        example = [n.strip() for n in self.options.get("c-example", "").split(",") if n.strip()]
        unknown = [n for n in example if n not in rows]
        if unknown:
            raise self.error(f"config-bytes: c-example names lines that are not given: {unknown}")
        if self.env.app.builder.format != "html":
            text = "The bytes are computed by TensorFlow when the HTML site is built."
            return [nodes.paragraph(text, text)]
        configs = [{name: value} for name, value in rows.items()]
        if example:
            configs.append({name: rows[name] for name in example})
        serialized = config_bytes(configs)
        table = self._table(rows, serialized)
        out: list[nodes.Node] = [table]
        if example:
            code = _c_snippet(example, rows, serialized[-1])
            out.append(nodes.literal_block(code, code, language="c"))
        return out

    def _table(self, rows: dict[str, Any], serialized: list[bytes]) -> nodes.table:
        table = nodes.table(classes=["config-bytes"])
        group = nodes.tgroup(cols=3)
        table += group
        group.extend(nodes.colspec(colwidth=w) for w in (45, 15, 40))
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        titles = ("Setting", "Value", "Serialized ConfigProto (C bytes)")
        head += nodes.row("", *(nodes.entry("", nodes.paragraph(t, t)) for t in titles))
        for (name, value), data in zip(rows.items(), serialized, strict=False):
            setting = catalog.get(name)
            depth = len(proto_path(name)) - 1
            numbers = field_numbers(data)
            if len(numbers) <= depth or numbers[depth] != setting.field_number:
                logger.warning(
                    f"config-bytes: {name}: TensorFlow wrote field numbers {numbers}; the "
                    f"catalog says field {setting.field_number}",
                    location=self.get_location(),
                )
            value_text = json.dumps(value)
            cells = [
                nodes.paragraph("", "", setting_reference(self.env.docname, setting)),
                nodes.paragraph("", "", nodes.literal(value_text, value_text)),
                nodes.paragraph("", "", nodes.literal(c_array(data), c_array(data))),
            ]
            body += nodes.row("", *(nodes.entry("", cell) for cell in cells))
        return table


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register ``config-bytes``."""
    app.add_directive("config-bytes", ConfigBytes)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
