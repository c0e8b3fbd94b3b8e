"""A tutorial that shows its build: ``tutorial-file``, ``tutorial-run`` and ``tutorial-machine``.

A tutorial page shows what each of its steps printed on the machine that built the site.
Its steps are written as::

    ```{tutorial-file} build_model.py
    import keras
    ...
    ```

    ```{tutorial-run} python build_model.py
    saved small_model.keras: ... parameters
    ```

``tutorial-file`` shows a program under its file name and writes it into the page's
working folder. ``tutorial-run`` runs one command line there in a fresh shell, with the
build's Python and ``tfthreads`` first on ``PATH`` (as in the reader's activated virtual
environment), and shows the command with the standard output it printed. TensorFlow never
enters the Sphinx process. The directive's content is what that output must match, as a
doctest's expected output (``...`` matches anything, runs of whitespace are equal); the
``:match:`` option adds a regular expression that must be found in it, for what ``...``
cannot say, such as two numbers being equal. ``tutorial-machine`` says which machine and
software printed the outputs (:func:`tfthreads.provenance.describe_machine`).

The steps of a page run in order in one folder, as the reader's do, so that each sees the
files the earlier ones made. A run that passed is cached under ``_build/tutorial-cache``:
its output and a copy of the folder after it, keyed by everything that can change what it
prints (the command and its checks, every file and run before it on the page, the machine
fingerprint, the tfthreads and TensorFlow versions, the library's source and the
environment variables that size thread pools). A later run whose key is new starts from
that copy. A run that fails is never cached, and its page is read again by the next build,
so the run runs again: a non-zero exit, a time-out or an output that does not match is one
warning naming the step (``-W`` fails the build), with the whole output in a log file
under ``_build/tutorial-logs``; the page's later runs are not run, and say so. Builders
other than HTML run nothing and show the commands only.
"""

from __future__ import annotations

import doctest
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import tfthreads
from tfthreads.provenance import (
    describe_machine,
    installed_tensorflow_version,
    machine_fingerprint,
)

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__all__ = [
    "Run",
    "TutorialFile",
    "TutorialMachine",
    "TutorialRun",
    "base_key",
    "check_output",
    "execute",
    "headings_above",
    "setup",
]

logger = logging.getLogger(__name__)

#: Changed whenever what a cache entry holds changes, so that older entries are not read.
_LAYOUT = 1
#: Variables that change how TensorFlow, OpenMP or a BLAS library sizes its threads; the
#: rest of the environment (PATH, HOME, ...) cannot change what a step prints about them.
_THREAD_VARIABLES = ("TF_", "OMP_", "KMP_", "MKL_", "OPENBLAS_")
#: How an output is compared with the page, as ``{doctest}`` blocks compared them.
_CHECK = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RECORD = "tfthreads_tutorial_runs"
_SESSION = "tfthreads_tutorial_session"

