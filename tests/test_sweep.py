"""Sweeps: results written as they come, failures recorded, resume, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tfthreads.errors import SettingError
from tfthreads.settings import ThreadSettings
from tfthreads.sweep import SweepResult, grid, sweep

FLAKY = """
import os
import tensorflow as tf

def flaky():
    # Crashes only when two intra-op threads are configured.
    if tf.config.threading.get_intra_op_parallelism_threads() == 2:
        return os.abort
    return lambda: None
"""


@pytest.fixture
def flaky_env(tmp_path, monkeypatch):
    (tmp_path / "flaky_steps.py").write_text(FLAKY)
    monkeypatch.syspath_prepend(str(tmp_path))
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_grid_checks_every_value():
    assert len(grid([1, 2, 3], [1, 2])) == 6
    with pytest.raises(SettingError, match="intra_op: got -1"):
        grid([-1], [1])


def test_bad_inputs(tmp_path):
    with pytest.raises(SettingError, match="expected at least one"):
        sweep("matmul", [])
    with pytest.raises(SettingError, match="expected ThreadSettings"):
        sweep("matmul", [(1, 1)])
    with pytest.raises(SettingError, match="is a folder"):
        sweep("matmul", grid([1], [1]), results=tmp_path)
    with pytest.raises(SettingError, match="cannot write"):
        sweep("matmul", grid([1], [1]), results="/proc/no/such/file.jsonl")


@pytest.mark.slow
def test_crash_is_recorded_and_the_sweep_goes_on(tmp_path, flaky_env):
    path = tmp_path / "out.jsonl"
    result = sweep(
        "flaky_steps:flaky", grid([1, 2], [1]), results=path, repeats=2, warmup=0, env=flaky_env
    )
    assert [row["status"] for row in result.rows] == ["ok", "failed"]
    failed = result.failed[0]
    assert failed["intra_op"] == 2
    assert failed["reason"] == "signal"
    assert "SIGABRT" in failed["error"]
    assert [row["status"] for row in _lines(path)] == ["ok", "failed"]
    assert "failed" in result.table()


@pytest.mark.slow
def test_resume_skips_settings_already_measured(tmp_path):
    path = tmp_path / "out.jsonl"
    first = sweep("matmul", grid([1], [1]), results=path, repeats=2, warmup=0)
    # A line cut short by a kill mid-write is ignored, and its setting runs again.
    with path.open("a") as out:
        out.write('{"workload": "matmul", "intra_op": 2, "inter_op"')
    second = sweep("matmul", grid([1, 2], [1]), results=path, repeats=2, warmup=0)
    assert len(second.rows) == 2
    assert second.rows[0] == first.rows[0]  # reused from the file, not measured again
    assert second.rows[1]["intra_op"] == 2
    assert second.rows[1]["status"] == "ok"
    fresh = sweep("matmul", grid([1], [1]), results=path, resume=False, repeats=2, warmup=0)
    assert len(_lines(path)) == 1
    assert fresh.rows[0]["median_ms"] != first.rows[0]["median_ms"]


@pytest.mark.slow
def test_sigint_leaves_a_valid_resumable_file(tmp_path):
    path = tmp_path / "out.jsonl"
    script = textwrap.dedent(
        f"""
        from tfthreads.sweep import grid, sweep
        sweep("matmul", grid([1, 2], [1, 2]), results={str(path)!r}, repeats=3, warmup=0)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not path.exists() or not path.read_text().strip()):
        time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode != 0
    assert "KeyboardInterrupt" in stderr
    before = _lines(path)  # every line is valid JSON
    assert 1 <= len(before) < 4
    resumed = sweep("matmul", grid([1, 2], [1, 2]), results=path, repeats=3, warmup=0)
    assert len(resumed.rows) == 4
    assert resumed.rows[: len(before)] == before


def test_table_plot_and_dataframe_from_rows():
    rows = [
        {
            "workload": "w",
            "intra_op": i,
            "inter_op": 1,
            "processes": 1,
            "median_ms": 10.0 / i,
            "iqr_ms": 0.1,
            "p99_ms": 12.0,
            "throughput": 100.0 * i,
            "cpu_per_wall": 1.0,
            "status": "ok",
        }
        for i in (1, 2)
    ]
    result = SweepResult(rows=rows)
    assert result.best("latency")["intra_op"] == 2
    assert result.best("throughput")["intra_op"] == 2
    with pytest.raises(SettingError, match="goal: got 'fast'"):
        result.best("fast")
    assert "10.000" in result.table()
    import matplotlib

    matplotlib.use("Agg")
    ax = result.plot()
    assert ax.get_xlabel() == "intra_op threads"
    pandas = pytest.importorskip("pandas")
    assert isinstance(result.to_dataframe(), pandas.DataFrame)


def test_best_without_rows():
    with pytest.raises(SettingError, match="no measured rows"):
        SweepResult().best()


@pytest.mark.slow
def test_tune_measures_defaults_and_recommendation():
    from tfthreads.tune import tune

    found = tune("matmul", "latency", budget=3, repeats=3, warmup=1)
    tried = {(row["intra_op"], row["inter_op"]) for row in found.tried.rows}
    assert (0, 0) in tried
    assert (found.recommendation.settings.intra_op, found.recommendation.settings.inter_op) in tried
    assert len(found.tried.rows) <= 3
    assert found.speedup_over_default > 0
    assert found.best_row["median_ms"] == min(r["median_ms"] for r in found.tried.ok)
    assert isinstance(found.best, ThreadSettings)
    assert found.as_dict()["intra_op_parallelism_threads"] == found.best.intra_op


def test_tune_budget_is_checked():
    from tfthreads.tune import tune

    with pytest.raises(SettingError, match="budget: got 1"):
        tune("matmul", budget=1)
