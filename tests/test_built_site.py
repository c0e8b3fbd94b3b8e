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


def _output_tables(html: str) -> list[str]:
    """The HTML tables an example's code produced (``_repr_html_`` output, not page markup)."""
    outputs = re.findall(
        r'<div class="output_subarea output_html rendered_html output_result">(.*?)</div>',
        html,
        flags=re.DOTALL,
    )
    return [
        table for out in outputs for table in re.findall(r"<table\b.*?</table>", out, re.DOTALL)
    ]


@pytest.mark.parametrize("source", GALLERY_SOURCES, ids=lambda p: p.stem)
def test_every_example_has_a_figure_and_a_table(source: Path) -> None:
    html = _page(source.stem)
    figures = re.findall(rf'<img[^>]+src="[^"]*sphx_glr_{source.stem}_\d+\.png"', html)
    assert figures, f"{source.name}: no figure on its page"
    results = [table for table in _output_tables(html) if "logical CPUs" not in table]
    assert any("<td" in table for table in results), (
        f"{source.name}: no HTML table of results (a _repr_html_ output) on its page"
    )


@pytest.mark.parametrize("source", GALLERY_SOURCES, ids=lambda p: p.stem)
def test_every_example_says_where_it_ran(source: Path) -> None:
    machine = [t for t in _output_tables(_page(source.stem)) if "logical CPUs" in t]
    assert machine, f"{source.name}: no HTML table describing the machine on its page"
    assert "TensorFlow 2." in machine[0]
    assert "in the affinity mask" in machine[0]


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


def test_tutorial_shows_what_its_steps_printed() -> None:
    html = (Path(SITE or "") / "tutorial" / "first-model.html").read_text(encoding="utf-8")
    assert "The outputs on this page were printed on" in html
    assert "in the affinity mask" in html
    assert "TensorFlow 2." in html
    assert "saved small_model.keras: 5,418 parameters" in html  # Step 2's own output
    assert "Not run in this build" not in html


@pytest.mark.parametrize("source", GALLERY_SOURCES, ids=lambda p: p.stem)
def test_comparisons_carry_paired_intervals(source: Path) -> None:
    # A verdict comes from a paired interval, printed with it; the old rule (quartile
    # ranges that overlap, "within the noise of") judged single measurements.
    html = _page(source.stem)
    printed = re.findall(r'<div class="sphx-glr-script-out.*?</pre>', html, flags=re.DOTALL)
    for output in [*printed, *_output_tables(html)]:
        assert "within the noise of" not in output, f"{source.name}: a verdict without an interval"
    verdicts = [t for t in _output_tables(html) if "indistinguishable" in t or ">better<" in t]
    for table in verdicts:
        assert "95 % CI" in table or "paired rounds" in table, (
            f"{source.name}: a table of verdicts without intervals"
        )
