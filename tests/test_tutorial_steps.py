"""The tutorial's steps run while the HTML site is built, are checked, and are cached.

Tiny sites with only MyST and ``tfthreads_docs.tutorial_steps`` (no TensorFlow, no
gallery, no probes), whose steps are small shell and Python commands: what a step printed
is on its page; a second build runs nothing; a changed step runs alone, in the folder the
earlier steps left; a step that fails is one warning naming it, is never cached, and runs
again in the next build.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tfthreads_docs import tutorial_steps
from tfthreads_docs.tutorial_steps import Run, check_output, execute

DOCS = Path(__file__).resolve().parents[1] / "docs"

CONF = f"""
import sys
sys.path.insert(0, {str(DOCS / "_ext")!r})
extensions = ["myst_parser", "tfthreads_docs.tutorial_steps"]
"""

PAGE = """\
# Tiny tutorial

```{tutorial-machine}
```

## Step 1: write a program

```{tutorial-file} hello.py
print("hello from", __file__)
```

```{tutorial-run} python hello.py
:match: ^hello from /.*\\bhello\\.py$
hello from ...hello.py
```

## Step 2: look around

```{tutorial-run} ls
hello.py
```
"""

RUNNING = re.compile(r"^tutorial: index: running (.*)$", re.MULTILINE)


def _site(root: Path, page: str) -> Path:
    docs = root / "docs"
    docs.mkdir()
    (docs / "conf.py").write_text(CONF)
    (docs / "index.md").write_text(page)
    return docs


def _build(docs: Path, builder: str = "html") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "sphinx", "--no-color", "-b", builder, "-W", "--keep-going"),
            *(str(docs), str(docs / "_build" / builder)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _ran(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The commands a build ran (not taken from the cache)."""
    return RUNNING.findall(result.stdout)


def _entries(docs: Path) -> list[Path]:
    cache = docs / "_build" / "tutorial-cache"
    return (
        sorted(p for p in cache.iterdir() if not p.name.startswith(".")) if cache.exists() else []
    )


# --- without Sphinx ----------------------------------------------------------------------


def test_examples_in_docstrings() -> None:
    assert doctest.testmod(tutorial_steps).failed == 0


def test_check_output() -> None:
    ok = Run(0, "Thread pools\n  intra-op   0   2 (default)   2\n", "", 1.0)
    assert check_output(ok, "Thread pools\nintra-op 0 ... (default) ...\n", None, 60) is None
    assert check_output(ok, "", r"intra-op +0 +(\d+) \(default\) +\1$", 60) is None
    assert "finds" in str(check_output(ok, "", r"intra-op +1", 60))
    assert check_output(Run(None, "", "", 61.0), "", None, 60) == "did not finish within 60 s"


def test_execute_kills_what_a_timed_out_command_started(tmp_path: Path) -> None:
    done = execute("sleep 30 & sleep 30; echo never", tmp_path, timeout=1)
    assert done.returncode is None
    assert "never" not in done.stdout


def test_execute_puts_this_python_first(tmp_path: Path) -> None:
    done = execute('python -c "import sys; print(sys.executable)"', tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == Path(sys.executable).parent


# --- tiny sites --------------------------------------------------------------------------


@pytest.mark.slow
def test_steps_show_their_output_and_are_cached(tmp_path: Path) -> None:
    docs = _site(tmp_path, PAGE)
    first = _build(docs)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert _ran(first) == ["'python hello.py'", "'ls'"]
    html = (docs / "_build" / "html" / "index.html").read_text()
    assert "hello from" in html
    assert "hello.py" in html
    assert "The outputs on this page were printed on" in html
    assert "TensorFlow" in html
    assert len(_entries(docs)) == 2
    # Nothing changed: nothing runs, and the page is not even read again.
    again = _build(docs)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert _ran(again) == []
    # A changed step runs alone, in the folder the cached step before it left.
    (docs / "index.md").write_text(PAGE.replace("```{tutorial-run} ls", "```{tutorial-run} ls -1"))
    changed = _build(docs)
    assert changed.returncode == 0, changed.stdout[-3000:] + changed.stderr[-3000:]
    assert _ran(changed) == ["'ls -1'"]


FAILING = (
    PAGE
    + """
## Step 3: fail

```{tutorial-run} python -c "import sys; print('one'); sys.exit('no such model: small_model.keras')"
one
```

## Step 4: after it

```{tutorial-run} echo four
four
```
"""
)


@pytest.mark.slow
def test_failing_step_fails_the_build_in_one_line_and_runs_again(tmp_path: Path) -> None:
    docs = _site(tmp_path, FAILING)
    first = _build(docs)
    assert first.returncode != 0
    output = first.stdout + first.stderr
    problems = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert len(problems) == 1, output[-3000:]
    assert problems[0].endswith(
        "WARNING: tutorial step 'Step 3: fail' failed: `python -c \"import sys; print('one'); "
        "sys.exit('no such model: small_model.keras')\"` exited with status 1: no such model: "
        "small_model.keras (whole output: "
        f"{os.path.relpath(docs / '_build' / 'tutorial-logs' / 'index-run-3.log')}) "
        "[tfthreads.tutorial]"
    ), problems[0]
    assert "Traceback" not in output
    log = (docs / "_build" / "tutorial-logs" / "index-run-3.log").read_text()
    assert "no such model" in log
    assert "echo four" not in " ".join(_ran(first))  # the step after a failure does not run
    html = (docs / "_build" / "html" / "index.html").read_text()
    assert "Not run in this build" in html
    assert len(_entries(docs)) == 2  # the two steps that passed; never the failure
    # The failure was not cached: the next build reads the page again and runs it again.
    again = _build(docs)
    assert again.returncode != 0
    assert _ran(again) == [
        "'python -c \"import sys; print(\\'one\\'); sys.exit(\\'no such model: small_model.keras\\')\"'"
    ]


@pytest.mark.slow
def test_output_that_differs_from_the_page_fails_the_build(tmp_path: Path) -> None:
    page = PAGE.replace("hello from ...hello.py", "goodbye from ...hello.py")
    docs = _site(tmp_path, page)
    result = _build(docs)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        "tutorial step 'Step 1: write a program' failed: `python hello.py` printed something "
        "other than the page expects"
    ) in output
    log = (docs / "_build" / "tutorial-logs" / "index-run-1.log").read_text()
    assert "Expected:" in log
    assert "goodbye from" in log
    assert _entries(docs) == []


@pytest.mark.slow
def test_other_builders_run_nothing(tmp_path: Path) -> None:
    docs = _site(tmp_path, textwrap.dedent(PAGE))
    result = _build(docs, builder="text")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _ran(result) == []
    assert "$ python hello.py" in (docs / "_build" / "text" / "index.txt").read_text()
    assert not (docs / "_build" / "tutorial-cache").exists()
