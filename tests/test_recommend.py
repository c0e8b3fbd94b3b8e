"""Tests for tfthreads.recommend: synthetic topologies, the rules, bad input, a property."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfthreads.errors import SettingError
from tfthreads.recommend import EVIDENCE, MIN_INTER_OP, Recommendation, recommend
from tfthreads.report import load_report
from tfthreads.settings import ThreadSettings
from tfthreads.topology import CgroupQuota, Topology, topology

PERIOD = 100_000


def quota(cpus: float) -> CgroupQuota:
    return CgroupQuota(
        version=2, path="/sys/fs/cgroup", quota_us=round(cpus * PERIOD), period_us=PERIOD
    )


def topo(
    cpus: int,
    *,
    cpu_quota: float | None = None,
    cores: int | None = None,
    sockets: int | None = 1,
    smt: bool | None = False,
    logical: int | None = None,
) -> Topology:
    """A Topology with ``cpus`` CPUs in the mask (all of them online unless ``logical``)."""
    return Topology(
        logical_cpus=cpus if logical is None else logical,
        affinity=tuple(range(cpus)),
        physical_cores=cpus if cores is None else cores,
        sockets=sockets,
        numa_nodes=1,
        smt=smt,
        quota=None if cpu_quota is None else quota(cpu_quota),
        cpuset=None,
    )


def unknown_cores(cpus: int, cpu_quota: float | None = None) -> Topology:
    """A Topology whose physical cores, sockets and SMT could not be read."""
    limit = None if cpu_quota is None else quota(cpu_quota)
    return Topology(cpus, tuple(range(cpus)), None, None, None, None, limit, None)


def reasons(rec: Recommendation) -> str:
    return " ".join(rec.reasons)


def count(value: int, noun: str) -> str:
    return f"{value} {noun}" + ("" if value == 1 else "s")


# --- rule 5: latency without a quota ---------------------------------------------------


def test_two_cpus_latency_wants_inter_op_two() -> None:
    # inter_op=2 lets independent branches run at once (2.6x to 2.8x on 16 CPUs).
    rec = recommend("latency", topology=topo(2))
    assert rec.settings == ThreadSettings(2, 2)
    assert rec.cpu_budget == rec.per_process_budget == 2.0
    assert rec.tensorflow_default == ThreadSettings(2, 2)
    assert rec.intel_rule == ThreadSettings(2, 1)
    assert "No cgroup CPU quota" in rec.reasons[0]
    assert "fits the budget" in rec.comparison[0]
    assert "agrees" in rec.comparison[1]
    assert "2.6x to 2.8x slower" in reasons(rec)
    assert "inter_op=2, never 1" in reasons(rec)


def test_latency_is_low_confidence_and_says_to_measure() -> None:
    rec = recommend("latency", topology=topo(16))
    assert rec.settings == ThreadSettings(16, 4)
    assert rec.confidence == "low"
    assert "op sizes" in rec.confidence_reason
    assert rec.measure_instead is not None
    assert rec.measure_instead.startswith("tfthreads tune MODEL --goal latency ")
    assert "--processes" not in rec.measure_instead
    assert "one thread was active" in reasons(rec)
    # The committed 16-CPU run, as the report reads it: 16 threads against one at batch 1.
    committed = load_report([Path(__file__).parents[1] / "docs/results/many_core.jsonl"])
    [sixteen] = [
        row
        for row in committed.rows
        if row.scenario == "latency" and "batch=1," in row.workload and row.setting == "16/2"
    ]
    assert f"16 threads were {sixteen.ratio_text()} times as fast as one" in reasons(rec)
    assert rec.evidence == (
        "results-many-core",
        "explanation-inter-op-deadlock",
        "engine-benchmark",
    )


def test_latency_inter_op_grows_to_four_only() -> None:
    assert recommend("latency", topology=topo(1)).settings == ThreadSettings(1, 2)
    assert recommend("latency", topology=topo(3)).settings == ThreadSettings(3, 3)
    assert recommend("latency", topology=topo(8)).settings == ThreadSettings(8, 4)
    assert recommend("latency", topology=topo(128)).settings == ThreadSettings(128, 4)


def test_latency_several_processes_divide_with_low_confidence() -> None:
    rec = recommend("latency", processes=4, topology=topo(16))
    assert rec.settings == ThreadSettings(4, 4)
    assert rec.confidence == "low"
    assert rec.measure_instead is not None
    assert "--goal latency --processes 4" in rec.measure_instead
    assert "not measured for latency" in reasons(rec)
    assert rec.evidence == (
        "results-many-core",
        "explanation-inter-op-deadlock",
        "engine-benchmark",
        "gallery-workers",
    )


def test_smt_prefers_physical_cores_for_latency() -> None:
    smt = topo(8, cores=4, smt=True)
    latency = recommend("latency", topology=smt)
    assert latency.settings == ThreadSettings(4, 4)
    assert any("SMT" in r and "capped at 4" in r for r in latency.reasons)
    assert any("not measured an SMT machine" in r for r in latency.reasons)
    assert latency.confidence == "low"
    # Throughput keeps the hardware threads.
    assert recommend("throughput", topology=smt).settings == ThreadSettings(8, 2)
    # Two processes share the four cores.
    assert recommend("latency", processes=2, topology=smt).settings.intra_op == 2


def test_sixty_four_cpus_with_smt_latency() -> None:
    rec = recommend("latency", topology=topo(64, cores=32, sockets=2, smt=True))
    assert rec.settings == ThreadSettings(32, 4)
    assert rec.confidence == "low"
    assert rec.intel_rule == ThreadSettings(16, 2)
    assert "fewer intra-op threads than the 32 recommended" in rec.comparison[1]


def test_smt_cap_scales_with_affinity_share() -> None:
    # 4 of 16 logical CPUs (8 cores) in the mask: about 2 cores.
    half = Topology(16, (0, 1, 2, 3), 8, 1, 1, True, None, None)
    assert recommend("latency", topology=half).settings.intra_op == 2


# --- rule 2: a CPU quota ------------------------------------------------------------------


def test_quota_of_two_on_64_cpus() -> None:
    rec = recommend(topology=topo(64, cpu_quota=2, cores=32, sockets=2, smt=True))
    assert rec.settings == ThreadSettings(2, 2)
    assert rec.cpu_budget == 2.0
    assert rec.tensorflow_default == ThreadSettings(64, 64)
    assert rec.intel_rule == ThreadSettings(16, 2)
    assert rec.confidence == "high"
    assert rec.measure_instead is None
    assert rec.evidence == (
        "engine-benchmark",
        "gallery-containers",
        "explanation-inter-op-deadlock",
    )
    assert "quota" in rec.reasons[0]
    assert "2 CPUs" in rec.reasons[0]
    assert "64 CPUs" in rec.reasons[0]
    assert "the intra-op threads of all processes fit the whole CPUs" in reasons(rec)
    assert "p99 step 11.3 [4.4, 15.6] times shorter" in reasons(rec)
    assert "32x the budget" in rec.comparison[0]
    assert "quota throttles" in rec.comparison[0]
    assert "ignores cgroup quotas" in rec.comparison[1]
    assert "16 intra-op threads" in rec.comparison[1]


def test_quota_of_one_cpu() -> None:
    for goal, confidence in (("latency", "high"), ("throughput", "medium")):
        rec = recommend(goal, topology=topo(2, cpu_quota=1))
        assert rec.settings == ThreadSettings(1, 2)
        assert rec.confidence == confidence
        assert "gallery-containers" in reasons(rec)
    assert recommend("throughput", topology=topo(2, cpu_quota=1)).measure_instead


def test_quota_divides_between_processes_for_throughput() -> None:
    # The no-quota rule would keep the defaults; a quota below the mask divides.
    rec = recommend("throughput", processes=4, topology=topo(16, cpu_quota=8))
    assert rec.settings == ThreadSettings(2, 2)
    assert "Threads in total: 2 x 4 = 8 intra-op threads for 8 whole CPUs" in reasons(rec)


def test_quota_no_tighter_than_the_mask_is_no_quota() -> None:
    rec = recommend("throughput", processes=4, topology=topo(16, cpu_quota=32))
    assert rec.keeps_defaults
    assert "no tighter than the mask" in rec.reasons[0]


def test_fractional_quota_leaves_headroom() -> None:
    rec = recommend(topology=topo(8, cpu_quota=1.5))
    assert rec.settings == ThreadSettings(1, 2)
    assert rec.cpu_budget == rec.per_process_budget == 1.5
    assert any("rounds down to 1 CPU" in r and "headroom" in r for r in rec.reasons)
    assert any("0.5" in r for r in rec.reasons)


def test_budget_below_one_cpu() -> None:
    rec = recommend(topology=topo(4, cpu_quota=0.5))
    assert rec.settings == ThreadSettings(1, 2)
    assert any("less than one whole CPU" in r for r in rec.reasons)
    assert rec.confidence == "high"


# --- rule 3: several processes, no quota, throughput ----------------------------------


def test_sixteen_cpus_four_processes_keep_the_defaults() -> None:
    rec = recommend("throughput", processes=4, topology=topo(16))
    assert rec.settings == ThreadSettings()
    assert rec.keeps_defaults
    assert rec.settings.to_env() == {}
    assert rec.per_process_budget == 4.0
    assert rec.confidence == "medium"
    assert rec.measure_instead is not None
    assert "--goal throughput --processes 4" in rec.measure_instead
    said = ("4 processes share it", "keep TensorFlow's defaults", "0.90 [0.77, 1.06]")
    said += ("serial gaps", "p99", "not measured", "results-many-core")
    assert [phrase for phrase in said if phrase not in reasons(rec)] == []
    # Every divided setting's interval is the committed 16-CPU run's, as the report reads it.
    committed = load_report([Path(__file__).parents[1] / "docs/results/many_core.jsonl"])
    divided = [row for row in committed.rows if row.scenario == "procs" and row.ratio]
    assert len(divided) == 4
    assert [row.ratio_text() for row in divided if row.ratio_text() not in reasons(rec)] == []
    assert "Threads in total" not in reasons(rec)
    assert rec.evidence == ("results-many-core", "engine-benchmark", "gallery-workers")
    # 16 threads per pool in each of 4 processes: 64 for 16 CPUs, and it keeps them.
    assert "64 intra-op threads" in rec.comparison[0]
    assert "4x the budget" in rec.comparison[0]
    assert "this recommendation keeps them" in rec.comparison[0]
    assert "agrees on intra_op" in rec.comparison[1]


def test_one_cpu_per_process_divides_the_cpus() -> None:
    # Measured: 2 processes on 2 CPUs at 1/1 gave 1.09x the defaults' throughput, and 1/2,
    # what the rule gives (inter-op never 1), was tied with 1/1.
    rec = recommend("throughput", processes=2, topology=topo(2))
    assert rec.settings == ThreadSettings(1, 2)
    assert "1/2 each, the setting given, gave the most total throughput" in reasons(rec)
    assert not rec.keeps_defaults
    assert rec.confidence == "medium"
    assert "1.09x the defaults'" in reasons(rec)
    assert "gallery-workers" in rec.evidence


def test_between_the_measured_cases_the_defaults_are_kept_with_low_confidence() -> None:
    rec = recommend("throughput", processes=4, topology=topo(8))  # 2 CPUs per process
    assert rec.keeps_defaults
    assert rec.confidence == "low"
    assert "between the measured cases" in rec.confidence_reason


def test_more_processes_than_cpus() -> None:
    for goal in ("latency", "throughput"):
        rec = recommend(goal, processes=6, topology=topo(4))
        assert rec.settings == ThreadSettings(1, 2)
        assert "6 processes alone oversubscribe" in reasons(rec)
        assert "at most 4 processes" in reasons(rec)
        assert rec.confidence == "low"
    quota = recommend("throughput", processes=6, topology=topo(8, cpu_quota=4))
    assert quota.settings == ThreadSettings(1, 2)
    assert quota.confidence == "high"


# --- rule 4: one process, no quota, throughput ----------------------------------------


def test_one_process_throughput() -> None:
    assert recommend("throughput", topology=topo(2)).settings == ThreadSettings(2, 2)
    assert recommend("throughput", topology=topo(1)).settings == ThreadSettings(1, 2)
    rec = recommend("throughput", topology=topo(16))
    assert rec.settings == ThreadSettings(16, 2)
    assert rec.confidence == "medium"
    assert rec.measure_instead is not None
    assert any("processes=N" in r for r in rec.reasons)
    assert "within 3 % of the defaults" in reasons(rec)


def test_unknown_physical_cores() -> None:
    rec = recommend(topology=unknown_cores(16))
    assert rec.intel_rule is None
    assert rec.settings == ThreadSettings(16, 4)
    assert "cannot be applied" in rec.comparison[1]
    assert rec.as_dict()["intel_rule"] is None


# --- outputs -------------------------------------------------------------------------


def test_every_reason_that_cites_a_measurement_names_it() -> None:
    cases = [
        recommend("latency", topology=topo(2)),
        recommend("throughput", processes=4, topology=topo(16)),
        recommend("throughput", topology=topo(16)),
        recommend("latency", topology=topo(2, cpu_quota=1)),
    ]
    for rec in cases:
        assert rec.evidence
        for label in rec.evidence:
            assert label in EVIDENCE
            assert label in reasons(rec)
        # A reason that quotes a ratio says where it was measured.
        for reason in rec.reasons:
            if "x slower" in reason or "p99" in reason or "[0." in reason:
                assert "[evidence:" in reason


def test_as_dict_and_json_round_trip() -> None:
    rec = recommend("throughput", processes=2, topology=topo(8, cpu_quota=6, cores=4, smt=True))
    data = rec.as_dict()
    required = {
        "intra_op_parallelism_threads",
        "inter_op_parallelism_threads",
        "cpu_budget",
        "per_process_budget",
        "goal",
        "processes",
        "confidence",
        "confidence_reason",
        "measure_instead",
        "reasons",
        "evidence",
        "comparison",
        "tensorflow_default",
        "intel_rule",
    }
    assert required <= data.keys()
    assert json.loads(json.dumps(data)) == data
    assert data["intra_op_parallelism_threads"] == 3
    assert data["confidence"] == "medium"
    assert data["evidence"] == [
        "engine-benchmark",
        "gallery-containers",
        "explanation-inter-op-deadlock",
    ]
    assert data["pool_threads"] == {"intra_op": 6, "inter_op": 4}
    assert data["tensorflow_default"] == {
        "intra_op_parallelism_threads": 8,
        "inter_op_parallelism_threads": 8,
    }
    high = recommend("latency", topology=topo(8, cpu_quota=2)).as_dict()
    assert high["confidence"] == "high"
    assert high["measure_instead"] is None


def test_describe_is_short_text() -> None:
    text = recommend("throughput", processes=4, topology=topo(16)).describe()
    lines = text.splitlines()
    assert lines[0] == (
        "Recommended for throughput, 4 processes: TensorFlow's defaults, intra_op=0, "
        "inter_op=0 (here intra_op=16, inter_op=16) each"
    )
    assert lines[1] == "CPU budget: 16 CPUs, 4 per process"
    assert lines[2].startswith("Confidence: medium: measured on one model")
    assert lines[3].startswith("Measure instead: tfthreads tune MODEL --goal throughput")
    assert "Why:" in lines
    assert "Compared with:" in lines
    sure = recommend("latency", topology=topo(8, cpu_quota=2)).describe().splitlines()
    assert sure[2].startswith("Confidence: high: ")
    assert not any(line.startswith("Measure instead") for line in sure)


def test_confidence_is_checked() -> None:
    rec = recommend(topology=topo(2))
    with pytest.raises(ValueError, match="confidence: got 'sure'"):
        dataclasses.replace(rec, confidence="sure")


@pytest.mark.parametrize(
    ("kwargs", "error", "fragments"),
    [
        ({"goal": "fast"}, SettingError, ["goal", "'fast'", "'latency' or 'throughput'"]),
        ({"goal": "Latency"}, SettingError, ["goal", "'Latency'"]),
        ({"goal": ""}, SettingError, ["goal", "''"]),
        ({"goal": None}, TypeError, ["goal", "None"]),
        ({"goal": 1}, TypeError, ["goal", "1"]),
        ({"processes": 0}, SettingError, ["processes", "0", "1 to 256"]),
        ({"processes": -3}, SettingError, ["processes", "-3"]),
        ({"processes": 257}, SettingError, ["processes", "257", "1 to 256"]),
        ({"processes": True}, TypeError, ["processes", "True"]),
        ({"processes": 2.0}, TypeError, ["processes", "2.0", "float"]),
        ({"processes": "4"}, TypeError, ["processes", "'4'", "str"]),
        ({"processes": None}, TypeError, ["processes", "None"]),
        ({"topology": "auto"}, TypeError, ["topology", "'auto'", "Topology or None"]),
        ({"topology": {"cpus": 4}}, TypeError, ["topology", "{'cpus': 4}"]),
    ],
)
def test_bad_input(kwargs: dict[str, object], error: type[Exception], fragments: list[str]) -> None:
    call = {"goal": "latency", "processes": 1, "topology": topo(2), **kwargs}
    with pytest.raises(error) as info:
        recommend(
            call["goal"],  # type: ignore[arg-type]
            processes=call["processes"],  # type: ignore[arg-type]
            topology=call["topology"],  # type: ignore[arg-type]
        )
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    if error is SettingError:
        assert isinstance(info.value, ValueError)


@given(
    cpus=st.integers(1, 256),
    cpu_quota=st.none() | st.floats(0.01, 300.0),
    cores_per_cpu=st.sampled_from([None, 1, 2]),
    processes=st.integers(1, 256),
    goal=st.sampled_from(["latency", "throughput"]),
)
def test_never_oversubscribes(
    cpus: int, cpu_quota: float | None, cores_per_cpu: int | None, processes: int, goal: str
) -> None:
    if cores_per_cpu is None:
        t = unknown_cores(cpus, cpu_quota)
    else:
        cores = max(1, cpus // cores_per_cpu)
        t = topo(cpus, cpu_quota=cpu_quota, cores=cores, smt=cores_per_cpu == 2)
    rec = recommend(goal, processes=processes, topology=t)
    intra, inter = rec.settings.intra_op, rec.settings.inter_op
    quota = t.quota_cpus is not None and t.quota_cpus < t.affinity_cpus
    if rec.keeps_defaults:  # only without a quota, for throughput, 2 CPUs per process
        assert goal == "throughput"
        assert not quota
        assert processes > 1
        assert rec.per_process_budget >= 2
        assert rec.confidence in ("medium", "low")
    else:
        assert intra >= 1
        assert inter >= MIN_INTER_OP  # never 1: the deadlock
        assert intra * processes <= max(processes, math.floor(rec.cpu_budget))
        assert rec.pool_threads == {"intra_op": intra * processes, "inter_op": inter * processes}
        assert "Threads in total" in reasons(rec)
    # The resolved inter-op pool is never 1, the defaults included (they are kept only
    # with 2 CPUs or more per process).
    assert rec.pool_threads["inter_op"] >= MIN_INTER_OP * processes
    assert rec.confidence in ("high", "medium", "low")
    assert (rec.measure_instead is None) == (rec.confidence == "high")
    if rec.confidence == "high":
        assert quota
    assert rec.cpu_budget == t.cpu_budget
    assert rec.per_process_budget == pytest.approx(t.cpu_budget / processes)
    assert rec.reasons
    assert len(rec.comparison) == 2


def test_real_machine() -> None:
    rec = recommend()
    assert isinstance(rec, Recommendation)
    assert rec.cpu_budget == topology().cpu_budget
    assert rec.settings.intra_op >= 1
    assert rec.tensorflow_default.intra_op == topology().tensorflow_default_threads
    json.dumps(rec.as_dict())
    assert rec.describe().startswith("Recommended for latency, 1 process:")


# --- the numbers quoted from the committed engine benchmark ------------------------------


def _engine_run() -> dict:
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "results" / "engine.json"
    return json.loads(path.read_text())


def test_two_processes_on_two_cpus_quote_the_committed_engine_run() -> None:
    from pathlib import Path

    several = _engine_run()["several_processes"]
    [row] = [r for r in several["rows"] if (r["intra_op"], r["inter_op"]) == (1, 1)]
    ratio, low, high, rounds = row["ratio"], row["low"], row["high"], row["rounds"]
    said = reasons(recommend("throughput", processes=2, topology=topo(2)))
    assert f"{ratio:.2f}x the defaults' (2/2 each), [{low:.2f}, {high:.2f}]" in said
    assert f"from {rounds} interleaved rounds" in said
    root = Path(__file__).parents[1]
    page = (root / "docs" / "explanation" / "why-defaults-oversubscribe.md").read_text()
    assert f"gave {ratio:.2f} times the total throughput" in page
    assert f"[{low:.2f}, {high:.2f}] over {rounds} interleaved rounds" in page
    readme = (root / "benchmarks" / "README.md").read_text()
    assert f"{ratio:.2f}x the defaults' total throughput, [{low:.2f}, {high:.2f}]" in readme


def test_the_quota_tail_quotes_the_committed_engine_run() -> None:
    quota_run = _engine_run()["quota"]
    p99 = quota_run["p99_recommend_vs_defaults"]
    said = reasons(recommend("latency", topology=topo(2, cpu_quota=1)))
    assert (
        f"p99 step {p99['ratio']:.1f} [{p99['low']:.1f}, {p99['high']:.1f}] times shorter" in said
    )
    assert f"({quota_run['rounds']} interleaved rounds)" in said


# --- the rule, scenario by scenario (the module documentation states it) -----------------

# (mask CPUs, quota CPUs or None, processes, goal) -> intra/inter per process; "0/0" keeps
# TensorFlow's defaults.
RULE = {
    (1, None, 1, "latency"): (1, 2),
    (1, None, 1, "throughput"): (1, 2),
    (2, None, 1, "latency"): (2, 2),
    (2, None, 1, "throughput"): (2, 2),
    (3, None, 1, "latency"): (3, 3),
    (4, None, 1, "latency"): (4, 4),
    (4, None, 1, "throughput"): (4, 2),
    (16, None, 1, "latency"): (16, 4),
    (16, None, 1, "throughput"): (16, 2),
    (16, 1, 1, "latency"): (1, 2),
    (16, 1, 1, "throughput"): (1, 2),
    (16, 2, 1, "latency"): (2, 2),
    (16, 2, 1, "throughput"): (2, 2),
    (16, 4, 1, "latency"): (4, 2),
    (16, None, 4, "latency"): (4, 4),
    (16, None, 4, "throughput"): (0, 0),
    (8, None, 4, "throughput"): (0, 0),
    (4, None, 4, "latency"): (1, 2),
    (4, None, 4, "throughput"): (1, 2),
    (2, None, 2, "throughput"): (1, 2),
    (16, 4, 4, "latency"): (1, 2),
    (16, 4, 4, "throughput"): (1, 2),
    (64, 16, 4, "latency"): (4, 2),
    (64, 16, 4, "throughput"): (4, 2),
    (4, None, 6, "latency"): (1, 2),
    (16, 4, 6, "throughput"): (1, 2),
}


@pytest.mark.parametrize(("scenario", "expected"), RULE.items(), ids=str)
def test_the_rule(scenario: tuple[int, float | None, int, str], expected: tuple[int, int]) -> None:
    cpus, cpu_quota, processes, goal = scenario
    rec = recommend(goal, processes=processes, topology=topo(cpus, cpu_quota=cpu_quota))
    assert (rec.settings.intra_op, rec.settings.inter_op) == expected
    whole = math.floor(rec.cpu_budget)
    intra, inter = rec.pool_threads["intra_op"], rec.pool_threads["inter_op"]
    if rec.keeps_defaults:
        # The one measured exception: several processes, no quota, throughput.
        assert cpu_quota is None
        assert processes > 1
        assert goal == "throughput"
        assert rec.per_process_budget >= 2
        assert intra == inter == cpus * processes
    elif processes <= whole:
        # Within the budget: the intra-op threads of all processes, not the inter-op ones.
        assert intra <= whole
        said = f"{count(intra, 'intra-op thread')} for {count(whole, 'whole CPU')}"
        assert f"{said}, within the budget" in reasons(rec)
        assert "are not counted against it" in reasons(rec)
    else:
        assert intra == processes > whole
        assert f"run at most {whole} process" in reasons(rec)
        assert "run fewer processes" in reasons(rec)
    assert rec.settings.inter_op == 0 or rec.settings.inter_op >= MIN_INTER_OP


def test_inter_op_is_never_one_and_the_reason_says_why() -> None:
    for scenario in RULE:
        cpus, cpu_quota, processes, goal = scenario
        rec = recommend(goal, processes=processes, topology=topo(cpus, cpu_quota=cpu_quota))
        if rec.keeps_defaults:
            continue
        said = reasons(rec)
        assert f"inter_op={rec.settings.inter_op}, never 1" in said
        assert "tf.py_function whose body calls a tf.function hangs" in said
        assert "explanation-inter-op-deadlock" in rec.evidence
        assert "of the 24 comparisons of the engine grid's screening" in said
    one = reasons(recommend(topology=topo(1)))
    assert "TensorFlow's own default on this one-CPU mask is 1" in one
    quota = reasons(recommend(topology=topo(16, cpu_quota=2)))
    assert "Under a quota, 2 and no more" in quota
    assert "TensorFlow's own default" not in quota


def test_intel_rule_inter_op_of_one_is_called_out() -> None:
    rec = recommend(topology=topo(16))  # one socket: Intel's rule gives inter_op=1
    assert rec.intel_rule == ThreadSettings(16, 1)
    assert "Its inter_op=1 is the size that hangs" in rec.comparison[1]
    two = recommend(topology=topo(64, cores=32, sockets=2, smt=True))
    assert "hangs" not in two.comparison[1]


def test_pool_threads_counts_the_defaults_they_resolve_to() -> None:
    rec = recommend("throughput", processes=4, topology=topo(16))
    assert rec.keeps_defaults
    assert rec.pool_threads == {"intra_op": 64, "inter_op": 64}
    assert rec.as_dict()["pool_threads"] == rec.pool_threads


def test_the_module_documentation_states_the_rule_with_its_evidence() -> None:
    import tfthreads.recommend as module

    doc = module.__doc__ or ""
    for label in EVIDENCE:
        assert f"``{label}``" in doc
    for part in (
        "**Budget.**",
        "**Intra-op:",
        "**Inter-op: never below 2.**",
        "**Thread totals.**",
    ):
        assert part in doc
    assert "``intra_op * P <= floor(B)``" in doc


def test_every_evidence_label_is_a_page_of_the_site() -> None:
    from pathlib import Path

    root = Path(__file__).parents[1]
    text = "\n".join(
        path.read_text()
        for folder, pattern in (("docs", "**/*.md"), ("gallery", "*.py"))
        for path in (root / folder).glob(pattern)
    )
    for label in EVIDENCE:
        assert f"({label})=" in text or f".. _{label}:" in text, label


def test_the_inter_op_costs_quote_the_committed_engine_run() -> None:
    from tfthreads.stats import ratio_interval

    engine = _engine_run()
    verdicts = []
    for scores in engine["scores"].values():
        for intra in (1, 2, 3, 4):
            two = scores["defaults"] if intra == 2 else scores[f"{intra}/2"]  # 2/2 = defaults
            verdicts.append(ratio_interval(scores[f"{intra}/1"], two).verdict)
    assert len(verdicts) == 24
    faster = verdicts.count("better")
    assert "worse" not in verdicts
    branches = engine["scores"]["branches"]
    at_two = ratio_interval(branches["2/1"], branches["defaults"])
    said = reasons(recommend(topology=topo(2)))
    assert "a second inter-op thread was never slower" in said
    assert f"faster in {faster} of the 24 comparisons" in said
    assert f"tied in the other {24 - faster}" in said
    assert f"{at_two.describe()} times as fast at intra_op=2" in said
    rows = {(r["intra_op"], r["inter_op"]): r for r in engine["several_processes"]["rows"]}
    given, one = rows[1, 2], rows[1, 1]
    assert given["vs_best"] is None  # the best of the two-process comparison
    divided = reasons(recommend("throughput", processes=2, topology=topo(2)))
    assert (
        "gave the most total throughput, {:.2f} [{:.2f}, {:.2f}] times the defaults'".format(
            given["ratio"], given["low"], given["high"]
        )
        in divided
    )
    tie = one["vs_best"]
    assert f"1/1 had {tie['ratio']:.3f} [{tie['low']:.3f}, {tie['high']:.3f}] of it" in divided


# --- the doctor's warnings follow the rule --------------------------------------------


def _doctor_warnings(t: Topology, settings: ThreadSettings | None = None) -> list[str]:
    from tfthreads.doctor import _warnings
    from tfthreads.settings import resolve_pools

    resolved = resolve_pools(
        settings or ThreadSettings(), affinity_cpus=t.affinity_cpus, environ={}
    )
    return _warnings(t, resolved, {}, None)


def test_doctor_suggests_what_recommend_gives() -> None:
    quota = _doctor_warnings(topo(16, cpu_quota=2))
    assert len(quota) == 2  # both default pools of 16 threads under a 2-CPU quota
    assert all("`tfthreads recommend` gives intra_op=2, inter_op=2" in w for w in quota)
    assert not any("or fewer" in w for w in quota)


def test_doctor_warns_about_one_inter_op_thread_and_not_about_two() -> None:
    # TensorFlow's own default on one CPU is 1: the size that deadlocks.
    [one] = _doctor_warnings(topo(1))
    assert "inter-op pool will have 1 thread" in one
    assert "inter_op=2" in one
    assert _doctor_warnings(topo(1), ThreadSettings(1, 2)) == []
    assert _doctor_warnings(topo(16, cpu_quota=1), ThreadSettings(1, 2)) == []
    assert _doctor_warnings(topo(2)) == []
