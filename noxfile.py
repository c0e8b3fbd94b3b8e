#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox[uv]>=2025.2.9"]
# ///
"""Sessions that test, lint and build tfthreads: ``python3 -m nox -l`` lists them."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
# TensorFlow is large: keep each session's environment between runs and only install
# what changed, instead of reinstalling TensorFlow on every run.
nox.options.reuse_venv = "yes"
# uv does not compile bytecode by default; without .pyc files every fresh TensorFlow
# process (and the measurements start hundreds) recompiles TensorFlow's Python sources,
# which tripled its import time here.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

ROOT = Path(__file__).parent
PROJECT = nox.project.load_toml("pyproject.toml")
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"


def _install(session: nox.Session, *groups: str) -> None:
    deps = [dep for group in groups for dep in nox.project.dependency_groups(PROJECT, group)]
    # TensorFlow is an extra (see README): every session that runs code needs one.
    session.install("-e", ".[tensorflow]", *deps)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint with ruff; type-check the library, docs extensions, gallery and benchmarks with mypy."""
    deps = nox.project.dependency_groups(PROJECT, "lint")
    # mypy reads the docs extensions against Sphinx's own types: the docs group (no
    # TensorFlow, which is untyped here anyway) and docutils' stubs.
    docs = nox.project.dependency_groups(PROJECT, "docs")
    session.install(*deps, *docs, "types-docutils", "psutil")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest, including the library's doctests)."""
    _install(session, "test")
    session.run("pytest", *_parallel(session.posargs), *session.posargs)


def _parallel(args: list[str]) -> list[str]:
    """One pytest worker per CPU this process may use, unless the arguments choose.

    Most tests wait on TensorFlow child processes, so two workers on two CPUs nearly halve
    the suite's time. Tests are sent to workers a file at a time (``--dist loadfile``), so
    a module's built site is built once.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    chosen = "no:xdist" in args or any(
        arg.startswith(("-n", "--numprocesses", "--dist")) for arg in args
    )
    if chosen or not cpus or cpus < 2:
        return []
    return ["-n", str(cpus), "--dist", "loadfile"]


@nox.session
def doctest(session: nox.Session) -> None:
    """Run the ```{doctest}``` blocks of the MyST pages with sphinx-build -b doctest."""
    _install(session, "docs")
    session.run(
        "sphinx-build",
        "-b",
        "doctest",
        "-n",
        "-W",
        "--keep-going",
        "-D",
        "plot_gallery=0",
        str(DOCS),
        str(BUILD / "doctest"),
        *session.posargs,
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML site, running the gallery (``-- --no-gallery`` skips the measurements)."""
    parser = argparse.ArgumentParser(prog="nox -s docs --")
    parser.add_argument("--no-gallery", action="store_true", help="do not run gallery scripts")
    parser.add_argument("--clean", action="store_true", help="remove earlier build output first")
    args, extra = parser.parse_known_args(session.posargs)
    # The test group (it includes docs): the built site is checked with pytest.
    _install(session, "test")
    if args.clean:
        shutil.rmtree(BUILD, ignore_errors=True)
        shutil.rmtree(DOCS / "gallery", ignore_errors=True)
    options = ["-n", "-W", "--keep-going", "-T"]
    if args.no_gallery:
        options += ["-D", "plot_gallery=0"]
    html = BUILD / "html"
    session.run("sphinx-build", "-b", "html", *options, str(DOCS), str(html), *extra)
    if not args.no_gallery:
        # Every example must have produced a figure, a table and its machine description.
        session.run(
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_built_site.py",
            env={"TFTHREADS_SITE": str(html)},
        )
    session.log(f"The site is at {(html / 'index.html').resolve().as_uri()}")


