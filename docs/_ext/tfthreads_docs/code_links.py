"""Names in code link to their documentation, TensorFlow's setters to the catalog's sections.

sphinx-codeautolink links the names of the pages' code blocks to the objects the Python
domain knows (the API reference) and to Python's documentation. This module adds what it
cannot know:

- Each catalog entry's TensorFlow 2 setter (:func:`.mentions.tf2_setter`, such as
  ``tf.config.threading.set_inter_op_parallelism_threads``) is a Python-domain function
  documented at the entry's section, so ``tf.config.threading.set_...(n)`` in a code block,
  and ``{py:func}`` roles, link to the section that says what it does.
- TensorFlow stays out of the Sphinx process while sphinx-codeautolink follows names
  (``env-updated``): it imports the module a name starts from, and with ``tensorflow``
  unimportable it resolves a ``tf.`` name by its spelling instead.
- Gallery pages are skipped: sphinx-gallery links the names of their code itself, and two
  tools rewriting the same HTML would collide.
- Pages with code are read again on every build. sphinx-codeautolink keeps what it found
  on a page between builds only for ``.rst`` sources (its cache drops the others), so an
  unchanged MyST page would lose its links in an incremental build.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes

from tfthreads.catalog import Setting
from tfthreads_docs.evidence import gallery_folders
from tfthreads_docs.layout import setting_label
from tfthreads_docs.mentions import tf2_setter

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = ["note_setter", "setup"]

#: codeautolink's documented directive, put before the source of every gallery page.
_SKIP_FILE = ".. autolink-skip:: file\n\n"


def note_setter(env: BuildEnvironment, setting: Setting, location: Any) -> None:
    """Declare the setting's TF2 setter as a function documented at its section."""
    setter = tf2_setter(setting)
    if setter is None:
        return
    full_name = "tensorflow" + setter.removeprefix("tf")
    env.domains.python_domain.note_object(
        full_name, "function", setting_label(setting.name), location=location
    )


def _skip_gallery_pages(app: Sphinx, docname: str, source: list[str]) -> None:
    if any(docname.startswith(f"{folder}/") for folder in _gallery_prefixes(app)):
        source[0] = _SKIP_FILE + source[0]


def _gallery_prefixes(app: Sphinx) -> list[str]:
    """Return the docname prefixes of sphinx-gallery's generated pages."""
    src = Path(app.srcdir).resolve()
    folders = [path.resolve() for path in gallery_folders(app.config, src, "gallery_dirs")]
    return [path.relative_to(src).as_posix() for path in folders if path.is_relative_to(src)]


#: Kept on the build environment: the pages (not .rst) whose code blocks are linked.
_CODE_PAGES = "tfthreads_code_pages"


def _code_pages(env: BuildEnvironment) -> set[str]:
    if not hasattr(env, _CODE_PAGES):
        setattr(env, _CODE_PAGES, set())
    pages: set[str] = getattr(env, _CODE_PAGES)
    return pages


def _note_code_page(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    if env.doc2path(env.docname).suffix == ".rst":
        return
    if any(True for _ in doctree.findall(nodes.literal_block)) or any(
        True for _ in doctree.findall(nodes.doctest_block)
    ):
        _code_pages(env).add(env.docname)


def _forget_code_page(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _code_pages(env).discard(docname)


def _merge_code_pages(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    _code_pages(env).update(_code_pages(other) & docnames)


def _reread_code_pages(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    return sorted(_code_pages(env) & (env.found_docs - added - changed))


def _block_tensorflow(app: Sphinx, env: BuildEnvironment) -> None:
    # A None entry makes `import tensorflow` raise ImportError; nothing was imported.
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]


def _unblock_tensorflow(app: Sphinx, env: BuildEnvironment) -> None:
    # object, not ModuleType: _block_tensorflow stored None there.
    blocked: object = sys.modules.get("tensorflow", sys)
    if blocked is None:
        del sys.modules["tensorflow"]


def setup(app: Sphinx) -> ExtensionMetadata:
    """Skip gallery pages, re-read pages with code, keep TensorFlow out while names resolve."""
    app.connect("source-read", _skip_gallery_pages)
    app.connect("doctree-read", _note_code_page)
    app.connect("env-purge-doc", _forget_code_page)
    app.connect("env-merge-info", _merge_code_pages)
    app.connect("env-get-outdated", _reread_code_pages)
    # codeautolink resolves names at env-updated, default priority 500.
    app.connect("env-updated", _block_tensorflow, priority=400)
    app.connect("env-updated", _unblock_tensorflow, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
