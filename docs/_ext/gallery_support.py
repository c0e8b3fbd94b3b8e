"""Support for running the gallery inside Sphinx without touching TensorFlow there.

Two jobs:

* :func:`rerun_on_machine_change` makes sphinx-gallery re-run every example when the
  machine or the software changes (sphinx-gallery alone only compares source files);
* :class:`TensorFlowGuard` fails the build, naming the example, when an example starts
  or configures TensorFlow's runtime in the Sphinx process instead of in a worker.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tfthreads.provenance import machine_fingerprint

FINGERPRINT_FILE = ".machine-fingerprint"


def rerun_on_machine_change(gallery_dir: Path) -> bool:
    """Invalidate sphinx-gallery's cache when the machine fingerprint changed.

    sphinx-gallery stores an ``.md5`` of each example's source next to its output and
    skips examples whose source is unchanged. Deleting those files makes it run them
    again. Returns whether the cache was invalidated.
    """
    gallery_dir.mkdir(parents=True, exist_ok=True)
    stamp = gallery_dir / FINGERPRINT_FILE
    current = machine_fingerprint()
    previous = stamp.read_text().strip() if stamp.exists() else None
    if previous == current:
        return False
    for checksum in gallery_dir.rglob("*.md5"):
        checksum.unlink()
    stamp.write_text(current + "\n")
    return previous is not None


class TensorFlowGuard:
    """A sphinx-gallery ``reset_modules`` hook that refuses TensorFlow in the Sphinx process.

    TensorFlow sizes its thread pools once per process. An example that configured them
    here would measure nothing and change every later example, so it is an error.
    """

    def __repr__(self) -> str:  # sphinx-gallery puts the repr in its cache key
        return "TensorFlowGuard()"

    def __call__(self, gallery_conf: dict[str, Any], fname: str, when: str) -> None:
        """Raise if TensorFlow's runtime was started or configured in this process."""
        del gallery_conf
        context_module = sys.modules.get("tensorflow.python.eager.context")
        if context_module is None:
            return
        context = context_module.context_safe()
        if context is None:
            return
        problems = []
        if context._context_handle is not None:
            problems.append("started TensorFlow's runtime")
        if context._intra_op_parallelism_threads is not None:
            problems.append("set intra_op_parallelism_threads")
        if context._inter_op_parallelism_threads is not None:
            problems.append("set inter_op_parallelism_threads")
        if problems:
            raise RuntimeError(
                f"gallery example {Path(fname).name} {' and '.join(problems)} in the Sphinx "
                f"process ({when} running it); measure in a fresh process through tfthreads "
                "(tfthreads.probe.observe_pools) instead"
            )