@nox.session(default=False, venv_backend="none")
def serve(session: nox.Session) -> None:
    """Serve the built site on http://127.0.0.1:8000 (``-- --port N`` for another port)."""
    parser = argparse.ArgumentParser(prog="nox -s serve --")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(session.posargs)
    html = BUILD / "html"
    if not (html / "index.html").exists():
        session.error("no built site: run 'python3 -m nox -s docs' first")
    session.log(f"Serving {html} on http://127.0.0.1:{args.port}/ (Ctrl-C stops)")
    session.run(
        sys.executable,
        "-m",
        "http.server",
        str(args.port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(html),
        external=True,
    )


@nox.session(default=False)
def linkcheck(session: nox.Session) -> None:
    """Fail on any broken internal link or anchor; list external links in a report."""
    _install(session, "docs")
    html = BUILD / "linkcheck-html"
    session.run(
        "sphinx-build",
        "-b",
        "html",
        "-n",
        "-W",
        "--keep-going",
        "-q",
        "-D",
        "plot_gallery=0",
        str(DOCS),
        str(html),
    )
    report = BUILD / "external-links.txt"
    session.run("python", str(DOCS / "_ext" / "site_links.py"), str(html), str(report))
    session.log(f"External links (not fetched; CI has no internet) are listed in {report}")


@nox.session(default=False)
def browser(session: nox.Session) -> None:
    """Drive the built site in headless Chromium (needs Debian's chromium package)."""
    html = BUILD / "html"
    if not (html / "index.html").exists():
        session.error("no built site: run 'python3 -m nox -s docs' first")
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        session.error("Chromium is not installed: apt-get install chromium")
    session.install(*nox.project.dependency_groups(PROJECT, "browser"))
    shots = BUILD / "screenshots"
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_browser.py",
        *session.posargs,
        env={"TFTHREADS_SITE": str(html), "TFTHREADS_SCREENSHOTS": str(shots)},
    )
    session.log(f"Screenshots are in {shots}")


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/, check them, and run the wheel in a fresh venv."""
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build[uv]>=1.2", "twine>=6", "check-wheel-contents>=0.6")
    session.run("python", "-m", "build", "--installer=uv", "--outdir", str(dist))
    session.run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
    (wheel,) = dist.glob("*.whl")
    session.run("check-wheel-contents", str(wheel))
    # The wheel alone (no TensorFlow, no source tree on the path) imports and answers;
    # then, with TensorFlow beside it, the doctor runs TensorFlow as a user would.
    venv = Path(session.create_tmp()).resolve() / "wheel-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("uv", "venv", "--quiet", str(venv), external=True)
    python = str(venv / "bin" / "python")
    session.run("uv", "pip", "install", "--python", python, str(wheel), external=True)
    outside = {"PYTHONPATH": None}
    session.chdir(venv)
    session.run(python, "-c", "import tfthreads, tfthreads.cli", external=True, env=outside)
    session.run(str(venv / "bin" / "tfthreads"), "--version", external=True, env=outside)
    session.run("uv", "pip", "install", "--python", python, str(wheel), "tensorflow", external=True)
    session.run(str(venv / "bin" / "tfthreads"), "doctor", external=True, env=outside)


#: The TensorFlow releases ``compat`` verifies: the oldest that pyproject.toml claims
#: (2.16.2), one in the middle (2.19.1), the last that names no pool thread (2.20.0) and the
#: newest, which names them (2.21.0), as ``tensorflow-cpu`` (no CUDA libraries: smaller
#: and faster to install, and the probes observe CPU behaviour only).
COMPAT_RELEASES = ("2.16.2", "2.19.1", "2.20.0", "2.21.0")
COMPAT_RESULTS = DOCS / "results" / "compat"
#: The tests ``compat`` runs on each release, after its probes.
COMPAT_TESTS = ("tests/test_pool_identity.py",)


@nox.session(default=False)
@nox.parametrize("release", COMPAT_RELEASES)
def compat(session: nox.Session, release: str) -> None:
    """Run the catalog's probes on one TensorFlow release (docs/results/compat/<release>), then its tests."""
    # Plain install, not the tensorflow extra: the release must be exactly this one.
    session.install("-e", ".", f"tensorflow-cpu=={release}")
    # The driver runs in this session's interpreter, so every probe process it starts
    # (tfthreads.process uses sys.executable) imports this release.
    output = COMPAT_RESULTS / f"tensorflow-cpu-{release}.jsonl"
    session.run("python", "-m", "tfthreads.catalog.compat", str(output), *session.posargs)
    # The doctor's pool sizes on this release: by names on 2.21, by behaviour before it.
    session.install("pytest>=8")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *COMPAT_TESTS)


@nox.session(default=False)
def robustness(session: nox.Session) -> None:
    """Observe every build decision 5 times under 4 conditions; write benchmarks/results/robustness."""
    _install(session, "docs")  # --gallery runs the examples, which plot with matplotlib
    session.run("python", "benchmarks/robustness.py", *(session.posargs or ["--runs", "5"]))


@nox.session(default=False)
def benchmarks_quick(session: nox.Session) -> None:
    """Run each benchmark's --quick mode into temporary files, and report the committed many-core file."""
    _install(session)
    tmp = Path(session.create_tmp()).resolve() / "benchmarks"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # bench_engine --quick writes engine-quick.json and its results file engine-quick.jsonl
    # in the temporary folder, never results/; tfthreads report must read the latter.
    session.run("python", "benchmarks/bench_engine.py", "--quick", env={"TMPDIR": str(tmp)})
    session.run("tfthreads", "report", str(tmp / "engine-quick.jsonl"))
    many = ["python", "benchmarks/bench_many_core.py"]
    session.run(*many, "--quick", "--out", str(tmp / "many_core.jsonl"), "--md", str(tmp / "q.md"))
    # The committed file of another machine must still read and render.
    committed = DOCS / "results" / "many_core.jsonl"
    session.run(*many, "--report", str(committed), "--md", str(tmp / "many_core.md"))


if __name__ == "__main__":
    os.chdir(ROOT)
    nox.main()
