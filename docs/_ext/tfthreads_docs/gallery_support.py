"""Support for running the gallery inside Sphinx without touching TensorFlow there.

Three jobs:

* :func:`rerun_on_machine_change` makes sphinx-gallery re-run every example when the
  machine or the software changes (sphinx-gallery alone only compares source files).
  It runs at ``builder-inited``, before sphinx-gallery runs the examples, and only when
  it will run them (an HTML build with ``plot_gallery`` on): importing ``conf.py``, a
  doctest or a link-check build leaves the gallery's cache alone;
* while the examples run, one worker that imported TensorFlow once serves every
  example's measuring processes and :func:`~tfthreads.process.run_function` calls in the
  default environment (:func:`tfthreads.measure.importing_once`): each is still a process
  of its own, forked before any runtime started, but the build pays TensorFlow's import
  (about 5 s on two CPUs) once instead of once or twice per example, as a reader running
  one example pays it once;
* :class:`TensorFlowGuard` fails the build, naming the example, when an example starts
  or configures TensorFlow's runtime in the Sphinx process instead of in a worker.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfthreads.measure import importing_once
from tfthreads.options import MeasureOptions
from tfthreads.provenance import machine_fingerprint

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["FINGERPRINT_FILE", "TensorFlowGuard", "rerun_on_machine_change", "setup"]

FINGERPRINT_FILE = ".machine-fingerprint"


def rerun_on_machine_change(gallery_dir: Path) -> bool:
    """Invalidate sphinx-gallery's cache when the machine fingerprint changed.

    sphinx-gallery stores an ``.md5`` of each example's source next to its output and
    skips examples whose source is unchanged. Deleting those files makes it run them
    again. The fingerprint of the machine that filled the cache is kept next to it; a
    gallery without one (its first build) has nothing to compare with, so its cache is
    kept and the current fingerprint recorded.

    Returns
    -------
    bool
        Whether the cache was invalidated (some ``.md5`` file deleted).
    """
    gallery_dir.mkdir(parents=True, exist_ok=True)
    stamp = gallery_dir / FINGERPRINT_FILE
    current = machine_fingerprint()
    previous = stamp.read_text().strip() if stamp.exists() else None
    invalidated = False
    if previous is not None and previous != current:
        for checksum in gallery_dir.rglob("*.md5"):
            checksum.unlink()
            invalidated = True
    if previous != current:
        stamp.write_text(current + "\n")
    return invalidated


def _gallery_will_run(app: Sphinx) -> bool:
    conf = getattr(app.config, "sphinx_gallery_conf", None) or {}
    return app.builder.format == "html" and bool(conf.get("plot_gallery"))


def _rerun_on_machine_change(app: Sphinx) -> None:
    """``builder-inited`` handler: invalidate stale caches before the gallery runs."""
    if not _gallery_will_run(app):
        return
    folders = app.config.sphinx_gallery_conf["gallery_dirs"]
    if isinstance(folders, (str, Path)):
        folders = [folders]
    for folder in folders:
        rerun_on_machine_change(Path(app.srcdir, folder))


_SHARED = contextlib.ExitStack()


def _examples_to_run(app: Sphinx) -> bool:
    """Whether sphinx-gallery will run some example: one whose source its cache lacks.

    sphinx-gallery runs an example whose copy in the gallery folder has no ``.md5`` of
    the same source (text mode), and :func:`rerun_on_machine_change` has removed them
    all when the machine changed.
    """
    from sphinx_gallery.utils import get_md5sum  # type: ignore[import-untyped]

    conf = app.config.sphinx_gallery_conf
    pattern = re.compile(conf["filename_pattern"])
    examples, galleries = conf["examples_dirs"], conf["gallery_dirs"]
    if isinstance(examples, (str, Path)):
        examples, galleries = [examples], [galleries]
    for sources, gallery in zip(examples, galleries, strict=True):
        for source in sorted(Path(app.srcdir, sources).glob("*.py")):
            if not pattern.search(str(source)):
                continue
            stamp = Path(app.srcdir, gallery) / f"{source.name}.md5"
            if not stamp.exists() or stamp.read_text() != get_md5sum(source, mode="t"):
                return True
    return False


def _share_import(app: Sphinx) -> None:
    """``builder-inited``, before the examples run: start the examples' shared import.

    Only when some example will run: a rebuild that runs none does not wait for an import.
    """
    if _gallery_will_run(app) and _examples_to_run(app):
        _SHARED.enter_context(importing_once(MeasureOptions()))


def _end_shared_import(app: Sphinx, exception: BaseException | None = None) -> None:
    """After the examples ran (or the build ended early): end the shared import's worker."""
    del app, exception
    _SHARED.close()


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


def setup(app: Sphinx) -> ExtensionMetadata:
    """Connect the fingerprint check and the shared import to ``builder-inited``.

    Priorities 400 and 450 put them after sphinx-gallery settles ``plot_gallery``
    (priority 10) and before it runs the examples (priority 500); 550 ends the shared
    import once they ran (an idle server takes no CPU time from what runs meanwhile).
    """
    app.connect("builder-inited", _rerun_on_machine_change, priority=400)
    app.connect("builder-inited", _share_import, priority=450)
    app.connect("builder-inited", _end_shared_import, priority=550)
    app.connect("build-finished", _end_shared_import)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
