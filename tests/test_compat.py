"""The release matrix: committed per-release files agree with the catalog and the bound.

``nox -s compat`` is not run in CI (it installs several TensorFlow releases); these tests
check what it committed under docs/results/compat/ instead.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tfthreads import catalog
from tfthreads.catalog.compat import (
    COUNTED_BY_NAME,
    KIND,
    POOL_NAME_EVIDENCE,
    Release,
    changed,
    counted_by_name,
    fact_outcomes,
    main,
    pool_naming,
    read_release,
    read_releases,
    record,
    release_key,
)
from tfthreads.catalog.facts import UNDECIDED, Observed
from tfthreads.errors import SettingError
from tfthreads.provenance import installed_tensorflow_version

ROOT = Path(__file__).resolve().parents[1]
COMPAT = ROOT / "docs" / "results" / "compat"
OBSERVED = [
    (setting.name, fact)
    for setting in catalog.CATALOG
    for fact in setting.facts
    if isinstance(fact, Observed)
]


@pytest.fixture(scope="module")
def releases():
    return read_releases(COMPAT)


def test_at_least_three_releases_are_committed_each_with_its_provenance(releases):
    assert len(releases) >= 3
    assert len({r.version for r in releases}) == len(releases)
    for release in releases:
        assert release.provenance["tensorflow_version"] == release.version
        assert release.provenance["topology"]["logical_cpus"] >= 1
        # The probes imported that release, not the one installed next to the tests.
        assert release.data["runtime"]["tensorflow_version"] == release.version


def test_every_observed_fact_has_a_result_or_a_reason_on_every_release(releases):
    """A fact added after the files were written fails here: run ``nox -s compat`` again."""
    gaps = [
        f"{name}: probe {fact.probe!r} on {outcome.version} reported none of "
        f"{[key for key, _ in fact.expect]}"
        for name, fact in OBSERVED
        for outcome in fact_outcomes(fact, releases)
        if outcome.status == "missing"
    ]
    assert gaps == []


def test_the_lower_bound_is_the_oldest_release_on_which_every_probe_runs(releases):
    """The bound is the oldest release the matrix verifies; no release below it is kept.

    On each release from the bound up every probe ran, and every fact holds, differs in
    a value TensorFlow really changed (the last test of this file names them), or is not
    observable because it reads thread names that release does not set.
    """
    # The extras: tensorflow = ["tensorflow>=X"], tensorflow-cpu = ["tensorflow-cpu>=X"].
    text = (ROOT / "pyproject.toml").read_text()
    pattern = r'^tensorflow(?:-cpu)? = \["tensorflow(?:-cpu)?>=([\d.]+)"\]$'
    bounds = set(re.findall(pattern, text, re.MULTILINE))
    assert len(bounds) == 1
    bound = bounds.pop()
    assert releases[0].version == bound  # the bound itself was verified, nothing older
    assert {r.version: r.errors for r in releases} == {r.version: {} for r in releases}


def test_a_changed_observation_is_reported_as_differs_and_changed(tmp_path, releases):
    newest = releases[-1]
    name, fact = next((n, f) for n, f in OBSERVED if f.probe == "runtime")
    key, _ = fact.expect[0]
    data = {**newest.data["runtime"], key: "something else"}
    text = (COMPAT / f"tensorflow-cpu-{newest.version}.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in text[1:]]
    rows = [{"probe": "runtime", "data": data} if r["probe"] == "runtime" else r for r in rows]
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join([text[0], *map(json.dumps, rows)]) + "\n")
    outcomes = fact_outcomes(fact, [newest, read_release(edited)])
    assert [o.status for o in outcomes] == ["holds", "differs"], name
    assert f"{key}='something else'" in outcomes[1].seen
    assert changed(outcomes)
    assert not changed(outcomes[:1])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "is not a tfthreads results file: line 1 is no"),
        (None, f"is a results file of kind None; expected {KIND!r}"),
        ("HEADER\n" + '{"probe": "no_such_probe", "data": {}}\n', "names probe 'no_such_probe'"),
        ("HEADER\n" + '{"probe": "runtime", "data": [1]}\n', "has neither 'data' (object) nor"),
    ],
)
def test_a_foreign_or_malformed_file_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    if content is None:  # a real results file of another kind: a measurement
        shutil.copy(ROOT / "docs" / "results" / "many_core.jsonl", path)
    else:
        header = (COMPAT / min(p.name for p in COMPAT.glob("*.jsonl"))).read_text()
        path.write_text(content.replace("HEADER", header.splitlines()[0]))
    with pytest.raises(SettingError) as error:
        read_release(path)
    text = str(error.value)
    assert message in text
    assert text.startswith(f"compat: {str(path)!r}")
    assert "\n" not in text


def test_release_key_orders_versions_numerically():
    assert sorted(["2.21.0", "2.9.1", "2.16.2"], key=release_key) == ["2.9.1", "2.16.2", "2.21.0"]


def test_unknown_probe_name_is_one_line_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["out.jsonl", "no_such_probe"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith(
        "probes: got ['no_such_probe']; expected some of "
        "['runtime', 'data_pipeline', 'sessions', 'onednn', 'execution']"
    )


@pytest.mark.slow
def test_record_writes_a_file_that_reads_back_for_the_installed_release(tmp_path):
    path = record(tmp_path / "here.jsonl", names=["onednn"])
    release = read_release(path)
    assert release.version == installed_tensorflow_version()
    assert release.errors == {}
    assert release.data["onednn"]["onednn_on_with_1"] is True
    assert release.provenance["tensorflow_version"] == release.version


def test_a_probe_that_cannot_run_is_recorded_as_unavailable_not_fatal(tmp_path):
    """A release that lacks an API, or hangs, costs its probe's facts, not the run."""
    path = record(tmp_path / "slow.jsonl", names=["onednn"], timeout=0.5)
    release = read_release(path)
    assert release.data == {}
    assert "timed out after 0.5 s" in release.errors["onednn"]
    fact = next(f for _, f in OBSERVED if f.probe == "onednn")
    [outcome] = fact_outcomes(fact, [release])
    assert outcome.status == "unavailable"
    assert outcome.seen == release.errors["onednn"]


