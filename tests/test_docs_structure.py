"""The site follows the four Diátaxis sections, and its pages carry their evidence.

Every how-to guide contains at least one runnable command (a ``console`` or ``bash``
block with a ``$ `` prompt or a ``tfthreads`` command) or a ``{doctest}`` block; every
explanation page links to at least one gallery example, and only to examples that
exist; each section has a landing page that the home page's toctree lists in order.
These checks read the sources, so they run in milliseconds, without Sphinx.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from tfthreads.stats import TIE

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GALLERY = ROOT / "gallery"
HOW_TO = DOCS / "how-to"
EXPLANATION = DOCS / "explanation"

# The sections, in the order the navigation shows them: the tutorial, the measured
# gallery, then how-to guides, reference and explanation (Diátaxis, with the gallery's
# measured examples between learning and doing).
SECTIONS = (
    "tutorial/index",
    "gallery/index",
    "how-to/index",
    "reference/index",
    "explanation/index",
)

FENCE = re.compile(r"^(?P<fence>`{3,})\s*(?P<info>\S*)")
GALLERY_LABEL = re.compile(r"^\.\. _(?P<label>gallery-[A-Za-z0-9_-]+):", re.MULTILINE)
# {ref}`gallery-x`, {ref}`text <gallery-x>` and [text](gallery-x) all point at a label.
GALLERY_REF = re.compile(r"(?:\{ref\}`(?:[^`<]*<)?|\]\()(?P<label>gallery-[A-Za-z0-9_-]+)")
GALLERY_DOC = re.compile(r"\{doc\}`(?:[^`<]*<)?\.\./gallery/(?P<doc>[\w-]+)>?`")
TOCTREE_ENTRY = re.compile(r"^(?P<entry>[\w./-]+)\s*$")


def pages(folder: Path) -> list[Path]:
    """The content pages of a section, without its landing page."""
    return sorted(p for p in folder.glob("*.md") if p.name != "index.md")


def code_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Return ``(info string, lines)`` for each fenced code block of a MyST page."""
    blocks: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index].strip())
        index += 1
        if not opening:
            continue
        fence, body = opening["fence"], []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        blocks.append((opening["info"], body))
    return blocks


def is_runnable(info: str, body: list[str]) -> bool:
    """Whether a block is a doctest, or a shell block with a command to type."""
    if info == "{doctest}":
        return any(line.strip().startswith(">>> ") for line in body)
    if info in {"console", "bash", "shell", "sh"}:
        return any(
            line.strip().startswith(("$ ", "tfthreads ")) or " tfthreads " in line for line in body
        )
    return False


def toctree_entries(text: str) -> list[str]:
    """The entries of every ``{toctree}`` block of a page, in order."""
    entries = []
    for info, body in code_blocks(text):
        if info == "{toctree}":
            entries += [m["entry"] for line in body if (m := TOCTREE_ENTRY.match(line.strip()))]
    return entries


def gallery_labels() -> set[str]:
    """The ``.. _gallery-...:`` labels that the gallery scripts define."""
    return {
        m["label"]
        for script in GALLERY.glob("plot_*.py")
        for m in GALLERY_LABEL.finditer(script.read_text(encoding="utf-8"))
    }


# --- the helpers themselves ------------------------------------------------------------


def test_code_blocks_and_runnable() -> None:
    text = """\
```console
$ tfthreads doctor
```
````{doctest}
>>> 1 + 1
2
````
```python
x = 1
```
```bash
echo no prompt
```
"""
    blocks = code_blocks(text)
    assert [info for info, _ in blocks] == ["console", "{doctest}", "python", "bash"]
    assert [is_runnable(info, body) for info, body in blocks] == [True, True, False, False]


def test_gallery_ref_forms() -> None:
    text = "{ref}`gallery-a` {ref}`the b example <gallery-b>` [c](gallery-c) {ref}`setting-x`"
    assert [m["label"] for m in GALLERY_REF.finditer(text)] == [
        "gallery-a",
        "gallery-b",
        "gallery-c",
    ]


# --- the site --------------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_landing_page_exists(section: str) -> None:
    if section == "gallery/index":
        # sphinx-gallery writes docs/gallery/index.rst from this header at build time.
        landing = GALLERY / "GALLERY_HEADER.rst"
    else:
        landing = DOCS / f"{section}.md"
    assert landing.is_file(), f"{section}: no landing page"
    assert landing.read_text(encoding="utf-8").strip(), f"{section}: empty landing page"


def test_home_page_navigation_follows_the_four_sections() -> None:
    entries = toctree_entries((DOCS / "index.md").read_text(encoding="utf-8"))
    assert [e for e in entries if e in SECTIONS] == list(SECTIONS)


@pytest.mark.parametrize("folder", [HOW_TO, EXPLANATION], ids=lambda p: p.name)
def test_landing_page_lists_every_page(folder: Path) -> None:
    entries = toctree_entries((folder / "index.md").read_text(encoding="utf-8"))
    assert sorted(entries) == sorted(p.stem for p in pages(folder))


