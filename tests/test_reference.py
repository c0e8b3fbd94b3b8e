"""The reference pages cover the catalog, and only the catalog.

The pages, not the library, say where each entry is documented: a page documents an
entry by holding its ``setting-facts`` block, under a section labelled as
:func:`tfthreads_docs.layout.setting_label` says. Every catalog entry is documented on
exactly one page; every setting section names an entry that exists; each section has its
six parts in order; the crosswalk has one row per catalog entry that is not a column of
another row; and a built site shows all of it, with the catalog's MyST code spans
rendered as code.
"""

from __future__ import annotations

import doctest
import html as html_lib
import importlib
import importlib.metadata
import re
import runpy
import subprocess
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs dependency group is not installed")

from tfthreads_docs import checked_against, crosswalk, evidence, layout

from tfthreads import catalog
from tfthreads.process import run_snippet

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXTENSION_MODULES = sorted(
    f"tfthreads_docs.{path.stem}"
    for path in (DOCS / "_ext" / "tfthreads_docs").glob("*.py")
    if path.stem != "__init__"
)

LABEL = re.compile(r"^\((?P<label>[A-Za-z0-9_-]+)\)=\s*$")
HEADING = re.compile(r"^(?P<level>#+)\s+(?P<text>.+?)\s*$")
FACTS = re.compile(r"^```\{setting-facts\}\s+(?P<name>\S+)\s*$")
# Headings that name something in backticks, like "## `ConfigProto.device_count`".
CODE_HEADING = re.compile(r"^`(?P<name>[^`]+)`$")

# The gallery is not run here (tests/test_docs_build.py covers it); -W makes any warning fail.
SPHINX_HTML = (
    sys.executable,
    "-m",
    "sphinx",
    "-b",
    "html",
    "-n",
    "-W",
    "--keep-going",
    "-q",
    "-D",
    "plot_gallery=0",
)

# The pages that document settings (the site's layout, owned by the docs), and the table.
SETTING_PAGES = sorted(
    path.stem
    for path in (DOCS / "reference").glob("*.md")
    if "```{setting-facts}" in path.read_text(encoding="utf-8")
)
REFERENCE_PAGES = [*SETTING_PAGES, "crosswalk"]


def _source(page: str) -> str:
    return (DOCS / "reference" / f"{page}.md").read_text(encoding="utf-8")


def _sections(page: str) -> dict[str, tuple[str, str]]:
    """Map each ``setting-*`` label on a page to (heading text, section source)."""
    lines = _source(page).splitlines()
    starts = [(i, m["label"]) for i, line in enumerate(lines) if (m := LABEL.match(line))]
    starts = [(i, label) for i, label in starts if label.startswith("setting-")]
    sections = {}
    for index, (line_no, label) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        body = lines[line_no + 1 : end]
        heading = next((line for line in body if line.strip()), "")
        match = HEADING.match(heading)
        assert match, f"{page}.md: label ({label})= is not followed by a heading"
        sections[label] = (match["text"], "\n".join(body))
    return sections


def _facts_pages() -> dict[str, list[str]]:
    """Map each catalog name to the pages holding its ``setting-facts`` (facts part) block."""
    found: dict[str, list[str]] = {}
    for page in SETTING_PAGES:
        lines = _source(page).splitlines()
        for index, line in enumerate(lines):
            match = FACTS.match(line)
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if match and following.strip() in ("", "```", ":part: facts"):
                found.setdefault(match["name"], []).append(page)
    return found


def _page_of(setting: catalog.Setting) -> str:
    pages = _facts_pages().get(setting.name, [])
    assert len(pages) == 1, f"{setting.name}: facts shown on {pages or 'no page'}"
    return pages[0]


def test_setting_pages_are_the_reference_pages() -> None:
    assert (
        sorted(
            ["environment", "experimental", "placement", "pools", "serving", "sessions", "tf-data"]
        )
        == SETTING_PAGES
    )


@pytest.mark.parametrize("setting", catalog.CATALOG, ids=lambda s: s.name)
def test_every_catalog_entry_has_a_section_on_its_page(setting: catalog.Setting) -> None:
    page = _page_of(setting)
    label = layout.setting_label(setting.name)
    assert label in _sections(page), (
        f"{setting.name}: no section labelled ({label})= in docs/reference/{page}.md"
    )


def test_the_serving_flags_are_on_the_serving_page() -> None:
    for setting in catalog.by_kind(catalog.Kind.SERVING_FLAG):
        assert _page_of(setting) == "serving", setting.name


