"""Catalog facts: every claim is observed or cited, and the observations agree with it."""

from __future__ import annotations

import dataclasses

import pytest

from tfthreads import catalog
from tfthreads.catalog.facts import Cited, Observed, contradiction
from tfthreads.catalog.observe import contradictions, coverage, observe, probes_used


def test_every_fact_field_of_every_entry_is_observed_or_cited() -> None:
    unbacked = [
        f"{s.name}.{field}"
        for s in catalog.CATALOG
        for field, kind in coverage(s).items()
        if kind is None
    ]
    assert unbacked == []


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


def test_the_probes_agree_with_the_catalog(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Real TensorFlow in child processes: every observed claim holds on this machine."""
    observations = observe(probes_used(catalog.CATALOG), cache_dir=tmp_path)
    assert contradictions(catalog.CATALOG, observations) == []
    cpus = observations["runtime"]["cpus"]
    assert observations["data_pipeline"]["private_pool_default"] == cpus
    assert observations["sessions"]["server_inter_op_negative_exit"] == -6
    assert observations["sessions"]["single_threaded_ops_split"] is True
    # A claim the probes contradict is reported (the build turns it into a failure).
    wrong = dataclasses.replace(
        catalog.get("tf.data.Options.threading.private_threadpool_size"),
        facts=(Observed(("default",), "data_pipeline", (("private_pool_default", 0),), "x"),),
    )
    assert len(contradictions([wrong], observations)) == 1
    # The cache makes a second call start no process.
    assert observe(probes_used(catalog.CATALOG), cache_dir=tmp_path) == observations
