"""Catalog of the TensorFlow settings that decide how CPU work is spread over threads.

Each :class:`Setting` records one knob: a field of a ``ConfigProto``-family protocol
buffer, an environment variable, a ``tf.data`` option or a TensorFlow Serving flag. It
says what the knob controls, how ``0``, negative and unset values are resolved, when
TensorFlow reads the value, when it stops listening to changes, and how to reach it from
TensorFlow 2. Importing it does not import TensorFlow.

Importing the package loads four parts, each importing only the ones before it:
``tfthreads.catalog.facts`` (what backs a claim), ``tfthreads.catalog.model`` (the
types), ``tfthreads.catalog.entries`` (the data, one module per subject) and
``tfthreads.catalog.queries`` (:data:`CATALOG` and the lookups). Four more are imported
only when used: ``tfthreads.catalog.probes`` (checks that each run in a fresh process),
``tfthreads.catalog.observe`` (runs them and compares the catalog with what they saw),
``tfthreads.catalog.compat`` (the same on each TensorFlow release of the matrix) and
``tfthreads.catalog.releases`` (what the matrix shows per fact and release). Which
documentation page describes an entry is the documentation's business, not the catalog's.

Examples
--------
>>> from tfthreads import catalog
>>> catalog.get("TF_NUM_INTRAOP_THREADS").kind is catalog.Kind.ENV_VAR
True
"""

from __future__ import annotations

from tfthreads.catalog import model, queries
from tfthreads.catalog.model import Kind, Setting
from tfthreads.catalog.queries import by_kind, get

__all__ = ["CATALOG", "ONLY_COMPAT_V1", "Kind", "Setting", "by_kind", "get"]

#: Value of ``Setting.tf2_path`` for settings that TensorFlow 2 exposes only through
#: ``tf.compat.v1`` (a ``ConfigProto``/``RunOptions`` handed to a ``Session``).
ONLY_COMPAT_V1: str = model.ONLY_COMPAT_V1

#: Every known setting, grouped by subject.
CATALOG: tuple[Setting, ...] = queries.CATALOG
