"""Sphinx configuration for the tfthreads site."""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).parent
# The site's own extension (docs/_ext/tfthreads_docs) is not installed; Sphinx finds it here.
if str(DOCS / "_ext") not in sys.path:
    sys.path.insert(0, str(DOCS / "_ext"))

from tfthreads_docs.gallery_support import TensorFlowGuard

project = "tfthreads"
author = "tfthreads developers"
copyright = "2026, tfthreads developers"
# The version from git without what changes with each commit or edit (0.1.1.dev250+g1a2b,
# say, becomes 0.1.1.dev): a changed version makes Sphinx read every page again.
version = release = re.sub(
    r"\.dev\d+$", ".dev", importlib.metadata.version("tfthreads").split("+")[0]
)

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "notfound.extension",
    "sphinx_sitemap",
    "sphinxext.opengraph",
    "sphinx_reredirects",
    "sphinx_codeautolink",
    "tfthreads_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = [
    "_build",
    "_ext",
    "_intersphinx",
    "gallery/*.ipynb",
    "gallery/*.py",
    "gallery/*.md5",
    "**.codeobj.json",
    "sg_execution_times.rst",
    "**/sg_execution_times.rst",
]
nitpicky = True
nitpick_ignore = [
    # Types named in signatures that have no documentation page to link to.
    ("py:class", "os.PathLike"),
]

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist", "smartquotes"]
# Curly quotes and ellipses, but no dashes: docutils would turn the "--" of a command-line
# flag written in prose or in catalog text (--config=mkl, --tensorflow_intra_op_parallelism)
# into an en dash, which a shell does not accept when the flag is copied.
smartquotes_action = "qe"
myst_heading_anchors = 3

# Docstring examples are tested by pytest (--doctest-modules); the doctest builder runs
# only the explicit {doctest} blocks of the pages.
doctest_test_doctest_blocks = ""
# The pages' TensorFlow programs are files in docs/snippets, shown with literalinclude and
# read by the doctest blocks from here, whichever directory sphinx-build runs in.
doctest_global_setup = f"from pathlib import Path\nSNIPPETS = Path({str(DOCS / 'snippets')!r})"

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = True
napoleon_type_aliases = {
    "mapping": ":class:`~collections.abc.Mapping`",
    "iterable": ":class:`~collections.abc.Iterable`",
    "path-like": ":class:`os.PathLike`",
    "sequence": ":class:`~collections.abc.Sequence`",
    "Path": ":class:`~pathlib.Path`",
    "callable": ":class:`~collections.abc.Callable`",
    **{
        name: f":class:`~tfthreads.{module}.{name}`"
        for module, names in {
            "settings": ("ThreadSettings", "PoolOption", "ResolvedPools"),
            "probe": ("PoolObservation",),
            "topology": ("Topology", "CgroupQuota"),
            "inventory": ("ThreadInventory", "ThreadInfo", "ThreadGroup"),
            "catalog": ("Setting", "Kind"),
            "process": ("WorkerResult", "WorkerError"),
            "workloads": ("WorkloadSpec",),
            "sweep": ("SweepResult",),
            "recommend": ("Recommendation",),
            "options": ("MeasureOptions",),
            "results": ("Measurement", "Failure", "ProcessResult"),
            "results_file": ("ResultsFile",),
            "compare": ("Comparison",),
            "stats": ("RatioInterval", "Summary"),
        }.items()
        for name in names
    },
}

# Names in code blocks and gallery scripts link to their documentation. A page's blocks
# are read as one program, as the cells of a gallery script are: an import in the first
# block links the names of the later ones.
codeautolink_concat_default = True

# docs.python.org first; the copy in _intersphinx/ when there is no network.
# Copy buttons copy code without prompts and outputs: doctest ">>> " and "... ", and
# the "$ " of console examples.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", (None, "_intersphinx/python3.11.inv")),
}
intersphinx_timeout = 10

