"""The entries of :data:`tfthreads.catalog.CATALOG`, as MyST text, one module per subject.

Each module lists the entries of one reference page, in catalog order: :mod:`.pools`,
:mod:`.sessions`, :mod:`.placement`, :mod:`.experimental`, :mod:`.environment`,
:mod:`.tf_data` and :mod:`.serving`; :mod:`.common` holds the sources, the fact builders
and the facts several entries share.

Facts marked with a version were checked against that version: proto numbers and types
against the descriptors of TensorFlow 2.21.0, Python-level behaviour by reading the
installed 2.21.0 wheel and by running small scripts in a subprocess, and the Serving
flags by reading TF Serving 2.20.0 (the newest tag available). C++ files that could not
be read at a release tag are cited at the commit that was read (never a branch).

Each entry's ``facts`` back its prose: an :class:`~tfthreads.catalog.facts.Observed`
fact names a probe of :mod:`tfthreads.catalog.probes` that the documentation build runs
and the values the claim implies (a contradiction fails the build); a
:class:`~tfthreads.catalog.facts.Cited` fact names the pinned source file, for what a CPU
machine cannot show, and says why in ``why``. Every non-empty prose field of
:data:`~tfthreads.catalog.facts.FACT_FIELDS` is named by some fact of its entry; the
fields no observation backs are cited from the entry's ``source``, last.

Which ``ConfigProto.Experimental`` fields are listed: those that change which thread
runs a kernel or how pool threads wait (``executor_type``, ``use_numa_affinity``,
``disable_thread_spinning``, ``use_tfrt``, ``disable_eager_executor_streaming_enqueue``).
Left out: collective, XLA/MLIR-bridge, TPU/multi-host and session-metadata fields,
which change what is compiled or communicated, not how CPU pools schedule work.
"""

from __future__ import annotations

from tfthreads.catalog.entries import (
    environment,
    experimental,
    placement,
    pools,
    serving,
    sessions,
    tf_data,
)
from tfthreads.catalog.model import Setting

__all__ = ["build_entries"]

#: The subject modules, in catalog order.
_SUBJECTS = (pools, sessions, placement, experimental, environment, tf_data, serving)


def build_entries() -> tuple[Setting, ...]:
    """Return the catalog entries, each with the facts that back its prose.

    Returns
    -------
    tuple of Setting
        Every entry, grouped by subject (pools, sessions, placement, experimental,
        environment, ``tf.data``, TF Serving).
    """
    return tuple(entry for subject in _SUBJECTS for entry in subject.ENTRIES)
