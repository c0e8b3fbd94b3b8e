"""Catalog facts: every claim is observed or cited, and the observations agree with it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import helpers
import pytest

from tfthreads import catalog
from tfthreads.catalog import probes
from tfthreads.catalog.facts import UNDECIDED, Cited, Observed, contradiction, expected_value
from tfthreads.catalog.model import Setting
from tfthreads.catalog.observe import (
    check,
    contradictions,
    coverage,
    observe,
    probe_key,
    probes_used,
    unbacked,
)


def test_every_fact_field_of_every_entry_is_observed_or_cited() -> None:
    unbacked = [
        f"{s.name}.{field}"
        for s in catalog.CATALOG
        for field, kind in coverage(s).items()
        if kind is None
    ]
    assert unbacked == []


def test_every_citation_says_why_the_claim_cannot_be_observed_here() -> None:
    """Every claim a CPU machine can show is observed: a citation must say why not."""
    silent = [
        f"{s.name}: {fact.path}"
        for s in catalog.CATALOG
        for fact in s.facts
        if isinstance(fact, Cited) and not fact.why_not_observed.strip()
    ]
    assert silent == []


def test_a_new_fact_field_with_neither_probe_nor_reasoned_citation_is_unbacked() -> None:
    entry = catalog.get("ConfigProto.Experimental.use_tfrt")
    new_claim = dataclasses.replace(entry, notes="A claim no fact backs yet.")
    assert unbacked([new_claim]) == ["ConfigProto.Experimental.use_tfrt.notes"]
    cited = Cited(("notes",), "tensorflow/core/protobuf/config.proto", "v2.21.0")
    silent = dataclasses.replace(new_claim, facts=(*entry.facts, cited))
    assert unbacked([silent]) == ["ConfigProto.Experimental.use_tfrt.notes"]
    reasoned = dataclasses.replace(
        new_claim,
        facts=(*entry.facts, dataclasses.replace(cited, why_not_observed="needs a GPU")),
    )
    assert unbacked([reasoned]) == []


def test_only_settings_a_cpu_cannot_show_are_cited() -> None:
    """The cited fields are those of GPU, Serving, NUMA, cluster and internal-only claims."""
    cited = {s.name for s in catalog.CATALOG if "cited" in coverage(s).values()}
    assert cited == {
        "ConfigProto.share_cluster_devices_in_session",
        "ConfigProto.device_filters",
        "ConfigProto.Experimental.use_numa_affinity",
        "ConfigProto.Experimental.disable_eager_executor_streaming_enqueue",
        "ConfigProto.Experimental.disable_thread_spinning",
        "TF_GPU_THREAD_MODE",
        "TF_GPU_THREAD_COUNT",
        "tf.data.Options.autotune.cpu_budget",
        "--tensorflow_intra_op_parallelism",
        "--tensorflow_inter_op_parallelism",
        "--tensorflow_session_parallelism",
    }


def test_an_entry_without_facts_is_reported_as_unbacked() -> None:
    bare = dataclasses.replace(catalog.get("TF_NUM_INTEROP_THREADS"), facts=())
    assert set(coverage(bare).values()) == {None}


@pytest.mark.parametrize("ref", ["master", "main", "v2.21", "0116762459d9"])
def test_a_citation_must_be_pinned(ref: str) -> None:
    with pytest.raises(ValueError, match="release tag"):
        Cited(("default",), "tensorflow/core/util/port.cc", ref)


def test_catalog_sources_never_name_a_branch() -> None:
    assert [s.name for s in catalog.CATALOG if "master" in s.source] == []


def test_a_contradiction_is_one_line_naming_entry_claim_and_observation() -> None:
    fact = Observed(
        ("default",), "runtime", (("default_intra_op", "{cpus}"),), "{default_intra_op}"
    )
    message = contradiction("E", "default", "one per CPU", fact, {"cpus": 2, "default_intra_op": 5})
    assert (
        message
        == "E: claim (default) 'one per CPU' ; observed default_intra_op=5, expected '2' (5)"
    )


@pytest.mark.slow
def test_the_probes_agree_with_the_catalog(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Real TensorFlow in child processes: every observed claim holds on this machine."""
    cache = helpers.session_probe_cache(tmp_path)
    checked = check(catalog.CATALOG, cache_dir=cache)
    assert checked.problems == []
    assert checked.undecided == []
    observations = checked.observations
    cpus = observations["runtime"]["cpus"]
    assert observations["data_pipeline"]["private_pool_default"] == cpus
    assert observations["sessions"]["server_inter_op_negative_exit"] == -6
    assert observations["sessions"]["single_threaded_ops_split"] is (cpus > 1)
    assert observations["sessions"]["session_pools_ran_on"] == (
        "tf_Compute0 tf_Compute1 caller tf_Compute0"
    )
    assert observations["runtime"]["placement_logged_after_start"] is False
    # A claim the probes contradict is reported (the build turns it into a failure).
    wrong = dataclasses.replace(
        catalog.get("tf.data.Options.threading.private_threadpool_size"),
        facts=(Observed(("default",), "data_pipeline", (("private_pool_default", 0),), "x"),),
    )
    assert len(contradictions([wrong], observations)) == 1
    # The cache makes a second call start no process.
    assert observe(probes_used(catalog.CATALOG), cache_dir=cache) == observations