html_theme = "furo"
html_title = f"tfthreads {release}"
html_static_path = ["_static"]
html_css_files = ["crosswalk.css"]
# Browsers ask for a favicon on every page; without one, each page logs a 404.
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None  # no build timestamps on pages (reproducible builds)
html_theme_options: dict[str, str] = {}

# Canonical URLs (<link rel="canonical">), the sitemap and the social-preview metadata
# all start from the site's address. Read the Docs gives it for the version being built
# (https://<project>.readthedocs.io/<language>/<version>/); TFTHREADS_BASEURL names another
# host; otherwise the site is the one `nox -s serve` serves, and nothing is guessed.
html_baseurl = (
    os.environ.get("READTHEDOCS_CANONICAL_URL")
    or os.environ.get("TFTHREADS_BASEURL")
    or "http://127.0.0.1:8000/"
)
if not html_baseurl.endswith("/"):
    html_baseurl += "/"
# The base URL already holds the language and version on Read the Docs.
sitemap_url_scheme = "{link}"
# Error pages and search results are not content to index.
sitemap_excludes = ["404.html", "search.html", "genindex.html", "py-modindex.html"]
ogp_site_url = html_baseurl
# Social cards would be drawn with matplotlib for every page (build time, fonts); the
# preview shows the page's title and first sentences instead.
ogp_social_cards = {"enable": False}
ogp_enable_meta_description = True

# Pages that moved: old docname -> new page, each served as a small page that forwards
# (sphinx-reredirects), on Read the Docs and on any static host alike. No page has moved
# yet; tests/test_docs_build.py fails when git history shows a page under docs/ renamed
# or removed without an entry here.
redirects: dict[str, str] = {}

# "Edit this page" links, where the repository is known: Read the Docs says which one it
# cloned. Nothing is guessed for local builds.
_clone_url = os.environ.get("READTHEDOCS_GIT_CLONE_URL", "")
if _clone_url:
    _repository = _clone_url.removesuffix(".git").replace("git@github.com:", "https://github.com/")
    html_theme_options.update(
        source_repository=_repository + "/",
        source_branch=os.environ.get("READTHEDOCS_GIT_IDENTIFIER", "main"),
        source_directory="docs/",
    )

# The 404 page needs absolute links: on Read the Docs under /<language>/<version>/, and at
# the root when served locally with `nox -s serve`.
if os.environ.get("READTHEDOCS"):
    notfound_urls_prefix = (
        f"/{os.environ.get('READTHEDOCS_LANGUAGE', 'en')}/"
        f"{os.environ.get('READTHEDOCS_VERSION', 'latest')}/"
    )
else:
    notfound_urls_prefix = "/"

# tfthreads_docs re-runs the gallery's measurements when the machine or software
# changes, not only when an example's source changes (tfthreads_docs/gallery_support.py).
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "gallery"),
    "gallery_dirs": str(DOCS / "gallery"),
    "filename_pattern": r"/plot_",
    # gallery/_helpers.py is the examples' local module, not an example (the gallery's
    # header links it for download: copied among the examples, it breaks the notebook zip).
    "ignore_pattern": r"__init__\.py|(^|/)_\w+\.py$",
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "reset_modules": (TensorFlowGuard(), "matplotlib"),
    "reset_modules_order": "both",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "download_all_examples": True,
    "show_memory": False,
    # The computation-times page loads jQuery and DataTables from CDNs; the site must work
    # offline, and run times are not measurements anyway.
    "write_computation_times": False,
    "matplotlib_animations": False,
}
if os.environ.get("SOURCE_DATE_EPOCH"):
    # Reproducible builds: no run times on the pages.
    sphinx_gallery_conf["min_reported_time"] = sys.maxsize


def _quiet_tensorflow(app: Any, config: Any) -> None:
    """Hide TensorFlow's INFO lines in the processes the build starts.

    Gallery scripts and doctests start TensorFlow in child processes that inherit this
    environment; level 1 keeps TensorFlow's warnings and errors.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


def setup(app: Any) -> None:
    """Work done when a build starts, not when this file is imported."""
    app.connect("config-inited", _quiet_tensorflow)
