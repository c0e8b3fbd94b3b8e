"""Build a tiny site with the project's real docs/conf.py and check the HTML.

In the spirit of sphinx-gallery's own tinybuild test: a broken pipeline (theme, MyST,
gallery execution, figure scraping, the TensorFlow guard) fails here, not only on a
visual check of the real site.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import session_probe_cache

pytest.importorskip("sphinx_gallery", reason="the docs dependency group is not installed")

DOCS = Path(__file__).resolve().parents[1] / "docs"

MEASURING_EXAMPLE = '''
"""
Tiny measured example
=====================

Counts pool threads in a fresh TensorFlow process.
"""

# %%
import matplotlib.pyplot as plt

from tfthreads.probe import observe_pools
from tfthreads.provenance import describe_machine
from tfthreads.settings import ThreadSettings

print("MACHINE:", describe_machine())
seen = observe_pools(ThreadSettings(intra_op=1, inter_op=1))
print(f"TABLE intra={seen.observed_intra_op} inter={seen.observed_inter_op}")
fig, ax = plt.subplots()
ax.bar(["intra", "inter"], [seen.observed_intra_op, seen.observed_inter_op])
plt.show()
'''

OFFENDING_EXAMPLE = '''
"""
Configures TensorFlow in the Sphinx process
===========================================

This is what the guard must refuse.
"""

# %%
import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)
'''


FAILING_EXAMPLE = '''
"""
A measurement that fails
========================

