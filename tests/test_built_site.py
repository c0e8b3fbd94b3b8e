"""Checks on the real built site, run by ``nox -s docs`` right after the build.

``nox -s docs`` sets ``TFTHREADS_SITE`` to the HTML folder it just built with the gallery
run; in a plain ``pytest`` run these tests are skipped, because building the whole gallery
takes minutes and ``tests/test_docs_build.py`` already builds a small site.
"""

from __future__ import annotations

import os
import re
from html import unescape
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


def _pages() -> list[Path]:
    """The site's pages, without Sphinx's and the gallery's own folders (_static, _images)."""
    site = Path(SITE or "")
    pages = site.rglob("*.html")
    return sorted(
        p for p in pages if not any(part.startswith("_") for part in p.relative_to(site).parts)
    )


def test_sitemap_lists_every_content_page_under_the_canonical_address() -> None:
    site = Path(SITE or "")
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    canonical = re.search(
        r'<link rel="canonical" href="([^"]+)"', (site / "index.html").read_text(encoding="utf-8")
    )
    assert canonical, "index.html has no canonical URL"
    base = canonical.group(1).removesuffix("index.html")
    assert f"{base}how-to/tune.html" in locations
    assert f"{base}reference/pools.html" in locations
    assert all(loc.startswith(base) for loc in locations)
    assert not any(loc.endswith(("404.html", "search.html", "genindex.html")) for loc in locations)
    tune = (site / "how-to" / "tune.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{base}how-to/tune.html"' in tune
    assert f'<meta property="og:url" content="{base}how-to/tune.html"' in tune
    assert '<meta property="og:title" content="Tune for latency or for throughput"' in tune


def test_command_line_flags_copy_as_typed() -> None:
    # Smart dashes turn "--config=mkl" into an en dash and "config=mkl", which no shell accepts.
    offenders = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        offenders += [f"{page.name}: {m}" for m in re.findall(r"[\u2013\u2014][a-z][\w=]*", text)]
    assert not offenders, "\n".join(offenders[:10])
    environment = (Path(SITE or "") / "reference" / "environment.html").read_text(encoding="utf-8")
    assert "--config=mkl" in environment
    serving = (Path(SITE or "") / "reference" / "serving.html").read_text(encoding="utf-8")
    assert "--tensorflow_session_config_file" in serving


def _code_and_links(html: str) -> str:
    """The text of a page's code, and the targets of its links, as one string."""
    pieces = re.findall(r"<(?:code|pre)\b[^>]*>(.*?)</(?:code|pre)>", html, flags=re.DOTALL)
    text = unescape(re.sub(r"<[^>]+>", "", "\n".join(pieces)))
    return text + "\n" + "\n".join(re.findall(r'href="[^"]*#(setting-[\w-]+)"', html))


def _listed_in_sections(site: Path) -> dict[str, set[str]]:
    """Setting label -> the pages its section's "Mentioned in" field links to."""
    listed: dict[str, set[str]] = {}
    for page in (site / "reference").glob("*.html"):
        parts = re.split(r'<section id="(setting-[\w-]+)"', page.read_text(encoding="utf-8"))
        for label, body in zip(parts[1::2], parts[2::2], strict=True):
            field = re.search(r">Mentioned in<span.*?</dd>", body, flags=re.DOTALL)
            hrefs = re.findall(r'href="([^"#]+)', field.group(0)) if field else []
            listed[label] = {(page.parent / href).resolve().as_posix() for href in hrefs}
    return listed


def test_every_page_that_mentions_a_setting_is_listed_in_its_section() -> None:
    from tfthreads_docs.layout import setting_label
    from tfthreads_docs.mentions import mentioned_settings

    from tfthreads.catalog import CATALOG

    site = Path(SITE or "")
    listed = _listed_in_sections(site)
    known = {setting_label(setting.name) for setting in CATALOG}
    missing = []
    for folder in ("how-to", "explanation", "tutorial", "gallery"):
        for page in sorted((site / folder).rglob("*.html")):
            if page.name == "index.html":
                continue
            found = _code_and_links(page.read_text(encoding="utf-8"))
            labels = {setting_label(name) for name in mentioned_settings(found)}
            labels |= known & set(re.findall(r"^setting-[\w-]+$", found, flags=re.MULTILINE))
            for label in sorted(labels):
                if page.resolve().as_posix() not in listed.get(label, set()):
                    missing.append(f"{page.relative_to(site)} mentions {label}, not listed there")
    assert listed, "no setting section found"
    assert not missing, "\n".join(missing[:20])


def test_inter_op_section_links_the_deadlock_it_can_cause() -> None:
    pools = (Path(SITE or "") / "reference" / "pools.html").read_text(encoding="utf-8")
    section = pools.split('<section id="setting-configproto-inter-op-parallelism-threads"')[1]
    field = re.search(r">Pitfall explained in<span.*?</dd>", section, flags=re.DOTALL)
    assert field, "the inter-op section has no pitfall pages"
    assert "../explanation/inter-op-deadlock.html" in field.group(0)


def _code_links(html: str) -> dict[str, set[str]]:
    """The text of each link inside a code block -> where it points."""
    links: dict[str, set[str]] = {}
    for pre in re.findall(r"<pre>(.*?)</pre>", html, flags=re.DOTALL):
        for href, text in re.findall(r'<a [^>]*?href="([^"]+)"[^>]*>(.*?)</a>', pre, re.DOTALL):
            links.setdefault(unescape(re.sub(r"<[^>]+>", "", text)), set()).add(href)
    return links


@pytest.mark.parametrize(
    ("page", "name", "target"),
    [
        (
            "gallery/plot_01_default_pools",
            "ThreadSettings",
            "api.html#tfthreads.settings.ThreadSettings",
        ),
        (
            "gallery/plot_01_default_pools",
            "observe_pools",
            "api.html#tfthreads.probe.observe_pools",
        ),
        (
            "gallery/plot_11_tune_your_model",
            "MeasureOptions",
            "api.html#tfthreads.options.MeasureOptions",
        ),
        (
            "how-to/set-pools-tf2",
            "tf.config.threading.set_inter_op_parallelism_threads",
            "pools.html#setting-configproto-inter-op-parallelism-threads",
        ),
        (
            "how-to/set-pools-tf2",
            "tf.config.threading.set_intra_op_parallelism_threads",
            "pools.html#setting-configproto-intra-op-parallelism-threads",
        ),
    ],
)
def test_names_in_code_link_to_their_documentation(page: str, name: str, target: str) -> None:
    html = (Path(SITE or "") / f"{page}.html").read_text(encoding="utf-8")
    links = _code_links(html)
    assert name in links, f"{page}: {name} is not a link in its code (links: {sorted(links)[:20]})"
    assert any(href.endswith(f"/reference/{target}") for href in links[name]), links[name]
