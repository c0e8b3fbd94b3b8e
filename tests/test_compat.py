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
    KIND,
    changed,
    fact_outcomes,
    main,
    read_release,
    read_releases,
    record,
    release_key,
)
from tfthreads.catalog.facts import Observed
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


def _differences(release):
    return [
        f"{name}: {outcome.status} {outcome.seen} (claim: {outcome.expected})"
        for name, fact in OBSERVED
        for outcome in fact_outcomes(fact, [release])
        if outcome.status != "holds"
    ]


def test_every_claim_holds_on_every_release_from_the_lower_bound_up(releases):
    """The bound is the oldest release on which every observed fact holds (older ones differ)."""
    # The extras: tensorflow = ["tensorflow>=X"], tensorflow-cpu = ["tensorflow-cpu>=X"].
    text = (ROOT / "pyproject.toml").read_text()
    pattern = r'^tensorflow(?:-cpu)? = \["tensorflow(?:-cpu)?>=([\d.]+)"\]$'
    bounds = set(re.findall(pattern, text, re.MULTILINE))
    assert len(bounds) == 1
    bound = bounds.pop()
    supported = [r for r in releases if release_key(r.version) >= release_key(bound)]
    assert supported
    assert supported[0].version == bound  # the bound itself was verified
    assert {r.version: _differences(r) for r in supported} == {r.version: [] for r in supported}
    older = [r for r in releases if release_key(r.version) < release_key(bound)]
    # A release below the bound is committed only as evidence of why the bound is there.
    assert all(_differences(r) for r in older)


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
        "['runtime', 'data_pipeline', 'sessions', 'onednn']"
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
