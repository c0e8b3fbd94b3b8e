"""Measurements in fresh processes: results, settings in force, failures and bad input."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from tfthreads.errors import SettingError
from tfthreads.isolation import WorkerError, run_snippet
from tfthreads.measure import measure, measure_many
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload

pytestmark = pytest.mark.slow
AFFINITY = sorted(os.sched_getaffinity(0))

BAD_STEPS = """
import os, signal, time

def aborts():
    return os.abort

def raises():
    def step():
        raise ValueError("boom from the step")
    return step

def sigkill():
    return lambda: os.kill(os.getpid(), signal.SIGKILL)

def sleeps():
    return lambda: time.sleep(600)

def not_callable():
    return 42

def counts():
    calls = []
    return lambda: calls.append(1)
"""


@pytest.fixture
def bad_steps(tmp_path, monkeypatch):
    (tmp_path / "bad_steps.py").write_text(BAD_STEPS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_measure_reports_settings_stats_and_provenance():
    result = measure("matmul", ThreadSettings(intra_op=1, inter_op=1), repeats=5, warmup=1)
    assert result.configured == {"intra_op": 1, "inter_op": 1}
    assert result.observed_pools == {"intra_op": 1, "inter_op": 1}
    assert result.wall.n == 5
    assert 0 < result.wall.minimum <= result.wall.median <= result.wall.p99
    assert result.gflops > 0
    assert result.cpu.median > 0
    row = result.row()
    assert row["unit"] == "matmul/s"
    assert row["throughput"] == pytest.approx(5 / sum(result.processes[0].wall_seconds))
    record = result.provenance
    assert record["child_tensorflow_version"].startswith("2.")
    assert record["topology"]["affinity"] == AFFINITY
    assert "onednn_enabled" in record


def test_several_workloads_share_one_child():
    first, second = measure_many(["matmul", "branches"], repeats=2, warmup=0)
    assert (first.workload.name, second.workload.name) == ("matmul", "branches")
    assert first.observed_pools == second.observed_pools


def test_processes_run_together():
    result = measure("matmul", ThreadSettings(intra_op=1), repeats=4, warmup=1, processes=2)
    assert len(result.processes) == 2
    assert all(len(p.wall_seconds) == 4 for p in result.processes)
    assert result.row()["processes"] == 2
    per_process = result.as_dict()["per_process"]
    assert sum(p["throughput"] for p in per_process) == pytest.approx(result.throughput)
    assert all(p["p99_ms"] > 0 for p in per_process)


def test_cpus_restrict_the_children():
    result = measure("matmul", repeats=2, warmup=0, cpus=[AFFINITY[0]])
    assert result.provenance["child_affinity"] == [AFFINITY[0]]
    assert result.observed_pools == {"intra_op": 1, "inter_op": 1}


def test_keras_model_workload(tmp_path):
    path = tmp_path / "tiny.keras"
    made = run_snippet(
        textwrap.dedent(
            f"""
            import keras
            model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
            model.save({str(path)!r})
            """
        )
    )
    assert made.returncode == 0, made.stderr
    result = measure(parse_workload(str(path), input_shape=[2, 8]), repeats=3, warmup=1)
    assert result.unit == "inferences"
    assert result.items_per_step == 2


def test_user_callable_workload(bad_steps):
    result = measure("bad_steps:counts", repeats=3, warmup=0, env=bad_steps)
    assert result.unit == "steps"


@pytest.mark.parametrize(
    ("function", "reason", "words"),
    [
        ("aborts", "signal", "signal 6 SIGABRT"),
        ("sigkill", "signal", "SIGKILL (the kernel kills with SIGKILL when memory runs out)"),
        ("raises", "error", "ValueError: boom from the step"),
        ("not_callable", "error", "must return a step callable, got int"),
    ],
)
def test_failing_workloads_are_reported(bad_steps, function, reason, words):
    with pytest.raises(WorkerError) as caught:
        measure(f"bad_steps:{function}", repeats=1, warmup=0, env=bad_steps)
    assert caught.value.reason == reason
    assert words in str(caught.value)


def test_hanging_workload_is_killed_at_the_timeout(bad_steps):
    with pytest.raises(WorkerError, match="timed out after 20 s") as caught:
        measure("bad_steps:sleeps", repeats=1, warmup=0, env=bad_steps, timeout=20)
    assert caught.value.reason == "timeout"


BAD_ARGUMENTS = [
    ({"repeats": 0}, "repeats: got 0"),
    ({"repeats": 1.5}, "repeats: got 1.5"),
    ({"repeats": True}, "repeats: got True"),
    ({"warmup": -1}, "warmup: got -1"),
    ({"processes": 0}, "processes: got 0"),
    ({"processes": 1000}, "processes: got 1000"),
    ({"timeout": 0}, "timeout: got 0"),
    ({"timeout": "5"}, "timeout: got '5'"),
]


@pytest.mark.parametrize(("kwargs", "words"), BAD_ARGUMENTS)
def test_bad_arguments_fail_before_any_child(kwargs, words):
    with pytest.raises(SettingError, match=words):
        measure("matmul", **kwargs)


def test_no_workloads():
    with pytest.raises(SettingError, match="expected at least one"):
        measure_many([])


def test_worker_is_this_interpreter():
    # The children must run the same Python (and so the same TensorFlow) as the caller.
    assert run_snippet("import sys; print(sys.executable)").stdout.strip() == sys.executable
