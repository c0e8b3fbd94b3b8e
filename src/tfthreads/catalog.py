"""Catalog of the TensorFlow settings that decide how CPU work is spread over threads.

Each :class:`Setting` records one knob: a field of a ``ConfigProto``-family protocol
buffer, an environment variable, a ``tf.data`` option or a TensorFlow Serving flag. It
says what the knob controls, how ``0``, negative and unset values are resolved, when
TensorFlow reads the value, when it stops listening to changes, and how to reach it from
TensorFlow 2. The data lives in ``tfthreads._catalog_entries``; this module holds the
types and the lookup functions. Importing it does not import TensorFlow.

Examples
--------
>>> from tfthreads import catalog
>>> s = catalog.get("ConfigProto.intra_op_parallelism_threads")
>>> s.kind is catalog.Kind.PROTO_FIELD, s.field_number
(True, 2)
>>> s.doc_label
'setting-configproto-intra-op-parallelism-threads'
>>> [e.name for e in catalog.by_kind(catalog.Kind.SERVING_FLAG)][0]
'--tensorflow_intra_op_parallelism'
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass

from tfthreads.errors import SettingError

__all__ = [
    "CATALOG",
    "DOC_PAGES",
    "ONLY_COMPAT_V1",
    "Kind",
    "Setting",
    "by_kind",
    "by_page",
    "get",
]

#: Value of ``Setting.tf2_path`` for settings that TensorFlow 2 exposes only through
#: ``tf.compat.v1`` (a ``ConfigProto``/``RunOptions`` handed to a ``Session``).
ONLY_COMPAT_V1 = "only through tf.compat.v1"

#: The documentation pages a setting can belong to.
DOC_PAGES: tuple[str, ...] = (
    "reference/pools",
    "reference/sessions",
    "reference/placement",
    "reference/experimental",
    "reference/environment",
    "reference/tf-data",
    "reference/serving",
)


class Kind(enum.Enum):
    """Where a setting lives."""

    PROTO_FIELD = "proto field"
    ENV_VAR = "environment variable"
    TF_DATA_OPTION = "tf.data option"
    SERVING_FLAG = "TF Serving flag"


@dataclass(frozen=True)
class Setting:
    """One TensorFlow setting that affects CPU threading, placement or sessions.

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
        When later changes stop having an effect, and what happens if one is tried.
    tf2_path : str
        The TensorFlow 2 way to set it, or :data:`ONLY_COMPAT_V1`.
    related : tuple of str
        Names of related catalog entries.
    doc_page : str
        The documentation page (one of :data:`DOC_PAGES`) that describes it.
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
    doc_page: str
    source: str
    message: str | None = None
    field_number: int | None = None
    deprecated: bool = False
    notes: str = ""
    effective_in_stock_wheel: bool = True

    @property
    def field(self) -> str:
        """The last component of the name (the proto field, variable, option or flag)."""
        if self.kind is Kind.PROTO_FIELD or self.kind is Kind.TF_DATA_OPTION:
            return self.name.rsplit(".", 1)[-1]
        return self.name

    @property
    def doc_label(self) -> str:
        """MyST cross-reference label, ``"setting-"`` followed by a slug of the name."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return f"setting-{slug}"

    @property
    def is_proto_field(self) -> bool:
        """Whether the setting is a field of a protocol buffer message."""
        return self.kind is Kind.PROTO_FIELD


def _load() -> tuple[Setting, ...]:
    # The entries module imports Kind and Setting from here inside its builder, so it
    # is imported only once both classes exist.
    from tfthreads._catalog_entries import build_entries

    return build_entries()


#: Every known setting, in documentation order.
CATALOG: tuple[Setting, ...] = _load()

_BY_NAME: dict[str, Setting] = {s.name: s for s in CATALOG}


def get(name: str) -> Setting:
    """Return the setting called ``name``.

    Parameters
    ----------
    name : str
        A full catalog name such as ``"ConfigProto.intra_op_parallelism_threads"``, or
        just the last component (``"intra_op_parallelism_threads"``) when only one
        entry ends with it.

    Returns
    -------
    Setting
        The matching entry.

    Raises
    ------
    SettingError
        If no entry matches, or a bare field name matches several entries. The message
        names the value given and suggests the closest names.

    Examples
    --------
    >>> from tfthreads.catalog import get
    >>> get("intra_op_parallelism_threads").name
    'ConfigProto.intra_op_parallelism_threads'
    >>> get("TF_NUM_INTEROP_THREADS").tf2_path
    'tf.config.threading.set_inter_op_parallelism_threads(n)'
    >>> get("intra_op_threads")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: unknown setting 'intra_op_threads'; did you mean 'ConfigProto.intra_op_parallelism_threads'?
    """
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    by_field = [s for s in CATALOG if s.field == name]
    if len(by_field) == 1:
        return by_field[0]
    if by_field:
        choices = " or ".join(repr(s.name) for s in by_field)
        raise SettingError(f"ambiguous setting {name!r}; did you mean {choices}?")
    raise SettingError(f"unknown setting {name!r}; {_suggest(name)}")


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t}


def _suggest(name: str) -> str:
    """Return the "did you mean" part of an unknown-name message.

    Each entry is scored by the best character similarity of ``name`` to its full name or
    its last component, plus the share of ``name``'s words that the entry's name contains.
    """
    query, words = name.lower(), _tokens(name)
    best: tuple[float, str] | None = None
    for s in CATALOG:
        similarity = max(
            difflib.SequenceMatcher(None, query, candidate.lower()).ratio()
            for candidate in (s.name, s.field)
        )
        overlap = len(words & _tokens(s.name)) / len(words) if words else 0.0
        score = similarity + overlap
        if best is None or score > best[0]:
            best = (score, s.name)
    if best is not None and best[0] >= 0.6:
        return f"did you mean {best[1]!r}?"
    return "see tfthreads.catalog.CATALOG for the known names"


def by_kind(kind: Kind) -> tuple[Setting, ...]:
    """Return the settings of one kind, in catalog order.

    Parameters
    ----------
    kind : Kind
        The kind to select.

    Returns
    -------
    tuple of Setting
        The matching entries (possibly empty).
    """
    return tuple(s for s in CATALOG if s.kind is kind)


def by_page(page: str) -> tuple[Setting, ...]:
    """Return the settings documented on one page, in catalog order.

    Parameters
    ----------
    page : str
        One of :data:`DOC_PAGES`, e.g. ``"reference/pools"``.

    Returns
    -------
    tuple of Setting
        The matching entries.

    Raises
    ------
    SettingError
        If ``page`` is not one of :data:`DOC_PAGES`.
    """
    if page not in DOC_PAGES:
        allowed = ", ".join(DOC_PAGES)
        raise SettingError(f"unknown documentation page {page!r}; expected one of {allowed}")
    return tuple(s for s in CATALOG if s.doc_page == page)