#: This build's cache folder and base key; empty for builders that run nothing.
_BUILD: dict[str, Any] = {}


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _library_digest() -> str:
    """Hash tfthreads' sources: the version number does not change with every edit."""
    package = Path(tfthreads.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def base_key() -> str:
    """Return the key part that every run of this build shares: machine and software.

    Examples
    --------
    >>> len(base_key())
    64
    """
    return _digest(
        {
            "layout": _LAYOUT,
            "machine": machine_fingerprint(),
            "tfthreads": tfthreads.__version__,
            "tensorflow": installed_tensorflow_version(),
            "library": _library_digest(),
            "environment": {
                name: value
                for name, value in sorted(os.environ.items())
                if name.startswith(_THREAD_VARIABLES)
            },
        }
    )


@dataclass(frozen=True)
class Run:
    """What one command printed, and how it ended.

    Attributes
    ----------
    returncode : int or None
        The exit status; ``None`` when it did not finish in time and was killed.
    stdout, stderr : str
        What it printed.
    seconds : float
        How long it ran.
    """

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float


def execute(command: str, folder: Path, timeout: float) -> Run:
    """Run a command line in ``folder`` in a fresh shell; kill it and its children on time-out.

    The build's interpreter folder comes first on ``PATH``, so that ``python`` and
    ``tfthreads`` are the build's, as they are in the reader's activated virtual environment.
    """
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])
    env = {**os.environ, "PATH": path}
    start = time.monotonic()
    # A session of its own: `tfthreads tune` starts worker processes, and a time-out must
    # end them too, not only the shell.
    # A shell, because the page's command lines are what the reader types in one
    # (`NAME=value python predict.py`).
    with subprocess.Popen(
        command,
        shell=True,
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            return Run(None, stdout, stderr, time.monotonic() - start)
    return Run(process.returncode, stdout, stderr, time.monotonic() - start)


def check_output(run: Run, expected: str, match: str | None, timeout: float) -> str | None:
    r"""Return why a run failed the page's checks, in a few words; ``None`` when it passed.

    Examples
    --------
    >>> ok = Run(0, "saved: 5,418 parameters\n", "", 1.0)
    >>> check_output(ok, "saved: ... parameters", None, 60) is None
    True
    >>> check_output(ok, "saved: 12 parameters", None, 60)
    'printed something other than the page expects'
    >>> check_output(Run(2, "", "error: no such file\n", 1.0), "", None, 60)
    'exited with status 2: error: no such file'
    """
    if run.returncode is None:
        return f"did not finish within {timeout:g} s"
    if run.returncode != 0:
        last = next((line for line in reversed(run.stderr.splitlines()) if line.strip()), "")
        return f"exited with status {run.returncode}" + (f": {last.strip()}" if last else "")
    if expected.strip() and not doctest.OutputChecker().check_output(expected, run.stdout, _CHECK):
        return "printed something other than the page expects"
    if match is not None and not re.search(match, run.stdout, re.MULTILINE):
        return f"printed nothing that :match: {match!r} finds"
    return None


def _details(command: str, run: Run, expected: str, match: str | None) -> str:
    """Return the log of a failed run: the command, both outputs and what the page expected."""
    example = doctest.Example(command, expected)
    difference = doctest.OutputChecker().output_difference(example, run.stdout, _CHECK)
    return "\n".join(
        [
            f"$ {command}",
            f"exit status: {run.returncode} after {run.seconds:.1f} s",
            difference,
            *([f":match: {match}"] if match else []),
            "standard error:",
            run.stderr,
        ]
    )


@dataclass
class _Session:
    """The working folder of one page's steps while the page is read.

    The folder is made only when a run is not cached; until then, ``restore`` (the folder
    as the last run left it, in its cache entry) and the files written since then
    (``pending``) say what it must hold.
    """

    cache: Path
    key: str
    folder: Path | None = None
    current: bool = False
    restore: Path | None = None
    pending: dict[str, str] = field(default_factory=dict)
    failed: str | None = None
    runs: int = 0

    def advance(self, *parts: object) -> str:
        self.key = _digest([self.key, *parts])
        return self.key

    def write(self, name: str, text: str) -> None:
        if self.current and self.folder is not None:
            (self.folder / name).write_text(text, encoding="utf-8")
        else:
            self.pending[name] = text

    def prepare(self) -> Path:
        """Make the folder hold what the page's steps so far left in it."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="tfthreads-tutorial-"))
        if not self.current:
            for child in list(self.folder.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            if self.restore is not None:
                shutil.copytree(self.restore, self.folder, symlinks=True, dirs_exist_ok=True)
            for name, text in self.pending.items():
                (self.folder / name).write_text(text, encoding="utf-8")
            self.pending.clear()
            self.current = True
        return self.folder

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _entry(cache: Path, key: str) -> Path:
    return cache / key


def _cached(cache: Path, key: str) -> dict[str, Any] | None:
    result = _entry(cache, key) / "result.json"
    try:
        data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def _store(cache: Path, key: str, folder: Path, data: dict[str, Any]) -> None:
    """Cache a run that passed: its result and the folder after it, made whole, then renamed.

    A reader sees a complete entry or none, even with parallel builds writing the same key.
    """
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=cache))
    shutil.copytree(folder, partial / "files", symlinks=True)
    (partial / "result.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    try:
        partial.rename(_entry(cache, key))
    except OSError:  # another build stored the same key first: theirs is as good
        shutil.rmtree(partial, ignore_errors=True)


def _session(directive: SphinxDirective) -> _Session:
    temp = directive.env.temp_data
    if _SESSION not in temp:
        temp[_SESSION] = _Session(cache=_BUILD["cache"], key=_BUILD["base"])
        _records(directive.env)[directive.env.docname] = {"base": _BUILD["base"], "keys": []}
    session: _Session = temp[_SESSION]
    return session


def _runs_here(directive: SphinxDirective) -> bool:
    """Whether this build runs the steps: HTML builders only (see :func:`_start`)."""
    directive.env.note_dependency(__file__)
    return bool(_BUILD)


def headings_above(text: str, line: int) -> list[str]:
    r"""Return the titles of the sections that line ``line`` (from 1) of a MyST page is in.

    Outermost first; lines in code blocks are not headings.

    Examples
    --------
    >>> page = "# T\n\n## Step 1: go\n\n```python\n# no title\n```\n\n### Here\n\nx\n"
    >>> headings_above(page, 11)
    ['T', 'Step 1: go', 'Here']
    """
    stack: list[tuple[int, str]] = []
    fence: str | None = None
    for source in text.splitlines()[: line - 1]:
        opening = _FENCE.match(source)
        if fence is not None:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening[1]
        elif heading := _HEADING.match(source):
            level = len(heading[1])
            stack = [*(entry for entry in stack if entry[0] < level), (level, heading[2])]
    return [title for _, title in stack]


def _step(directive: SphinxDirective) -> str:
    """Name the step a directive is in by its section titles, without the page's title."""
    source = directive.env.doc2path(directive.env.docname)
    titles = headings_above(Path(source).read_text(encoding="utf-8"), directive.lineno)
    return " > ".join(titles[1:] or titles or [directive.env.docname])


def _block(text: str, language: str, caption: str | None, classes: list[str]) -> nodes.Element:
    literal = nodes.literal_block(text, text, language=language, classes=classes)
    if caption is None:
        return literal
    wrapper = nodes.container("", literal_block=True, classes=["literal-block-wrapper"])
    wrapper += nodes.caption(caption, caption)
    wrapper += literal
    return wrapper


class TutorialFile(SphinxDirective):
    """``tutorial-file NAME``: show a program the reader saves, and save it in the folder."""

    has_content = True
    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"language": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        """Return the program under its file name; write it for the runs that follow."""
        name = self.arguments[0]
        if Path(name).name != name or name in {".", ".."}:
            raise self.error(f"tutorial-file: got {name!r}; expected a file name, no folder")
        text = "\n".join(self.content) + "\n"
        language = self.options.get("language", "python")
        block = _block(text, language, name, ["tutorial-file"])
        self.set_source_info(block)
        if _runs_here(self):
            session = _session(self)
            session.advance("file", name, text)
            session.write(name, text)
        return [block]


class TutorialRun(SphinxDirective):
    """``tutorial-run COMMAND``: run a command line, check and show what it printed."""

    has_content = True
    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "match": directives.unchanged_required,
        "timeout": directives.positive_int,
    }
    #: Seconds a run may take before it is killed (``:timeout:`` changes it): long enough
    #: for a short ``tfthreads tune`` on a busy builder, short enough to end a stuck one.
    timeout: ClassVar[float] = 600.0

    def run(self) -> list[nodes.Node]:
        """Run the command, or take its cached output; return the command and its output."""
        command = self.arguments[0]
        expected = "\n".join(self.content).strip("\n")
        expected = expected + "\n" if expected else ""
        match = self.options.get("match")
        if match is not None:
            try:
                re.compile(match)
            except re.error as error:
                raise self.error(
                    f"tutorial-run: :match: {match!r} is no regular expression: {error}"
                ) from None
        timeout = float(self.options.get("timeout", self.timeout))
        if not _runs_here(self):
            block = _block(f"$ {command}", "console", None, ["tutorial-run"])
            self.set_source_info(block)
            return [block]
        session = _session(self)
        session.runs += 1
        key = session.advance("run", command, expected, match, timeout)
        _records(self.env)[self.env.docname]["keys"].append(key)
        step = _step(self)
        if session.failed is not None:
            text = f"Not run in this build: the step {session.failed!r} above failed."
            return [self._shown(command, ""), nodes.paragraph(text, text)]
        cached = _cached(session.cache, key)
        if cached is not None:
            session.current = False
            session.restore = _entry(session.cache, key) / "files"
            session.pending.clear()
            return [self._shown(command, str(cached["stdout"]))]
        folder = session.prepare()
        logger.info(f"tutorial: {self.env.docname}: running {command!r}")
        done = execute(command, folder, timeout)
        problem = check_output(done, expected, match, timeout)
        if problem is None:
            _store(
                session.cache,
                key,
                folder,
                {"command": command, "stdout": done.stdout, "seconds": round(done.seconds, 1)},
            )
            session.restore = _entry(session.cache, key) / "files"
            return [self._shown(command, done.stdout)]
        session.failed = step
        log = self._log(session.runs, _details(command, done, expected, match))
        logger.warning(
            f"tutorial step {step!r} failed: `{command}` {problem} (whole output: {log})",
            location=self.get_location(),
            type="tfthreads",
            subtype="tutorial",
        )
        text = f"This step failed in this build: `{command}` {problem}."
        return [self._shown(command, done.stdout), nodes.paragraph(text, text)]

    def _shown(self, command: str, stdout: str) -> nodes.Element:
        # The reader's terminal shows the same: the command after its prompt, then what it
        # printed (the copy button copies the command only).
        text = "\n".join([f"$ {command}", *stdout.rstrip().splitlines()])
        block = _block(text, "console", None, ["tutorial-run"])
        self.set_source_info(block)
        return block

    def _log(self, number: int, text: str) -> str:
        logs: Path = _BUILD["logs"]
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"{self.env.docname.replace('/', '-')}-run-{number}.log"
        path.write_text(text, encoding="utf-8")
        return os.path.relpath(path)