The worker process dies; the build must stop and say which example it was.
"""

# %%
from tfthreads.process import run_worker

run_worker("no_such_task", {})
'''


def _make_site(root: Path, examples: dict[str, str]) -> Path:
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(DOCS / "conf.py", docs / "conf.py")
    shutil.copytree(DOCS / "_ext", docs / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(DOCS / "_intersphinx", docs / "_intersphinx")
    shutil.copytree(DOCS / "_static", docs / "_static")
    (docs / "index.md").write_text(
        "# Tiny site\n\nSee {py:func}`os.sched_getaffinity`.\n\n```{toctree}\ngallery/index\n```\n"
    )
    # The tiny sites of one session observe the probes once, not once per site.
    (docs / "_build").mkdir()
    (docs / "_build" / "probe-cache").symlink_to(session_probe_cache(root))
    gallery = root / "gallery"
    gallery.mkdir()
    (gallery / "GALLERY_HEADER.rst").write_text("Examples\n========\n")
    for name, source in examples.items():
        (gallery / name).write_text(textwrap.dedent(source).lstrip())
    return docs


def _build(
    docs: Path, env: dict[str, str] | None = None, extra: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "--no-color",
        "-b",
        "html",
        "-n",
        "-W",
        "--keep-going",
    ]
    return subprocess.run(
        [*command, *(extra or []), str(docs), str(docs / "_build" / "html")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    docs = _make_site(tmp_path_factory.mktemp("tinybuild"), {"plot_01_tiny.py": MEASURING_EXAMPLE})
    # As a reproducible build would: no run times or build dates on the pages.
    result = _build(docs, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return docs / "_build" / "html"


@pytest.mark.slow
def test_theme_is_furo(built_site):
    html = (built_site / "index.html").read_text()
    assert "furo" in html
    assert "os.sched_getaffinity" in html  # intersphinx resolved (online or offline copy)


@pytest.mark.slow
def test_example_output_and_figure_are_on_the_page(built_site):
    page = (built_site / "gallery" / "plot_01_tiny.html").read_text()
    assert "TABLE intra=1 inter=1" in page  # measured in a fresh process
    assert "MACHINE:" in page
    assert "TensorFlow" in page
    assert "cuInit" not in page  # TensorFlow start-up noise stays off the page
    images = list((built_site / "_images").glob("sphx_glr_plot_01_tiny_*.png"))
    assert images, "the matplotlib figure was not scraped"
    assert images[0].name in page


@pytest.mark.slow
def test_example_is_downloadable(built_site):
    downloads = {path.name for path in (built_site / "_downloads").rglob("*")}
    assert {"plot_01_tiny.py", "plot_01_tiny.ipynb"} <= downloads


@pytest.mark.slow
def test_guard_fails_the_build_naming_the_example(tmp_path):
    docs = _make_site(tmp_path, {"plot_01_offends.py": OFFENDING_EXAMPLE})
    result = _build(docs)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "plot_01_offends.py" in output
    assert "set intra_op_parallelism_threads in the Sphinx process" in output


def _copy_site(built_html: Path, root: Path) -> Path:
    """A copy of the tiny site and its gallery cache, to rebuild without touching the original."""
    site = built_html.parents[2]  # <root>/docs/_build/html -> <root>
    shutil.copytree(site, root / "site", symlinks=True)
    return root / "site" / "docs"


@pytest.mark.slow
def test_first_build_records_the_machine_and_keeps_its_cache(tmp_path, built_site):
    from tfthreads_docs.gallery_support import FINGERPRINT_FILE, rerun_on_machine_change

    from tfthreads.provenance import machine_fingerprint

    gallery = _copy_site(built_site, tmp_path) / "gallery"
    checksum = gallery / "plot_01_tiny.py.md5"
    stamp = gallery / FINGERPRINT_FILE
    # The real build ran the example, cached it, and recorded this machine.
    assert checksum.exists()
    assert stamp.read_text().strip() == machine_fingerprint()
    assert rerun_on_machine_change(gallery) is False  # same machine: cache kept
    assert checksum.exists()
    # A cache without a recorded machine (an older checkout) has nothing to compare
    # with: it is kept, and this machine is recorded; nothing claims otherwise.
    stamp.unlink()
    assert rerun_on_machine_change(gallery) is False
    assert checksum.exists()
    assert stamp.read_text().strip() == machine_fingerprint()


@pytest.mark.slow
def test_machine_change_reruns_examples(tmp_path, built_site):
    from tfthreads_docs.gallery_support import FINGERPRINT_FILE

    from tfthreads.provenance import machine_fingerprint

    docs = _copy_site(built_site, tmp_path)
    checksum = docs / "gallery" / "plot_01_tiny.py.md5"
    stamp = docs / "gallery" / FINGERPRINT_FILE
    os.utime(checksum, ns=(0, 0))  # sphinx-gallery rewrites it only when it runs the example
    # A build that does not run the gallery leaves its cache and stamp alone.
    stamp.write_text("another-machine\n")
    quiet = _build(docs, extra=["-D", "plot_gallery=0"])
    assert quiet.returncode == 0, quiet.stdout[-3000:] + quiet.stderr[-3000:]
    assert checksum.stat().st_mtime_ns == 0
    assert stamp.read_text() == "another-machine\n"
    # An HTML build that runs the gallery sees the other machine and runs the example.
    rerun = _build(docs)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert checksum.stat().st_mtime_ns != 0, "the example was not run again"
    assert stamp.read_text().strip() == machine_fingerprint()
    page = (docs / "_build" / "html" / "gallery" / "plot_01_tiny.html").read_text()
    assert "TABLE intra=1 inter=1" in page


def test_importing_conf_changes_nothing(tmp_path):
    # conf.py is imported by every builder (html, doctest, linkcheck) and by tools; the
    # gallery cache is handled in a Sphinx event, never on import.
    docs = _make_site(tmp_path, {})
    gallery = docs / "gallery"
    gallery.mkdir()
    (gallery / "plot_x.py.md5").write_text("cached")
    (gallery / ".machine-fingerprint").write_text("another-machine\n")
    before = {p.name: p.read_text() for p in gallery.iterdir()}
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = (
        "import os, runpy; runpy.run_path('conf.py'); print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=docs, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert {p.name: p.read_text() for p in gallery.iterdir()} == before
    assert done.stdout.strip() == "None", "conf.py changed the environment on import"


@pytest.mark.slow
def test_reproducible_build_shows_no_run_times(built_site):
    page = (built_site / "gallery" / "plot_01_tiny.html").read_text()
    assert "Total running time" not in page
    assert "Last updated" not in page
    assert not (built_site / "sg_execution_times.html").exists()


@pytest.mark.slow
def test_failing_measurement_fails_the_build_naming_the_example(tmp_path):
    docs = _make_site(tmp_path, {"plot_01_fails.py": FAILING_EXAMPLE})
    result = _build(docs)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "plot_01_fails.py" in output
    assert "task: got 'no_such_task'" in output


RESULTS_PAGE = """# Results

(results-here)=
## Eight CPUs