def test_labels_are_unique_slugs() -> None:
    labels = [layout.setting_label(s.name) for s in catalog.CATALOG]
    assert len(labels) == len(set(labels))
    for label in labels:
        assert re.fullmatch(r"setting-[a-z0-9]+(-[a-z0-9]+)*", label), label


def test_undocumented_entries_are_named_once_the_site_documents_any() -> None:
    documented = {s.name: "reference/x" for s in catalog.CATALOG[1:]}
    assert layout.undocumented(documented, catalog.CATALOG) == [catalog.CATALOG[0].name]
    assert layout.undocumented({}, catalog.CATALOG) == []  # a site without settings


@pytest.mark.parametrize("module", EXTENSION_MODULES)
def test_extension_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), verbose=False)
    assert result.failed == 0


def test_every_setting_section_names_a_catalog_entry() -> None:
    labels = {layout.setting_label(s.name): s for s in catalog.CATALOG}
    for page in REFERENCE_PAGES:
        for label, (heading, _) in _sections(page).items():
            assert label in labels, f"{page}.md: ({label})= names no catalog entry"
            match = CODE_HEADING.match(heading)
            assert match, f"{page}.md: heading of ({label})= should be the setting in backticks"
            assert match["name"] == labels[label].name, (
                f"{page}.md: ({label})= is headed {heading!r}, expected `{labels[label].name}`"
            )


def test_every_code_heading_on_a_setting_page_is_a_catalog_entry() -> None:
    names = {s.name for s in catalog.CATALOG}
    for page in REFERENCE_PAGES:
        for line in _source(page).splitlines():
            heading = HEADING.match(line)
            if heading and len(heading["level"]) >= 2:
                code = CODE_HEADING.match(heading["text"])
                if code:
                    assert code["name"] in names, (
                        f"{page}.md: heading {line!r} is not in the catalog"
                    )


def test_each_setting_is_documented_once() -> None:
    seen: dict[str, str] = {}
    for page in REFERENCE_PAGES:
        for label in _sections(page):
            assert label not in seen, f"({label})= on both {seen[label]} and {page}"
            seen[label] = page


@pytest.mark.parametrize("setting", catalog.CATALOG, ids=lambda s: s.name)
def test_each_section_has_its_six_parts_in_order(setting: catalog.Setting) -> None:
    _, body = _sections(_page_of(setting))[layout.setting_label(setting.name)]
    lines = body.splitlines()
    facts = [i for i, line in enumerate(lines) if FACTS.match(line)]
    names = {FACTS.match(lines[i])["name"] for i in facts}
    assert names == {setting.name}, f"{setting.name}: setting-facts blocks name {names}"
    # 1-3: the facts block (summary, type, default, resolution, read, freezes); 4: the
    # TF2/TF1 tabs; 5: pitfalls; 6: evidence with the source from the catalog.
    markers = [
        f"```{{setting-facts}} {setting.name}",
        "::::{tab-set}",
        "**Pitfalls and myths.**",
        "**Evidence.**",
        ":part: evidence",
    ]
    positions = []
    for marker in markers:
        found = body.find(marker)
        assert found >= 0, f"{setting.name}: section lacks {marker!r}"
        positions.append(found)
    assert positions == sorted(positions), f"{setting.name}: parts are out of order"
    first_facts = lines[facts[0] + 1]
    assert not first_facts.startswith(":part:") or first_facts == ":part: facts", (
        f"{setting.name}: the first setting-facts block should show the facts"
    )


def test_tf2_snippets_never_start_tensorflow_in_the_sphinx_process() -> None:
    """TensorFlow code on the pages runs in docs/snippets programs via run_snippet, never at ``>>>``."""
    forbidden = re.compile(r"^\s*>>> .*\b(import tensorflow|tf\.)")
    for page in REFERENCE_PAGES:
        for line in _source(page).splitlines():
            assert not forbidden.match(line), f"{page}.md runs TensorFlow in Sphinx: {line!r}"


def test_fresh_process_budget() -> None:
    """Each TensorFlow process costs seconds; the reference pages keep to about 25."""
    calls = sum(
        len(re.findall(r">>> .*\b(run_snippet|observe_pools)\(", _source(page)))
        for page in REFERENCE_PAGES
    )
    assert 0 < calls <= 25


