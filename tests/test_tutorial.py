"""The tutorial is the first section of the site, and each of its steps shows what it ran.

Every step (a ``## Step N`` section) of a tutorial page must contain a ``{tutorial-run}``
block whose output is checked: the HTML build runs it and fails unless it prints what the
block expects (``docs/_ext/tfthreads_docs/tutorial_steps.py``), so what the page shows was
printed in the build that made it. No step is a ``{doctest}``, which would run it a second
time in another build. Every ``tfthreads`` command the page shows, run or only shown, must
be one the command line accepts. These checks read the sources (and parse commands with
the real argument parser), so they run in milliseconds, without Sphinx or TensorFlow.
"""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

import pytest
import test_docs_structure as structure
from test_docs_structure import DOCS, code_blocks, toctree_entries

from tfthreads.catalog import Kind, by_kind
from tfthreads.cli import build_parser

TUTORIAL = DOCS / "tutorial"
STEP = re.compile(r"^## Step \d+: ", re.MULTILINE)
RUN = re.compile(r"^(?P<fence>`{3,})\{tutorial-run\}\s+(?P<command>.+)$")
SECTION = re.compile(r"^## ", re.MULTILINE)


def tutorial_pages() -> list[Path]:
    """The tutorial's pages, without its landing page."""
    return sorted(p for p in TUTORIAL.glob("*.md") if p.name != "index.md")


def steps(text: str) -> list[tuple[str, str]]:
    """Return ``(heading, body)`` for each ``## Step`` section of a page."""
    starts = [m.start() for m in SECTION.finditer(text)] + [len(text)]
    sections = [text[a:b] for a, b in itertools.pairwise(starts)]
    return [(section.splitlines()[0], section) for section in sections if STEP.match(section)]


def tutorial_runs(text: str) -> list[tuple[str, list[str]]]:
    """Return ``(command, expected output lines)`` for each ``{tutorial-run}`` block."""
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        opening = RUN.match(line)
        if not opening:
            continue
        body = []
        for following in lines[index + 1 :]:
            if following.strip().startswith(opening["fence"]):
                break
            body.append(following)
        found.append((opening["command"].strip(), [b for b in body if not b.startswith(":")]))
    return found


def has_checked_output(expected: list[str]) -> bool:
    """Whether an expected output says something: a line other than ``...`` or blank."""
    return any(line.strip() not in {"", "..."} for line in expected)


def console_commands(text: str) -> list[str]:
    """The commands of a page's ``console`` blocks, without the ``$ `` prompt."""
    return [
        line.strip()[2:]
        for info, body in code_blocks(text)
        if info == "console"
        for line in body
        if line.strip().startswith("$ ")
    ]


# --- the helpers themselves ------------------------------------------------------------


def test_steps_and_checked_output() -> None:
    text = "# T\n\n## Before\n\nx\n\n## Step 1: one\n\na\n\n## Step 2: two\n\nb\n"
    assert [heading for heading, _ in steps(text)] == ["## Step 1: one", "## Step 2: two"]
    block = "```{tutorial-run} tfthreads doctor --no-probe\n:match: x\nCPUs\n...\n```\n"
    assert tutorial_runs(block) == [("tfthreads doctor --no-probe", ["CPUs", "..."])]
    assert has_checked_output(["CPUs", "..."])
    assert not has_checked_output(["...", ""])


# --- the site --------------------------------------------------------------------------


def test_tutorial_comes_first_in_the_navigation() -> None:
    entries = toctree_entries((DOCS / "index.md").read_text(encoding="utf-8"))
    assert entries[:1] == ["tutorial/index"], "docs/index.md: the tutorial must come first"


def test_home_page_has_a_tutorial_card() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    assert ":link: tutorial/index" in text


def test_landing_page_lists_every_tutorial() -> None:
    assert tutorial_pages(), "docs/tutorial/ has no tutorial"
    entries = toctree_entries((TUTORIAL / "index.md").read_text(encoding="utf-8"))
    assert sorted(entries) == sorted(p.stem for p in tutorial_pages())


@pytest.mark.parametrize("page", tutorial_pages(), ids=lambda p: p.stem)
def test_every_step_shows_checked_output(page: Path) -> None:
    found = steps(page.read_text(encoding="utf-8"))
    assert len(found) >= 3, f"{page.name}: a tutorial has numbered steps ('## Step N: ...')"
    for heading, body in found:
        assert any(has_checked_output(expected) for _, expected in tutorial_runs(body)), (
            f"{page.name}: {heading!r} has no {{tutorial-run}} block with checked output"
        )


@pytest.mark.parametrize("page", tutorial_pages(), ids=lambda p: p.stem)
def test_steps_run_once_per_build(page: Path) -> None:
    infos = {info for info, _ in code_blocks(page.read_text(encoding="utf-8"))}
    assert not infos & {"{doctest}", "{testsetup}", "{testcode}"}, (
        f"{page.name}: a doctest would run its step again, in another build than the page's"
    )


@pytest.mark.parametrize("page", tutorial_pages(), ids=lambda p: p.stem)
def test_tfthreads_commands_are_accepted(page: Path) -> None:
    parser = build_parser()
    text = page.read_text("utf-8")
    shown = console_commands(text) + [command for command, _ in tutorial_runs(text)]
    words = [shlex.split(command) for command in shown]
    tfthreads = [w[w.index("tfthreads") + 1 :] for w in words if "tfthreads" in w]
    assert tfthreads, f"{page.name}: tells the reader to run no tfthreads command"
    for arguments in tfthreads:
        parser.parse_args(arguments)  # SystemExit (a failure) for a command the CLI refuses


@pytest.mark.parametrize("page", tutorial_pages(), ids=lambda p: p.stem)
def test_variables_shown_are_the_catalogs(page: Path) -> None:
    variables = set(re.findall(r"\bTF_NUM_\w+", page.read_text(encoding="utf-8")))
    known = {setting.field for setting in by_kind(Kind.ENV_VAR)}
    assert variables, f"{page.name}: shows no TF_NUM_* variable"
    assert variables <= known, f"{page.name}: variables the catalog does not know"


@pytest.mark.parametrize("page", [*tutorial_pages(), TUTORIAL / "index.md"], ids=lambda p: p.stem)
def test_one_sentence_per_line(page: Path) -> None:
    structure.test_one_sentence_per_line(page)