```{results-file} /results/good.jsonl
:cpus: 8
```
"""


def _results_site(root: Path, files: dict[str, str], page: str | None = RESULTS_PAGE) -> Path:
    """A tiny site with results files under docs/results/ and, optionally, a page showing them.

    ``good.jsonl`` is test_report.py's hand-made file (tests are not a package: loaded by path).
    """
    spec = importlib.util.spec_from_file_location(
        "_test_report", Path(__file__).with_name("test_report.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scenario_file = module.scenario_file

    docs = _make_site(root, {})
    folder = docs / "results"
    folder.mkdir()
    shutil.copy(scenario_file(root), folder / "good.jsonl")
    for name, text in files.items():
        (folder / name).write_text(text)
    if page is not None:
        (docs / "results.md").write_text(page)
        index = docs / "index.md"
        index.write_text(index.read_text().replace("gallery/index\n", "gallery/index\nresults\n"))
    return docs


@pytest.mark.slow
def test_results_file_is_rendered_with_machine_and_intervals(tmp_path):
    docs = _results_site(tmp_path, {})
    result = _build(docs, extra=["-D", "plot_gallery=0"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (docs / "_build" / "html" / "results.html").read_text()
    assert 'id="results-here"' in page
    for fact in ("Test CPU", "2.99.0", "2026-01-02", "1.99 [1.90, 2.09]", "better"):
        assert fact in page
    assert page.count('class="results-figure"><svg') == 1  # the figure of the one scenario


@pytest.mark.slow
def test_malformed_results_file_fails_the_build_in_one_line(tmp_path):
    docs = _results_site(tmp_path, {"broken.jsonl": '{"format": "tfthreads-results"'})
    result = _build(docs, extra=["-D", "plot_gallery=0"])
    assert result.returncode == 1
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if "broken.jsonl" in line]
    assert lines == [
        (
            "ERROR: Results file error: 'docs/results/broken.jsonl' is not a tfthreads results "
            'file: line 1 is no {"format": "tfthreads-results", ...} header [tfthreads.results]'
        )
    ]
    assert "Traceback" not in output


@pytest.mark.slow
def test_results_file_on_no_page_and_a_wrong_cpu_count_fail_the_build(tmp_path):
    other = (Path(__file__).parents[1] / "docs" / "results" / "many_core.jsonl").read_text()
    page = RESULTS_PAGE.replace(":cpus: 8", ":cpus: 16")
    docs = _results_site(tmp_path, {"other.jsonl": other}, page=page)
    result = _build(docs, extra=["-D", "plot_gallery=0"])
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "results/other.jsonl is on no page" in output
    assert "results/good.jsonl is on no page" not in output  # shown, with an error
    assert "good.jsonl was measured on 8 logical CPUs, not the 16 that :cpus: says" in output


@pytest.mark.slow
def test_malformed_release_matrix_file_fails_the_build_in_one_line(tmp_path):
    docs = _make_site(tmp_path, {})
    folder = docs / "results" / "compat"
    folder.mkdir(parents=True)
    (folder / "bad.jsonl").write_text('{"format": "tfthreads-results", "version": 1}\n')
    result = _build(docs, extra=["-D", "plot_gallery=0"])
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert [line for line in output.splitlines() if "bad.jsonl" in line] == [
        (
            "ERROR: Release matrix error: compat: 'docs/results/compat/bad.jsonl' is a results "
            "file of kind None; expected 'release-matrix' [tfthreads.releases]"
        )
    ]
    assert "Traceback" not in output


def _conf(monkeypatch, **env: str) -> dict[str, object]:
    for name in ("READTHEDOCS", "READTHEDOCS_CANONICAL_URL", "TFTHREADS_BASEURL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DOCS / "conf.py"))


def test_canonical_address_comes_from_read_the_docs_or_the_local_server(monkeypatch):
    hosted = _conf(monkeypatch, READTHEDOCS_CANONICAL_URL="https://tfthreads.example/en/stable")
    assert hosted["html_baseurl"] == "https://tfthreads.example/en/stable/"
    assert hosted["ogp_site_url"] == hosted["html_baseurl"]
    # The base URL holds the language and version already: the sitemap adds neither.
    assert hosted["sitemap_url_scheme"] == "{link}"
    assert _conf(monkeypatch)["html_baseurl"] == "http://127.0.0.1:8000/"


def _moved_pages() -> set[str]:
    """Docnames of the pages that git history shows renamed or removed under docs/."""
    log = subprocess.run(
        ["git", "log", "--diff-filter=DR", "--name-status", "--format=", "--", "docs"],
        cwd=DOCS,
        capture_output=True,
        text=True,
        check=False,
    )
    if log.returncode != 0:
        pytest.skip(f"no git history here: {log.stderr.strip()}")
    moved = set()
    for line in log.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        old = Path(fields[1]).relative_to("docs")
        page = old.suffix in {".md", ".rst"} and not old.parts[0].startswith("_")
        if page and not (DOCS / old).exists():
            moved.add(old.with_suffix("").as_posix())
    return moved


def test_every_moved_page_has_a_redirect_to_a_page_that_exists(monkeypatch):
    redirects = _conf(monkeypatch)["redirects"]
    assert isinstance(redirects, dict)
    missing = _moved_pages() - set(redirects)
    assert not missing, f"pages moved without an entry in conf.py's redirects: {sorted(missing)}"
    for old, new in redirects.items():
        assert not (DOCS / f"{old}.md").exists(), f"{old} still exists; it needs no redirect"
        target = (DOCS / old).parent / new.split("#")[0].removesuffix(".html")
        assert target.with_suffix(".md").exists(), f"redirect {old} -> {new}: no such page"


@pytest.mark.parametrize("module", ["mentions", "search"])
def test_extension_modules_examples_hold(module):
    # docs/_ext is outside pytest's doctest paths: run the examples of these modules here.
    import doctest

    examples = doctest.testmod(importlib.import_module(f"tfthreads_docs.{module}"))
    assert examples.failed == 0
    assert examples.attempted > 0