def _claiming(value: object) -> Setting:
    """An entry whose one fact expects the test probe's ``value`` to be ``value``."""
    fact = Observed(("default",), "sequence", (("value", value),), "the value was {value}")
    return dataclasses.replace(catalog.get("TF_NUM_INTEROP_THREADS"), facts=(fact,))


@pytest.fixture
def sequence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Register the test probe; ``sequence(values)`` sets what its runs return, in order."""
    counter = tmp_path / "runs"

    def returning(*values: object) -> Path:
        env = {"TFTHREADS_TEST_COUNTER": str(counter), "TFTHREADS_TEST_VALUES": json.dumps(values)}
        monkeypatch.setitem(probes.PROBES, "sequence", probes.Probe(helpers.sequence_probe, env))
        counter.unlink(missing_ok=True)
        return counter

    return returning


def test_a_contradiction_is_observed_again_and_fails_with_probe_and_rerun_command(
    sequence, tmp_path: Path
) -> None:
    runs = sequence(False, False)
    checked = check([_claiming(True)], cache_dir=tmp_path / "cache")
    assert runs.read_text() == "2"
    (problem,) = checked.problems
    assert "observed value=False, expected True" in problem
    assert "probe 'sequence', observed twice" in problem
    assert "python -m tfthreads.catalog.observe sequence" in problem
    # The failure is not cached: the next check observes again.
    assert not list((tmp_path / "cache").glob("sequence-*.json"))


def test_a_value_that_flips_between_two_runs_is_undecided_not_a_failure(
    sequence, tmp_path: Path
) -> None:
    sequence(False, True)
    checked = check([_claiming(True)], cache_dir=tmp_path / "cache")
    assert checked.problems == []
    assert checked.observations["sequence"]["value"] == (
        f"{UNDECIDED}: value was False in one run and True in another"
    )
    assert len(checked.undecided) == 1
    assert not list((tmp_path / "cache").glob("sequence-*.json"))


def test_an_undecided_probe_value_builds_and_is_observed_again_next_time(
    sequence, tmp_path: Path
) -> None:
    runs = sequence(f"{UNDECIDED}: the pool took 0.08 of the CPU time")
    checked = check([_claiming(True)], cache_dir=tmp_path / "cache")
    assert checked.problems == []
    assert checked.undecided == [
        f"TF_NUM_INTEROP_THREADS: value: {UNDECIDED}: the pool took 0.08 of the CPU time"
    ]
    assert runs.read_text() == "2"
    assert not list((tmp_path / "cache").glob("sequence-*.json"))


def test_a_cached_contradiction_never_fails_a_later_check(sequence, tmp_path: Path) -> None:
    runs = sequence(True)
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / f"sequence-{probe_key('sequence')}.json"
    stale.write_text(json.dumps({"cpus": 2, "value": False}))
    checked = check([_claiming(True)], cache_dir=cache)
    assert checked.problems == []
    assert runs.read_text() == "1"
    assert json.loads(stale.read_text())["value"] is True
    # Agreeing results are cached: a third check starts no process.
    assert check([_claiming(True)], cache_dir=cache).problems == []
    assert runs.read_text() == "1"


def test_a_split_claim_is_conditioned_on_having_more_than_one_cpu() -> None:
    assert expected_value("{several_cpus}", {"cpus": 1}) == "False"
    assert expected_value("{several_cpus}", {"cpus": 16}) == "True"


def test_each_probe_has_its_own_cache_key() -> None:
    """Editing one probe's module changes only that probe's key."""
    sources = {name: probes.source(name) for name in probes.PROBES}
    assert len(set(sources.values())) == len(probes.PROBES)
    runtime = Path(probes.runtime.__file__).read_text()
    assert runtime in sources["runtime"]
    assert all(runtime not in text for name, text in sources.items() if name != "runtime")


def test_a_probe_key_covers_the_helper_modules_it_imports() -> None:
    """A helper module that one probe imports is part of that probe's key, and only its."""
    from tfthreads.catalog.probes import _common, _option_defaults

    sources = {name: probes.source(name) for name in probes.PROBES}
    common = Path(_common.__file__).read_text()
    assert all(common in text for text in sources.values())
    defaults = Path(_option_defaults.__file__).read_text()
    assert defaults in sources["sessions"]
    assert all(defaults not in text for name, text in sources.items() if name != "sessions")