# Holds, differs, not observable: fake probe data of a release, never a fake TensorFlow.
NAMED = {"session_pool_thread_names": "tf_Compute0 tf_Compute1 caller tf_Compute0"}
UNNAMED = {"session_pool_thread_names": "python python caller python"}
# A value read by name (the other threads' names) next to a pool count (observable on
# any release: told apart by behaviour where names do not tell).
POOL_AND_ABORT = Observed(
    ("default",),
    "onednn",
    (("onednn_matmul_other_threads", "tf_graph_runner"), ("omp_1_intra_op", "{cpus}")),
    "",
)


def _release(version, onednn, sessions=NAMED, errors=None):
    data = {"onednn": {"cpus": 2, **onednn}}
    if sessions is not None:
        data["sessions"] = sessions
    return Release(version, {}, data, errors or {})


def test_a_fact_holds_where_every_value_is_the_one_the_claim_implies():
    release = _release(
        "2.21.0", {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 2}
    )
    [outcome] = fact_outcomes(POOL_AND_ABORT, [release])
    assert outcome.status == "holds"
    assert outcome.seen == "onednn_matmul_other_threads='tf_graph_runner', omp_1_intra_op=2"
    assert outcome.unobserved == ()


def test_a_fact_differs_on_a_release_that_names_its_pools_with_what_was_seen_and_expected():
    release = _release(
        "2.22.0", {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 3}
    )
    [outcome] = fact_outcomes(POOL_AND_ABORT, [release])
    assert outcome.status == "differs"
    assert (outcome.seen, outcome.expected) == ("omp_1_intra_op=3", "omp_1_intra_op='2'")


def test_a_value_read_by_name_is_not_observable_where_the_release_leaves_threads_unnamed():
    blind = _release("2.16.2", {"onednn_matmul_other_threads": "", "omp_1_intra_op": 2}, UNNAMED)
    right = _release(
        "2.21.0", {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 2}
    )
    outcomes = fact_outcomes(POOL_AND_ABORT, [blind, right])
    assert [o.status for o in outcomes] == ["not observable", "holds"]
    assert outcomes[0].unobserved == ("onednn_matmul_other_threads",)
    assert outcomes[0].seen == "onednn_matmul_other_threads=''"
    assert "unnamed" in outcomes[0].why
    assert "`python`" in outcomes[0].why
    # Nothing was seen to compare: not a change between releases.
    assert not changed(outcomes)


def test_an_observable_difference_on_a_release_with_unnamed_pools_still_differs():
    """The pool count changed; the thread names beside it cannot be read there."""
    release = _release("2.16.2", {"onednn_matmul_other_threads": "", "omp_1_intra_op": 5}, UNNAMED)
    right = _release(
        "2.21.0", {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 2}
    )
    outcomes = fact_outcomes(POOL_AND_ABORT, [release, right])
    assert outcomes[0].status == "differs"
    assert outcomes[0].seen == "omp_1_intra_op=5"
    assert outcomes[0].expected == "omp_1_intra_op='2'"
    assert outcomes[0].unobserved == ("onednn_matmul_other_threads",)
    assert "unnamed" in outcomes[0].why
    assert changed(outcomes)


def test_a_pool_count_is_judged_on_a_release_with_unnamed_pools():
    fact = Observed(("default",), "onednn", (("omp_1_intra_op", "{cpus}"),), "")
    release = _release("2.16.2", {"omp_1_intra_op": 2}, UNNAMED)
    assert counted_by_name(fact) == ()
    assert [o.status for o in fact_outcomes(fact, [release])] == ["holds"]


@pytest.mark.parametrize(
    ("sessions", "errors", "reason"),
    [
        (None, {"sessions": "ImportError: no module"}, "could not run: ImportError: no module"),
        ({"cpus": 2}, None, "is not recorded"),
    ],
)
def test_without_the_names_in_the_file_a_count_by_name_is_not_observable(sessions, errors, reason):
    onednn = {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 2}
    release = _release("2.9.0", onednn, sessions, errors)
    assert pool_naming(release).named is None
    [outcome] = fact_outcomes(POOL_AND_ABORT, [release])
    assert outcome.status == "not observable"
    assert reason in outcome.why


