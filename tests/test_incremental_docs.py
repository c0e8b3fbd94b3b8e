"""What an incremental docs build keeps: code links of unchanged pages, every page in the sitemap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXTENSIONS = Path(__file__).parents[1] / "docs" / "_ext"
LINK = 'href="api.html#tfthreads.settings.ThreadSettings"'


def _site(root: Path) -> Path:
    (root / "conf.py").write_text(
        'extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx_codeautolink",'
        ' "tfthreads_docs.code_links"]\n'
        'source_suffix = {".rst": "restructuredtext", ".md": "markdown"}\n'
    )
    (root / "index.rst").write_text("Index\n=====\n\n.. toctree::\n\n   api\n   page\n")
    (root / "api.rst").write_text("API\n===\n\n.. autoclass:: tfthreads.settings.ThreadSettings\n")
    (root / "page.md").write_text(
        "# Page\n\n```python\nfrom tfthreads.settings import ThreadSettings\n\n"
        "ThreadSettings(intra_op=1)\n```\n"
    )
    return root


def _build(site: Path) -> str:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXTENSIONS), *sys.path])}
    command = ["-b", "html", "-q", "-W", "-T", str(site), str(site / "_b")]
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", *command],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = site / "_b" / "page.html"
    return page.read_text() if page.exists() else ""


@pytest.mark.slow
def test_an_unchanged_myst_page_written_again_keeps_its_links_without_being_read(tmp_path):
    site = _site(tmp_path)
    assert LINK in _build(site)
    doctree = site / "_b" / ".doctrees" / "page.doctree"
    read_at = doctree.stat().st_mtime_ns
    (site / "_b" / "page.html").unlink()  # written again, from the saved doctree
    assert LINK in _build(site)
    assert doctree.stat().st_mtime_ns == read_at  # the page was not read again


@pytest.mark.slow
def test_a_build_that_writes_one_page_keeps_every_page_in_the_sitemap(tmp_path):
    site = tmp_path
    (site / "conf.py").write_text(
        'extensions = ["myst_parser", "sphinx_sitemap", "tfthreads_docs.sitemap_pages"]\n'
        'html_baseurl = "https://example.org/"\nsitemap_url_scheme = "{link}"\n'
    )
    (site / "index.md").write_text("# Index\n\n```{toctree}\none\ntwo\n```\n")
    for name in ("one", "two"):
        (site / f"{name}.md").write_text(f"# {name}\n")
    _build(site)
    (site / "one.md").write_text("# one, changed\n")
    _build(site)
    sitemap = (site / "_b" / "sitemap.xml").read_text()
    for page in ("index", "one", "two"):
        assert f"https://example.org/{page}.html" in sitemap
