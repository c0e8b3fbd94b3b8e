"""The release matrix's summary as the catalog decides it: highlights and pool naming.

The documentation (``docs/_ext/tfthreads_docs/releases.py``) only words these; the
committed release files under docs/results/compat/ are the data.
"""

from __future__ import annotations

from pathlib import Path

from tfthreads import catalog
from tfthreads.catalog import probes
from tfthreads.catalog.compat import Release, pool_naming, read_releases, release_key
from tfthreads.catalog.facts import Observed
from tfthreads.catalog.releases import (
    HIGHLIGHTS,
    NOT_RECORDED,
    highlight_values,
    naming_summary,
)

COMPAT = Path(__file__).resolve().parents[1] / "docs" / "results" / "compat"


def _release(version: str, sessions: dict[str, object], errors: dict[str, str] | None = None):
    return Release(version, {}, {"sessions": sessions} if sessions else {}, errors or {})


def test_every_highlight_names_a_probe_and_outputs_the_newest_release_records() -> None:
    newest = read_releases(COMPAT)[-1]
    for highlight in HIGHLIGHTS:
        assert highlight.probe in probes.PROBES, highlight
        assert set(highlight.keys) <= set(newest.data[highlight.probe]), highlight
        assert NOT_RECORDED not in highlight_values(highlight, newest)


def test_a_highlight_a_release_does_not_record_reads_not_recorded() -> None:
    release = _release("2.0.0", {"session_pools_ran_on": "caller"})
    runtime = next(h for h in HIGHLIGHTS if h.keys == ("default_intra_op", "default_inter_op"))
    assert highlight_values(runtime, release) == (NOT_RECORDED, NOT_RECORDED)
    sessions = next(h for h in HIGHLIGHTS if h.keys == ("session_pools_ran_on",))
    assert highlight_values(sessions, release) == ("caller",)


def test_highlighted_outputs_are_behaviour_a_fact_of_the_catalog_checks_or_shows() -> None:
    # Each highlighted output is one some observed fact names or a probe output the
    # matrix compares; none is a timing.
    newest = read_releases(COMPAT)[-1]
    for highlight in HIGHLIGHTS:
        for value in highlight_values(highlight, newest):
            assert not isinstance(value, float), highlight
    checked = {
        key
        for s in catalog.CATALOG
        for f in s.facts
        if isinstance(f, Observed)
        for key, _ in f.expect
    }
    assert checked & {key for h in HIGHLIGHTS for key in h.keys}


def test_naming_summary_groups_unnamed_and_unknown_releases_by_why() -> None:
    releases = [
        _release("2.16.2", {"session_pool_thread_names": "python caller python"}),
        _release("2.19.1", {"session_pool_thread_names": "python python"}),
        _release("2.20.0", {}, {"sessions": "ImportError: no module"}),
        _release("2.21.0", {"session_pool_thread_names": "tf_Compute1 tf_Compute0 caller"}),
    ]
    summary = naming_summary(releases)
    assert summary.named == ("2.21.0",)
    assert summary.names == ("tf_Compute0", "tf_Compute1")
    assert [(g.known, g.versions) for g in summary.unnamed] == [
        (False, ("2.16.2", "2.19.1")),
        (None, ("2.20.0",)),
    ]
    assert summary.unnamed[0].why == pool_naming(releases[0]).why
    assert "could not run: ImportError: no module" in summary.unnamed[1].why


def test_naming_summary_gives_the_session_thread_count_only_when_every_release_agrees() -> None:
    same = [
        _release("1", {"session_new_threads_default": 4}),
        _release("2", {"session_new_threads_default": 4}),
    ]
    assert naming_summary(same).session_new_threads == 4
    other = [*same, _release("3", {"session_new_threads_default": 2})]
    assert naming_summary(other).session_new_threads is None
    assert naming_summary([*same, _release("4", {})]).session_new_threads is None
    assert naming_summary([]).session_new_threads is None


def test_the_committed_releases_name_their_pool_threads_from_2_21_on() -> None:
    releases = read_releases(COMPAT)
    summary = naming_summary(releases)
    assert list(summary.named) == [r.version for r in releases if release_key(r.version) >= (2, 21)]
    assert all(name.startswith("tf_Compute") for name in summary.names)
    assert {v for g in summary.unnamed for v in g.versions} == {
        r.version for r in releases if release_key(r.version) < (2, 21)
    }
