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


def _search(page: Any, query: str) -> list[str]:
    """Type ``query`` into the sidebar's search box; return the result links in order."""
    page.goto("/index.html")
    box = page.locator("input.sidebar-search").first
    box.fill(query)
    box.press("Enter")
    page.wait_for_url("**/search.html?q=*")
    page.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary') || {})"
        ".textContent?.match(/finished|did not match/)",
        timeout=30_000,
    )
    hrefs = page.locator("#search-results li > a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [href.removeprefix("./") for href in hrefs]


_POOLS = "reference/pools.html#setting-configproto-"
_ENVIRONMENT = "reference/environment.html#setting-"
_SERVING = "reference/serving.html#setting-tensorflow-"
_SESSIONS = "reference/sessions.html#setting-configproto-"

#: What readers type (fields, setters, environment variables, tf.data options, Serving
#: flags, the RuntimeError texts, a pool thread's name) and the section that answers it.
SEARCH_FIRST = {
    "inter_op_parallelism_threads": _POOLS + "inter-op-parallelism-threads",
    "intra_op_parallelism_threads": _POOLS + "intra-op-parallelism-threads",
    "use_per_session_threads": _SESSIONS + "use-per-session-threads",
    "session_inter_op_thread_pool": _SESSIONS + "session-inter-op-thread-pool",
    "set_inter_op_parallelism_threads": _POOLS + "inter-op-parallelism-threads",
    "set_intra_op_parallelism_threads": _POOLS + "intra-op-parallelism-threads",
    "tf.config.threading.set_inter_op_parallelism_threads": _POOLS + "inter-op-parallelism-threads",
    "TF_NUM_INTEROP_THREADS": _ENVIRONMENT + "tf-num-interop-threads",
    "TF_NUM_INTRAOP_THREADS": _ENVIRONMENT + "tf-num-intraop-threads",
    "OMP_NUM_THREADS": _ENVIRONMENT + "omp-num-threads",
    "TF_ENABLE_ONEDNN_OPTS": _ENVIRONMENT + "tf-enable-onednn-opts",
    "private_threadpool_size": "reference/tf-data.html",
    "max_intra_op_parallelism": "reference/tf-data.html",
    "--tensorflow_intra_op_parallelism": _SERVING + "intra-op-parallelism",
    "--tensorflow_session_parallelism": _SERVING + "session-parallelism",
    "Intra op parallelism cannot be modified after initialization": (
        _POOLS + "intra-op-parallelism-threads"
    ),
    "Inter op parallelism cannot be modified after initialization": (
        _POOLS + "inter-op-parallelism-threads"
    ),
    "tf_Compute": _POOLS + "inter-op-parallelism-threads",
}


@pytest.mark.parametrize(("query", "answer"), SEARCH_FIRST.items())
def test_search_box_puts_the_answering_section_first(page: Any, query: str, answer: str) -> None:
    links = _search(page, query)
    assert links, f"searching {query!r} found nothing"
    assert links[0] == answer, f"searching {query!r}: first {links[0]}, not {answer} ({links[:5]})"


def test_search_finds_a_name_inside_a_longer_name(page: Any) -> None:
    # These pages name the field only through its setter, set_inter_op_parallelism_threads.
    pages = {link.split("#")[0] for link in _search(page, "inter_op_parallelism_threads")}
    for answer in ("how-to/set-pools-tf2.html", "tutorial/first-model.html"):
        assert answer in pages, f"{answer} is not among {sorted(pages)}"


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
