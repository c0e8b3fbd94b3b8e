"""The pages advise with one voice: what ``tfthreads.recommend`` gives, never a rule of their own.

The rule lives in :mod:`tfthreads.recommend`, with its evidence; a page that advises a
setting for a scenario shows what :func:`~tfthreads.recommend.recommend` gives for it in
this build. These checks read the sources, without Sphinx or TensorFlow:

- the ``{doctest}`` blocks that call ``recommend`` without starting TensorFlow run here,
  so a page cannot show a result that the rule no longer gives (the doctest session runs
  them too, slowly, with every other block);
- no how-to guide, tutorial step or README command sets an inter-op pool of 1, which the
  rule never gives (``explanation-inter-op-deadlock``), except as one value of a grid to
  measure;
- no page restates a thread budget that contradicts the rule.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Task-oriented pages: what they show, readers copy.
ADVISING = sorted(
    [
        *(DOCS / "how-to").glob("**/*.md"),
        *(DOCS / "how-to").glob("**/*.yaml"),
        *(DOCS / "tutorial").glob("*.md"),
        ROOT / "README.md",
    ]
)
ALL_PAGES = sorted(p for p in DOCS.glob("**/*.md") if "_build" not in p.parts)

FENCE = re.compile(r"^(?P<fence>`{3,})\s*(?P<info>\S*)")
# Ways to ask for one inter-op thread: variable, setter, ConfigProto field, TF Serving flag,
# tfthreads options (a single value, not a grid such as 1,2,4) and ThreadSettings.
ONE_INTER_OP = re.compile(
    r"TF_NUM_INTEROP_THREADS\s*=\s*1\b"
    r"|[\"']TF_NUM_INTEROP_THREADS[\"']\s*:\s*[\"']1[\"']"
    r"|set_inter_op_parallelism_threads\(\s*1\s*\)"
    r"|inter_op_parallelism_threads\s*=\s*1\b"
    r"|--tensorflow_inter_op_parallelism[= ]1\b"
    r"|--inter-op[= ]1(?![\d,])"
    r"|ThreadSettings\((?:\s*\d+\s*,\s*1\s*\)|[^)]*inter_op\s*=\s*1\b)"
)
# A YAML env entry: the variable's name, then its value on the next line.
YAML_ONE_INTER_OP = re.compile(
    r"name:\s*TF_NUM_INTEROP_THREADS\s*\n\s*value:\s*[\"']?1[\"']?\s*$", re.MULTILINE
)
# Thread budgets stated on a page before the rule had one voice; each contradicts it.
CONTRADICTIONS = {
    r"together at most about": "intra + inter within the CPUs: the rule counts intra-op only",
    r"do not start more threads than there are CPUs": "the rule counts intra-op threads only",
    r"never oversubscribe": "the rule starts inter-op threads beyond the budget, and says so",
    r"fewer than two threads per CPU": "under a mask the rule gives the defaults' sizes",
    r"inter-op pool at 1 unless": "the rule never gives one inter-op thread",
}
# Blocks that start TensorFlow are left to the doctest session.
STARTS_TENSORFLOW = ("run_snippet", "observe_pools", "doctor_report", "measure(", "tune(")
FLAGS = doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL | doctest.DONT_ACCEPT_TRUE_FOR_1


def doctest_blocks(text: str) -> list[str]:
    """Return the source of each ``{doctest}`` block of a MyST page, without its options."""
    blocks, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        opening = FENCE.match(lines[index].strip())
        index += 1
        if not opening:
            continue
        body = []
        while index < len(lines) and not lines[index].strip().startswith(opening["fence"]):
            body.append(lines[index])
            index += 1
        index += 1
        if opening["info"] == "{doctest}":
            blocks.append("\n".join(line for line in body if not line.startswith(":")) + "\n")
    return blocks


def recommend_blocks(page: Path) -> list[str]:
    """The page's doctest blocks that run without TensorFlow, if one calls ``recommend``."""
    blocks = [
        b for b in doctest_blocks(page.read_text()) if not any(s in b for s in STARTS_TENSORFLOW)
    ]
    return blocks if any("recommend(" in block for block in blocks) else []


PAGES_WITH_ADVICE = [p for p in ALL_PAGES if recommend_blocks(p)]


def test_the_advising_pages_show_recommend() -> None:
    # The pages that advise a setting for a scenario: each shows recommend's result.
    shown = {p.relative_to(DOCS).as_posix() for p in PAGES_WITH_ADVICE}
    expected = {
        "how-to/cap-cores.md",
        "how-to/containers.md",
        "how-to/serving-workers.md",
        "how-to/small-models.md",
        "reference/cli.md",
        "reference/serving.md",
        "explanation/inter-op-deadlock.md",
    }
    assert expected <= shown


@pytest.mark.parametrize("page", PAGES_WITH_ADVICE, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_what_pages_show_is_what_recommend_gives(page: Path) -> None:
    # One namespace per page, as the doctest builder's default group has.
    namespace: dict[str, object] = {}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    parser = doctest.DocTestParser()
    for number, block in enumerate(recommend_blocks(page)):
        test = parser.get_doctest(block, namespace, f"{page.name}[{number}]", str(page), 0)
        runner.run(test, clear_globs=False)
        namespace.update(test.globs)  # a DocTest works on a copy
    assert runner.failures == 0, f"{page}: a recommend block shows what the rule no longer gives"


@pytest.mark.parametrize("page", ADVISING, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_advises_one_inter_op_thread(page: Path) -> None:
    text = page.read_text()
    found = [m.group(0) for m in ONE_INTER_OP.finditer(text)]
    found += [m.group(0) for m in YAML_ONE_INTER_OP.finditer(text)]
    assert found == [], f"{page}: sets an inter-op pool of 1, which recommend never gives"


def test_the_pattern_catches_every_form() -> None:
    caught = [
        "$ TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=1 python serve.py",
        "docker run -e TF_NUM_INTEROP_THREADS=1 image",
        "tf.config.threading.set_inter_op_parallelism_threads(1)",
        "tf.compat.v1.ConfigProto(inter_op_parallelism_threads=1)",
        "--tensorflow_inter_op_parallelism=1",
        "tfthreads doctor --intra-op 2 --inter-op 1",
        "ThreadSettings(2, 1)",
        "ThreadSettings(intra_op=2, inter_op=1)",
        "{'TF_NUM_INTRAOP_THREADS': '2', 'TF_NUM_INTEROP_THREADS': '1'}",
    ]
    assert [line for line in caught if not ONE_INTER_OP.search(line)] == []
    kept = [
        "tfthreads sweep matmul --intra-op 1,2 --inter-op 1,2,4",
        "TF_NUM_INTEROP_THREADS=16",
        "set_inter_op_parallelism_threads(12)",
        "ThreadSettings(1, 2)",
    ]
    assert [line for line in kept if ONE_INTER_OP.search(line)] == []
    assert YAML_ONE_INTER_OP.search('  - name: TF_NUM_INTEROP_THREADS\n    value: "1"\n')
    assert not YAML_ONE_INTER_OP.search('  - name: TF_NUM_INTEROP_THREADS\n    value: "2"\n')


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_no_page_restates_a_contradicting_thread_budget(page: Path) -> None:
    text = " ".join(page.read_text().split())  # a phrase may span a line break
    found = {
        why for phrase, why in CONTRADICTIONS.items() if re.search(phrase, text, re.IGNORECASE)
    }
    assert found == set(), f"{page}: {sorted(found)}"
