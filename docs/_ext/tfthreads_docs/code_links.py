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
- What sphinx-codeautolink found on an unchanged MyST page is kept between builds. Its
  cache file holds every page's, but it reads back only those of ``.rst`` sources, so
  an unchanged MyST page would lose its links in an incremental build; this module
  reads back the others, instead of reading those pages again on every build.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


#: sphinx-codeautolink's cache, in the doctree folder (``DataCache.cache_filename``).
_CACHE_FILE = "codeautolink-cache.json"


def _restore_other_sources(app: Sphinx) -> None:
    """Put back the cached transforms of pages that are not ``.rst``, after codeautolink's."""
    transforms = getattr(app.env, "sphinx_codeautolink_transforms", None)
    cache = Path(app.doctreedir, _CACHE_FILE)
    if transforms is None or not cache.is_file():
        return  # another builder than HTML, or a first build
    from sphinx_codeautolink.extension.block import CodeExample, Name, SourceTransform

    suffixes = [suffix for suffix in app.config.source_suffix if suffix != ".rst"]
    for docname, cached in json.loads(cache.read_text("utf-8")).items():
        if docname in transforms or not any(
            Path(app.srcdir, docname + suffix).is_file() for suffix in suffixes
        ):
            continue
        transforms[docname] = [
            SourceTransform(
                **{
                    **item,
                    "example": CodeExample(**item["example"]),
                    "names": [Name(**name) for name in item["names"]],
                }
            )
            for item in cached
        ]


def _block_tensorflow(app: Sphinx, env: BuildEnvironment) -> None:
    # A None entry makes `import tensorflow` raise ImportError; nothing was imported.
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]


def _unblock_tensorflow(app: Sphinx, env: BuildEnvironment) -> None:
    # object, not ModuleType: _block_tensorflow stored None there.
    blocked: object = sys.modules.get("tensorflow", sys)
    if blocked is None:
        del sys.modules["tensorflow"]


def setup(app: Sphinx) -> ExtensionMetadata:
    """Skip gallery pages, keep MyST pages' links, keep TensorFlow out while names resolve."""
    app.connect("source-read", _skip_gallery_pages)
    # codeautolink reads its cache at builder-inited, default priority 500.
    app.connect("builder-inited", _restore_other_sources, priority=600)
    # codeautolink resolves names at env-updated, default priority 500.
    app.connect("env-updated", _block_tensorflow, priority=400)
    app.connect("env-updated", _unblock_tensorflow, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