class TutorialMachine(SphinxDirective):
    """``tutorial-machine``: the machine and software that printed the page's outputs."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Return one sentence naming the machine, CPU budget, TensorFlow and Python."""
        if _runs_here(self):
            _session(self)  # the page is read again when the machine changes
            text = f"The outputs on this page were printed on {describe_machine()}."
        else:
            text = "The HTML build of this site shows what each step printed, and where."
        return [nodes.paragraph(text, text, classes=["tutorial-machine"])]


def _records(env: BuildEnvironment) -> dict[str, dict[str, Any]]:
    """Per page that runs steps: the base key it was read with and its runs' keys."""
    if not hasattr(env, _RECORD):
        setattr(env, _RECORD, {})
    records: dict[str, dict[str, Any]] = getattr(env, _RECORD)
    return records


def _start(app: Sphinx) -> None:
    """``builder-inited``: the cache folder and base key of an HTML build."""
    _BUILD.clear()
    if app.builder.format == "html":
        build = Path(app.outdir).parent
        _BUILD.update(cache=build / "tutorial-cache", logs=build / "tutorial-logs", base=base_key())


def _outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Read a page again when a run of it is not cached (it failed) or the machine changed."""
    if not _BUILD:
        return []
    stale = []
    for docname, record in _records(env).items():
        if docname in added | changed | removed or docname not in env.found_docs:
            continue
        missing = any(_cached(_BUILD["cache"], key) is None for key in record["keys"])
        if record["base"] != _BUILD["base"] or missing:
            stale.append(docname)
    return stale


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _records(env).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    theirs = _records(other)
    _records(env).update({name: theirs[name] for name in docnames if name in theirs})


def _close(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: the page is read; remove its working folder."""
    session = app.env.temp_data.pop(_SESSION, None)
    if session is not None:
        session.close()


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the directives and the cache's events."""
    app.add_directive("tutorial-file", TutorialFile)
    app.add_directive("tutorial-run", TutorialRun)
    app.add_directive("tutorial-machine", TutorialMachine)
    app.connect("builder-inited", _start)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-read", _close)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