def test_sections_have_pages() -> None:
    assert len(pages(HOW_TO)) >= 7
    assert {"how-tensorflow-uses-threads", "why-defaults-oversubscribe"} <= {
        p.stem for p in pages(EXPLANATION)
    }


@pytest.mark.parametrize("page", pages(HOW_TO), ids=lambda p: p.stem)
def test_how_to_has_a_runnable_command(page: Path) -> None:
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    assert any(is_runnable(info, body) for info, body in blocks), (
        f"{page.name}: no console/bash block with a command and no {{doctest}} block"
    )


@pytest.mark.parametrize("page", pages(EXPLANATION), ids=lambda p: p.stem)
def test_explanation_links_to_the_gallery(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    labels = {m["label"] for m in GALLERY_REF.finditer(text)}
    docs = {m["doc"] for m in GALLERY_DOC.finditer(text)} - {"index"}
    assert labels or docs, f"{page.name}: links to no gallery example"
    missing = labels - gallery_labels()
    assert not missing, f"{page.name}: links to gallery labels that no example defines"


@pytest.mark.parametrize("page", pages(HOW_TO) + pages(EXPLANATION), ids=lambda p: p.stem)
def test_one_sentence_per_line(page: Path) -> None:
    in_block = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line.strip()):
            in_block = not in_block
        if in_block or line.lstrip().startswith(("|", ":", "-", "#")):
            continue
        # A sentence ends at ". " followed by a capital letter; one per line in MyST.
        assert not re.search(r"[a-z0-9)`]\. [A-Z]", line), f"{page.name}:{number}: {line}"


# --- the pages' TensorFlow programs -------------------------------------------------------

SNIPPETS = DOCS / "snippets"
SHOWN = re.compile(r"^\s*```\{literalinclude\} (?:\.\./)+snippets/(?P<name>[\w.]+)$", re.MULTILINE)
RUN = re.compile(r'SNIPPETS / "(?P<name>[\w.]+)"')


def test_each_snippet_is_shown_and_run_on_a_page() -> None:
    # A program shown on a page is the one its doctest runs: both name the same file.
    texts = [p.read_text() for p in DOCS.rglob("*.md") if "_build" not in p.parts]
    shown = {m["name"] for text in texts for m in SHOWN.finditer(text)}
    run = {m["name"] for text in texts for m in RUN.finditer(text)}
    files = {p.name for p in SNIPPETS.glob("*.py")}
    assert files, "no programs in docs/snippets"
    assert shown == files
    assert run == files


def test_no_page_passes_a_program_as_a_string() -> None:
    for page in DOCS.rglob("*.md"):
        if "_build" in page.parts:
            continue
        assert not re.search(r"run_snippet\(r?'''", page.read_text()), (
            f"{page.relative_to(DOCS)}: put the program in docs/snippets and literalinclude it"
        )


# --- the tie margin ------------------------------------------------------------------------

#: "within 5 %" on a line that speaks of ties: the pages' statement of the margin of
#: :data:`tfthreads.stats.TIE` (one sentence per line; "within ±5 %" is a precision target).
TIE_MARGIN = re.compile(r"\bwithin (?P<percent>\d+(?:\.\d+)?) ?%", re.IGNORECASE)
TIE_WORDS = re.compile(r"\b(?:tie|tied|ties|indistinguishable)\b", re.IGNORECASE)


def tie_margins(text: str) -> list[tuple[int, float]]:
    """``(line number, percent)`` of each "within N %" on a line that mentions a tie."""
    return [
        (number, float(m["percent"]))
        for number, line in enumerate(text.splitlines(), 1)
        if TIE_WORDS.search(line)
        for m in TIE_MARGIN.finditer(line)
    ]


def test_tie_margins() -> None:
    text = (
        "A ratio within 3 % of 1 is a tie.\n"
        "Until each ratio is within ±5 %, not a tie.\n"
        "Within 7.5 % of 1 they are indistinguishable.\n"
        "A ratio within 2 % of another, said of no verdict.\n"
    )
    assert tie_margins(text) == [(1, 3.0), (3, 7.5)]


def test_pages_state_the_tie_margin_of_stats_tie() -> None:
    sources = [
        page
        for page in DOCS.rglob("*.md")
        if not {"_build", "gallery"} & set(page.relative_to(DOCS).parts)
    ]
    sources.append(GALLERY / "GALLERY_HEADER.rst")
    found = {
        f"{source.relative_to(ROOT)}:{number}": percent
        for source in sources
        for number, percent in tie_margins(source.read_text(encoding="utf-8"))
    }
    assert found, "no page states the tie margin (a ratio within 5 % of 1 is a tie)"
    wrong = {
        where: percent for where, percent in found.items() if not math.isclose(percent, TIE * 100)
    }
    assert not wrong, f"tie margin other than {TIE * 100:g} % (tfthreads.stats.TIE): {wrong}"
