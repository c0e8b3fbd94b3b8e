"""The built site in a real headless Chromium: pages, search, copy buttons, tabs, dark mode.

Run by ``nox -s browser`` after ``nox -s docs``; it needs Debian's ``chromium`` and the
``playwright`` package (which drives the system Chromium; no browser is downloaded). In a
plain ``pytest`` run it is skipped.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SITE = os.environ.get("TFTHREADS_SITE")
SCREENSHOTS = os.environ.get("TFTHREADS_SCREENSHOTS")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    not (SITE and CHROMIUM), reason="needs a built site and Chromium: run `nox -s browser`"
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=SITE)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 1600})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    opened = context.new_page()
    yield opened
    context.close()


def _pages() -> list[str]:
    if not SITE:
        return []
    root = Path(SITE)
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if not path.name.startswith("_") and "_sources" not in path.parts
    )


@pytest.mark.parametrize("path", _pages())
def test_page_loads_without_errors_and_every_image_shows(page: Any, path: str) -> None:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and errors.append(f"{response.status} {response.url}")
        ),
    )
    response = page.goto(f"/{path}")
    assert response is not None
    assert response.ok, f"{path}: HTTP {response.status}"
    page.wait_for_load_state("load")
    broken = page.evaluate(
        "Array.from(document.images)"
        ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, f"{path}: images that did not load: {broken}"
    assert not errors, f"{path}: console errors: {errors}"


def test_search_finds_inter_op_parallelism_threads(page: Any) -> None:
    page.goto("/search.html?q=inter_op_parallelism_threads")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=15_000)
    assert results.count() > 0
    assert "pools" in page.locator("#search-results").inner_text().lower()


#: Words users search for, and the stem of the page name that answers each.
SEARCH_ANSWERS = {
    "fork": "fork-safely",
    "deadlock": "inter-op-deadlock",
    "py_function": "other-thread-libraries",
    "TF_SetConfig": "c-api",
    "AUTOTUNE": "see-autotune",
}


@pytest.mark.parametrize(("word", "stem"), SEARCH_ANSWERS.items())
def test_search_finds_the_page_that_answers(page: Any, word: str, stem: str) -> None:
    page.goto(f"/search.html?q={word}")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=15_000)
    links = results.locator("a").evaluate_all("links => links.map(a => a.href)")
    pages = [link.split("#")[0].rsplit("/", 1)[-1].removesuffix(".html") for link in links]
    assert stem in pages, f"searching {word!r} found {pages}, not {stem}.html"


def test_copy_button_copies_the_code(page: Any) -> None:
    page.goto("/reference/pools.html")
    block = page.locator("div.highlight").first
    block.hover()
    block.locator("button.copybtn").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "observe_pools" in copied
    assert ">>>" not in copied  # the prompt is stripped


def test_tf1_tf2_tabs_switch(page: Any) -> None:
    page.goto("/reference/pools.html")
    tab_set = page.locator(".sd-tab-set").first
    labels = tab_set.locator("label")
    contents = tab_set.locator(".sd-tab-content")
    assert contents.nth(0).is_visible()
    assert not contents.nth(1).is_visible()
    labels.nth(1).click()
    assert contents.nth(1).is_visible()
    assert not contents.nth(0).is_visible()


def _luminance(rgb: str) -> float:
    values = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_dark_mode_keeps_gallery_output_readable(page: Any) -> None:
    page.goto("/gallery/plot_01_default_pools.html")
    page.evaluate("localStorage.setItem('theme', 'dark')")
    page.reload()
    assert page.evaluate("document.body.dataset.theme") == "dark"
    output = page.locator(".sphx-glr-script-out pre").first
    colors = output.evaluate(
        "el => { let bg = 'rgba(0, 0, 0, 0)'; let node = el;"
        " while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {"
        " bg = getComputedStyle(node).backgroundColor; node = node.parentElement; }"
        " return [getComputedStyle(el).color, bg]; }"
    )
    light, dark = sorted((_luminance(colors[0]), _luminance(colors[1])), reverse=True)
    contrast = (light + 0.05) / (dark + 0.05)
    assert contrast >= 4.5, f"text {colors[0]} on {colors[1]}: contrast {contrast:.1f}"


@pytest.mark.parametrize(
    "path", ["index.html", "reference/pools.html", "gallery/plot_01_default_pools.html"]
)
def test_screenshots(page: Any, path: str, tmp_path: Path) -> None:
    # Kept in TFTHREADS_SCREENSHOTS when it is set (nox -s browser sets it); the page is
    # rendered and checked either way.
    page.goto(f"/{path}")
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    target = folder / (path.replace("/", "_").removesuffix(".html") + ".png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 10_000, f"{path}: the screenshot is nearly blank"