def test_crosswalk_has_one_row_per_entry_not_shown_elsewhere() -> None:
    rows = crosswalk.crosswalk_rows()
    shown = [s.name for row in rows for s in row.settings]
    assert sorted(shown) == sorted(s.name for s in catalog.CATALOG), "each entry once"
    proto = [s for s in catalog.CATALOG if s.kind is catalog.Kind.PROTO_FIELD]
    assert [row.primary for row in rows[: len(proto)]] == proto
    for row in rows:
        assert row.primary in row.settings
        for setting in row.env:
            assert setting.kind is catalog.Kind.ENV_VAR
        for setting in row.flags:
            assert setting.kind is catalog.Kind.SERVING_FLAG
        for setting in row.data:
            assert setting.kind is catalog.Kind.TF_DATA_OPTION


def test_crosswalk_puts_the_pool_counterparts_in_the_pool_rows() -> None:
    rows = {row.primary.name: row for row in crosswalk.crosswalk_rows()}
    intra = rows["ConfigProto.intra_op_parallelism_threads"]
    assert [s.name for s in intra.env] == ["TF_NUM_INTRAOP_THREADS"]
    assert [s.name for s in intra.flags] == ["--tensorflow_intra_op_parallelism"]
    inter = rows["ConfigProto.inter_op_parallelism_threads"]
    assert [s.name for s in inter.env] == ["TF_NUM_INTEROP_THREADS"]
    assert [s.name for s in inter.flags] == ["--tensorflow_inter_op_parallelism"]
    # Related but not equivalent: its own row.
    assert "TF_OVERRIDE_GLOBAL_THREADPOOL" in rows


def test_freezes_at_is_the_first_clause() -> None:
    get = catalog.get
    assert crosswalk.freezes_at(get("RunOptions.inter_op_thread_pool")) == "Never"
    assert (
        crosswalk.freezes_at(get("ConfigProto.intra_op_parallelism_threads"))
        == "When the runtime starts"
    )
    # Punctuation inside code ends no clause.
    assert crosswalk.first_clause("After `a: b; c.` runs; later.") == "After `a: b; c.` runs"


def test_checked_against_reads_package_metadata() -> None:
    installed = checked_against.installed_tensorflow_version()
    assert installed == importlib.metadata.version("tensorflow")
    assert checked_against.catalog_tensorflow_versions()


def test_extension_does_not_import_tensorflow() -> None:
    imports = "; ".join(f"import {module}" for module in ["tfthreads_docs", *EXTENSION_MODULES])
    seen = run_snippet(
        f"import sys; sys.path.append({str(DOCS / '_ext')!r}); {imports}; "
        "result = 'tensorflow' in sys.modules"
    )
    assert seen.returncode == 0, seen.stderr
    assert seen.data is False


def test_the_extension_emits_no_inline_style() -> None:
    # Styles live in docs/_static and are listed in html_css_files.
    for path in (DOCS / "_ext" / "tfthreads_docs").glob("*.py"):
        assert "<style" not in path.read_text(encoding="utf-8"), path.name
    conf = runpy.run_path(str(DOCS / "conf.py"))
    for css in conf["html_css_files"]:
        assert (DOCS / "_static" / css).is_file(), css


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sphinx_design", reason="the docs dependency group is not installed")
    out = tmp_path_factory.mktemp("reference_html")
    completed = subprocess.run(
        [*SPHINX_HTML, str(DOCS), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    ours = [
        line
        for line in completed.stderr.splitlines()
        if any(f"reference/{page}.md" in line for page in REFERENCE_PAGES)
        or "tfthreads_docs" in line
        or "setting-facts" in line
        or "crosswalk" in line
    ]
    assert not ours, "\n".join(ours)
    return out


def _text(html: str) -> str:
    """The visible text of an HTML page, with whitespace collapsed and straight quotes."""
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
    text = text.translate(
        str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
    )
    return " ".join(text.split())


def test_built_pages_have_every_anchor_and_the_catalog_facts(built_site: Path) -> None:
    for setting in catalog.CATALOG:
        html = (built_site / "reference" / f"{_page_of(setting)}.html").read_text(encoding="utf-8")
        assert f'id="{layout.setting_label(setting.name)}"' in html, setting.name
        text = _text(html)
        assert setting.source in text, f"{setting.name}: source not rendered"
        assert setting.summary.replace("`", "") in text, f"{setting.name}: summary not rendered"


def _code_spans(html: str) -> set[str]:
    spans = re.findall(r'<code class="docutils literal notranslate">(.*?)</code>', html, re.DOTALL)
    return {" ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", s)).split()) for s in spans}


