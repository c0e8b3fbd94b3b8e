"""Checks on the real built site, run by ``nox -s docs`` right after the build.

``nox -s docs`` sets ``TFTHREADS_SITE`` to the HTML folder it just built with the gallery
run; in a plain ``pytest`` run these tests are skipped, because building the whole gallery
takes minutes and ``tests/test_docs_build.py`` already builds a small site.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

SITE = os.environ.get("TFTHREADS_SITE")
GALLERY_SOURCES = sorted((Path(__file__).resolve().parents[1] / "gallery").glob("plot_*.py"))

pytestmark = pytest.mark.skipif(not SITE, reason="needs a built site: run `nox -s docs`")


def _page(name: str) -> str:
    return (Path(SITE or "") / "gallery" / f"{name}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("source", GALLERY_SOURCES, ids=lambda p: p.stem)
def test_every_example_has_a_figure_and_a_table(source: Path) -> None:
    html = _page(source.stem)
    figures = re.findall(rf'<img[^>]+src="[^"]*sphx_glr_{source.stem}_\d+\.png"', html)
    assert figures, f"{source.name}: no figure on its page"
    outputs = re.findall(r'<div class="sphx-glr-script-out.*?</pre>', html, flags=re.DOTALL)
    assert any(re.search(r"^-{10,}", out, flags=re.MULTILINE) for out in outputs), (
        f"{source.name}: no printed table (a header and a dashed rule) in its output"
    )


@pytest.mark.parametrize("source", GALLERY_SOURCES, ids=lambda p: p.stem)
def test_every_example_says_where_it_ran(source: Path) -> None:
    html = _page(source.stem)
    assert "TensorFlow 2." in html
    assert "logical CPUs" in html


def test_no_third_party_assets() -> None:
    # The site must work from a local folder with no network: no scripts, styles, fonts or
    # images from other hosts.
    offenders = []
    for page in Path(SITE or "").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", html):
            if re.search(r'(?:src|href)="(?:https?:)?//', tag) and 'rel="canonical"' not in tag:
                offenders.append(f"{page.name}: {tag}")
    assert not offenders, "\n".join(offenders[:10])
