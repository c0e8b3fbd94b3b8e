"""Tests for tfthreads.recommend: synthetic topologies, the rules, bad input, a property."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfthreads.errors import SettingError
from tfthreads.recommend import Recommendation, recommend
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


def test_two_cpus_no_quota() -> None:
    rec = recommend("latency", topology=topo(2))
    assert rec.settings == ThreadSettings(2, 1)
    assert rec.cpu_budget == rec.per_process_budget == 2.0
    assert rec.tensorflow_default == ThreadSettings(2, 2)
    assert rec.intel_rule == ThreadSettings(2, 1)
    assert "No cgroup CPU quota" in rec.reasons[0]
    assert "fits the budget" in rec.comparison[0]
    assert "agrees" in rec.comparison[1]


def test_quota_of_two_on_64_cpus() -> None:
    rec = recommend(topology=topo(64, cpu_quota=2, cores=32, sockets=2, smt=True))
    assert rec.settings == ThreadSettings(2, 1)
    assert rec.cpu_budget == 2.0
    assert rec.tensorflow_default == ThreadSettings(64, 64)
    assert rec.intel_rule == ThreadSettings(16, 2)
    assert "quota" in rec.reasons[0]
    assert "2 CPUs" in rec.reasons[0]
    assert "64 CPUs" in rec.reasons[0]
    assert "32x the budget" in rec.comparison[0]
    assert "quota throttles" in rec.comparison[0]
    assert "ignores cgroup quotas" in rec.comparison[1]
    assert "16 intra-op threads" in rec.comparison[1]


def test_fractional_quota_leaves_headroom() -> None:
    rec = recommend(topology=topo(8, cpu_quota=1.5))
    assert rec.settings == ThreadSettings(1, 1)
    assert rec.cpu_budget == rec.per_process_budget == 1.5
    assert any("rounds down to 1 CPU" in r and "headroom" in r for r in rec.reasons)
    assert any("0.5" in r for r in rec.reasons)


def test_sixteen_cpus_four_processes() -> None:
    rec = recommend("throughput", processes=4, topology=topo(16))
    assert rec.settings == ThreadSettings(4, 2)
    assert rec.per_process_budget == 4.0
    assert any("4 processes share it" in r for r in rec.reasons)
    assert any("4 x 4 = 16 intra-op threads" in r for r in rec.reasons)
    # 16 threads per pool in each of 4 processes: 64 for 16 CPUs.
    assert "64 intra-op threads" in rec.comparison[0]
    assert "4x the budget" in rec.comparison[0]


def test_more_processes_than_cpus() -> None:
    rec = recommend("latency", processes=6, topology=topo(4))
    assert rec.settings == ThreadSettings(1, 1)
    text = " ".join(rec.reasons)
    assert "6 processes alone oversubscribe" in text
    assert "at most 4 processes" in text


def test_budget_below_one_cpu() -> None:
    rec = recommend(topology=topo(4, cpu_quota=0.5))
    assert rec.settings == ThreadSettings(1, 1)
    assert any("less than one whole CPU" in r for r in rec.reasons)


def test_smt_prefers_physical_cores_for_latency() -> None:
    smt = topo(8, cores=4, smt=True)
    latency = recommend("latency", topology=smt)
    assert latency.settings == ThreadSettings(4, 2)
    assert any("SMT" in r and "capped at 4" in r for r in latency.reasons)
    # Throughput keeps the hardware threads.
    assert recommend("throughput", topology=smt).settings == ThreadSettings(8, 2)
    # Two processes share the four cores.
    assert recommend("latency", processes=2, topology=smt).settings.intra_op == 2


def test_smt_cap_scales_with_affinity_share() -> None:
    # 4 of 16 logical CPUs (8 cores) in the mask: about 2 cores.
    half = Topology(16, (0, 1, 2, 3), 8, 1, 1, True, None, None)
    assert recommend("latency", topology=half).settings.intra_op == 2


def test_unknown_physical_cores() -> None:
    rec = recommend(topology=unknown_cores(16))
    assert rec.intel_rule is None
    assert rec.settings == ThreadSettings(16, 2)
    assert "cannot be applied" in rec.comparison[1]
    assert rec.as_dict()["intel_rule"] is None


def test_latency_and_throughput_differ_in_inter_op() -> None:
    two = topo(2)
    assert recommend("latency", topology=two).settings.inter_op == 1
    assert recommend("throughput", topology=two).settings.inter_op == 2
    assert recommend("throughput", topology=topo(1)).settings == ThreadSettings(1, 1)
    assert recommend("latency", topology=topo(8)).settings == ThreadSettings(8, 2)
    throughput = recommend("throughput", topology=topo(8))
    assert any("processes=N" in r for r in throughput.reasons)


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
        "reasons",
        "comparison",
        "tensorflow_default",
        "intel_rule",
    }
    assert required <= data.keys()
    assert json.loads(json.dumps(data)) == data
    assert data["intra_op_parallelism_threads"] == 3
    assert data["tensorflow_default"] == {
        "intra_op_parallelism_threads": 8,
        "inter_op_parallelism_threads": 8,
    }


def test_describe_is_short_text() -> None:
    text = recommend("throughput", processes=4, topology=topo(16)).describe()
    lines = text.splitlines()
    assert lines[0] == "Recommended for throughput, 4 processes: intra_op=4, inter_op=2 each"
    assert lines[1] == "CPU budget: 16 CPUs, 4 per process"
    assert "Why:" in lines
    assert "Compared with:" in lines


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
    assert intra >= 1
    assert inter >= 1
    assert intra * processes <= max(processes, math.floor(rec.cpu_budget))
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