def test_built_pages_render_the_catalog_markup(built_site: Path) -> None:
    # Each `code span` in an entry's prose is a code element on its page, and no
    # backtick is left over in the page's text: the MyST was parsed, not copied.
    for setting in catalog.CATALOG:
        html = (built_site / "reference" / f"{_page_of(setting)}.html").read_text(encoding="utf-8")
        spans = _code_spans(html)
        for attribute in ("summary", "resolution", "read_when", "freezes", "tf2_path", "notes"):
            text = getattr(setting, attribute)
            for code in text.split("`")[1::2]:
                assert " ".join(code.split()) in spans, f"{setting.name}.{attribute}: {code!r}"
        article = html[html.index("<article") : html.index("</article>")]
        assert "`" not in _text(article), f"{_page_of(setting)}: unparsed backticks"


def test_built_crosswalk_renders_every_row(built_site: Path) -> None:
    html = (built_site / "reference" / "crosswalk.html").read_text(encoding="utf-8")
    body = html[html.index('<table class="crosswalk') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    assert body.count("<tr") == len(crosswalk.crosswalk_rows())
    assert "<style" not in html[html.index("<article") : html.index("</article>")]
    assert "_static/crosswalk.css" in html
    for setting in catalog.CATALOG:
        page, label = _page_of(setting), layout.setting_label(setting.name)
        links = (f'href="{page}.html#{label}"', f'href="#{label}"')
        assert any(link in body for link in links), setting.name


def test_built_pages_say_which_tensorflow_they_were_checked_against(built_site: Path) -> None:
    version = importlib.metadata.version("tensorflow")
    for page in REFERENCE_PAGES:
        html = (built_site / "reference" / f"{page}.html").read_text(encoding="utf-8")
        assert f"This page was checked against TensorFlow {version}" in _text(html), page


def test_pools_page_answers_the_question_at_the_top() -> None:
    source = _source("pools")
    top = source[: source.index("(setting-configproto-intra-op-parallelism-threads)=")]
    for needed in (
        "intra_op_parallelism_threads",
        "inter_op_parallelism_threads",
        "What to set",
        "gallery-default-pools",
    ):
        assert needed in top, needed
    assert len(top.splitlines()) < 40


def test_gallery_citations_name_catalog_entries() -> None:
    # Gallery examples link to the sections they are evidence for; each link must exist.
    labels = {layout.setting_label(setting.name) for setting in catalog.CATALOG}
    scripts = [s for folder in _gallery_folders() for s in sorted(folder.glob("plot_*.py"))]
    assert scripts
    for script in scripts:
        cited = set(re.findall(r":ref:`(setting-[a-z0-9-]+)`", script.read_text()))
        assert cited <= labels, f"{script.name} cites unknown sections: {cited - labels}"
        assert evidence.gallery_label(script.read_text()), script.name


def _gallery_folders() -> list[Path]:
    """The gallery folders as docs/conf.py configures sphinx-gallery."""
    conf = runpy.run_path(str(DOCS / "conf.py"))
    config = types.SimpleNamespace(sphinx_gallery_conf=conf["sphinx_gallery_conf"])
    return evidence.gallery_folders(config, DOCS)


def test_gallery_folder_comes_from_the_sphinx_config(tmp_path: Path) -> None:
    assert _gallery_folders() == [ROOT / "gallery"]
    (tmp_path / "plot_01_x.py").write_text(
        '"""\n.. _gallery-x:\n\nSee :ref:`setting-tf-num-intraop-threads`.\n"""\n'
    )
    config = types.SimpleNamespace(sphinx_gallery_conf={"examples_dirs": ["ex"]})
    assert evidence.gallery_folders(config, tmp_path) == [tmp_path / "ex"]  # relative to srcdir
    config = types.SimpleNamespace(sphinx_gallery_conf={"examples_dirs": str(tmp_path)})
    found = evidence.gallery_examples_citing(
        "setting-tf-num-intraop-threads", evidence.gallery_folders(config, "/elsewhere")
    )
    assert [label for _, label in found] == ["gallery-x"]


def test_evidence_links_back_to_citing_examples() -> None:
    found = evidence.gallery_examples_citing(
        "setting-configproto-intra-op-parallelism-threads", _gallery_folders()
    )
    assert "gallery-default-pools" in {label for _, label in found}
