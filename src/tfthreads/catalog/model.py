"""What a catalog entry is: its :class:`Kind`, the :class:`Setting` and ``ONLY_COMPAT_V1``.

This module imports only :mod:`tfthreads.catalog.facts`, so the entries and the queries
can both import it at the top level.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tfthreads.catalog.facts import Fact

__all__ = ["ONLY_COMPAT_V1", "Kind", "Setting"]

#: Value of ``Setting.tf2_path`` for settings that TensorFlow 2 exposes only through
#: ``tf.compat.v1`` (a ``ConfigProto``/``RunOptions`` handed to a ``Session``).
ONLY_COMPAT_V1 = "only through tf.compat.v1"


class Kind(enum.Enum):
    """Where a setting lives."""

    PROTO_FIELD = "proto field"
    ENV_VAR = "environment variable"
    TF_DATA_OPTION = "tf.data option"
    SERVING_FLAG = "TF Serving flag"


@dataclass(frozen=True)
class Setting:
    """One TensorFlow setting that affects CPU threading, placement or sessions.

    The prose fields (``summary``, ``default``, ``resolution``, ``read_when``,
    ``freezes``, ``tf2_path`` and ``notes``) are MyST Markdown: code, error messages and
    names are written in backticks, and each field except ``default`` is a sentence.

    Parameters
    ----------
    name : str
        Unique key, e.g. ``"ConfigProto.intra_op_parallelism_threads"``,
        ``"TF_NUM_INTRAOP_THREADS"`` or ``"--tensorflow_intra_op_parallelism"``.
    kind : Kind
        Where the setting lives.
    summary : str
        One sentence saying what the setting controls.
    type : str
        The proto type as written in ``config.proto`` (``"int32"``,
        ``"repeated ThreadPoolOptionProto"``, ...) or, for the other kinds, a plain
        description such as ``"integer"``.
    default : str
        The value in effect when nothing is set.
    resolution : str
        How zero, negative and unset values are turned into a concrete behaviour.
    read_when : str
        When TensorFlow reads the value.
    freezes : str
        When later changes stop having an effect, and what happens if one is tried. The
        first clause (up to the first ``.``, ``;`` or ``:``) says when.
    tf2_path : str
        The TensorFlow 2 way to set it, or :data:`~tfthreads.catalog.ONLY_COMPAT_V1`.
    related : tuple of str
        Names of related catalog entries.
    source : str
        The source file that implements it, with the version that was read.
    message : str or None
        Full protocol buffer message name, for proto fields.
    field_number : int or None
        Proto field number, for proto fields.
    deprecated : bool
        Whether TensorFlow marks the setting as deprecated.
    notes : str
        Pitfalls and common misconceptions.
    effective_in_stock_wheel : bool
        Whether it changes threading in the stock ``pip install tensorflow`` build;
        ``False`` for OpenMP variables that only OpenMP (``--config=mkl``) builds use.
    facts : tuple of tfthreads.catalog.facts.Observed or tfthreads.catalog.facts.Cited
        What backs the claims of the prose fields: every non-empty field of
        ``FACT_FIELDS`` is named by at least one fact.
    """

    name: str
    kind: Kind
    summary: str
    type: str
    default: str
    resolution: str
    read_when: str
    freezes: str
    tf2_path: str
    related: tuple[str, ...]
    source: str
    message: str | None = None
    field_number: int | None = None
    deprecated: bool = False
    notes: str = ""
    effective_in_stock_wheel: bool = True
    facts: tuple[Fact, ...] = ()

    @property
    def field(self) -> str:
        """The last component of the name (the proto field, variable, option or flag)."""
        if self.kind is Kind.PROTO_FIELD or self.kind is Kind.TF_DATA_OPTION:
            return self.name.rsplit(".", 1)[-1]
        return self.name

    @property
    def is_proto_field(self) -> bool:
        """Whether the setting is a field of a protocol buffer message."""
        return self.kind is Kind.PROTO_FIELD