def test_a_release_with_one_unnamed_pool_thread_does_not_name_its_pools():
    mixed = {"session_pool_thread_names": "tf_Compute0 python caller gone"}
    naming = pool_naming(Release("x", {}, {"sessions": mixed}, {}))
    assert naming.named is False
    assert naming.names == ("tf_Compute0", "python")
    assert "left some of its inter-op pool threads unnamed" in naming.why
    assert "`python`" in naming.why
    assert "`tf_Compute0`" not in naming.why  # only the names that are not a pool's


def test_a_value_this_machine_did_not_decide_is_neither_holds_nor_differs():
    fact = Observed(("default",), "onednn", (("split", "{several_cpus}"), ("size", 1)), "")
    undecided = f"{UNDECIDED}: the intra-op pool took 0.08, 0.10 of the process's CPU time"
    [outcome] = fact_outcomes(fact, [_release("2.21.0", {"split": undecided, "size": 1})])
    assert outcome.status == "undecided"
    assert outcome.seen == f"split: {undecided}"
    # Another value that differs still reads as differs.
    [outcome] = fact_outcomes(fact, [_release("2.21.0", {"split": undecided, "size": 2})])
    assert (outcome.status, outcome.seen) == ("differs", "size=2")


@pytest.mark.parametrize(("cpus", "split", "status"), [(1, False, "holds"), (2, False, "differs")])
def test_an_expectation_on_several_cpus_is_resolved_with_the_release_cpu_count(cpus, split, status):
    fact = Observed(("default",), "runtime", (("split", "{several_cpus}"),), "")
    release = Release("2.21.0", {}, {"runtime": {"cpus": cpus, "split": split}}, {})
    [outcome] = fact_outcomes(fact, [release])
    assert outcome.status == status
    if status == "differs":
        assert outcome.expected == "split='True'"


def test_the_committed_releases_say_from_their_own_data_which_name_their_pool_threads(releases):
    named = {r.version: pool_naming(r).named for r in releases}
    assert named == {r.version: release_key(r.version) >= (2, 21) for r in releases}
    probe, keys = POOL_NAME_EVIDENCE
    for release in releases:
        assert all(key in release.data[probe] for key in keys)


def test_counted_by_name_lists_only_outputs_the_probes_write(releases):
    newest = releases[-1]
    for probe, keys in COUNTED_BY_NAME.items():
        assert keys <= set(newest.data[probe]), probe


def test_only_names_and_abort_messages_differ_between_releases_that_do_and_do_not_name_pools(
    releases,
):
    """What the page says: the older releases differ in pool names (and one message text).

    An output that differs but is not listed in COUNTED_BY_NAME is either a new real
    difference or a count by name the list misses: both need a look.
    """
    named = [r for r in releases if pool_naming(r).named]
    unnamed = [r for r in releases if pool_naming(r).named is False]
    assert named
    assert unnamed
    differing = set()
    for old in unnamed:
        for probe, data in old.data.items():
            for key, value in data.items():
                new = named[0].data[probe].get(key)
                if key == "tensorflow_version" or isinstance(value, float) or value == new:
                    continue
                differing.add((probe, key, str(value).startswith("Check failed:")))
    unexplained = {
        (probe, key)
        for probe, key, abort in differing
        if not abort and key not in COUNTED_BY_NAME.get(probe, frozenset())
    }
    assert unexplained == set()


def test_on_the_committed_releases_each_fact_holds_differs_or_is_not_observable(releases):
    statuses = {outcome.status for _, fact in OBSERVED for outcome in fact_outcomes(fact, releases)}
    assert statuses <= {"holds", "differs", "not observable"}
    # The real differences left are the abort messages for a negative size.
    for _, fact in OBSERVED:
        for outcome in fact_outcomes(fact, releases):
            if outcome.status == "differs":
                assert "Check failed:" in outcome.seen, outcome


def test_the_reference_line_words_each_outcome(monkeypatch):
    releases_ext = pytest.importorskip("tfthreads_docs.releases")
    blind = _release("2.16.2", {"onednn_matmul_other_threads": "", "omp_1_intra_op": 2}, UNNAMED)
    wrong = _release(
        "2.20.0", {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 5}
    )
    right = _release(
        "2.21.0", {"onednn_matmul_other_threads": "tf_graph_runner", "omp_1_intra_op": 2}
    )
    monkeypatch.setattr(releases_ext, "_RELEASES", [blind, wrong, right])
    line = releases_ext.release_line(POOL_AND_ABORT)
    assert line == (
        "{doc}`Release matrix </reference/releases>`: not observable on 2.16.2: its values "
        "(`onednn_matmul_other_threads`) depend on telling pool threads apart by name, and on that "
        "release TensorFlow left its inter-op pool threads unnamed (the threads that ran a "
        "session's steps on those pools were called `python`, not `tf_Compute…`); differs on "
        "2.20.0: observed "
        "`omp_1_intra_op=5` where the claim implies "
        "`omp_1_intra_op='2'`; holds on TensorFlow 2.21.0."
    )
