"""Look settings up: ``CATALOG``, :func:`get` and :func:`by_kind`.

Examples
--------
>>> from tfthreads import catalog
>>> s = catalog.get("ConfigProto.intra_op_parallelism_threads")
>>> s.kind is catalog.Kind.PROTO_FIELD, s.field_number
(True, 2)
>>> [e.name for e in catalog.by_kind(catalog.Kind.SERVING_FLAG)][0]
'--tensorflow_intra_op_parallelism'
"""

from __future__ import annotations

import difflib
import re

from tfthreads.catalog.entries import build_entries
from tfthreads.catalog.model import Kind, Setting
from tfthreads.errors import SettingError

__all__ = ["CATALOG", "by_kind", "get"]

#: Every known setting, grouped by subject.
CATALOG: tuple[Setting, ...] = build_entries()

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
    '`tf.config.threading.set_inter_op_parallelism_threads(n)`'
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
