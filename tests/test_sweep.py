"""Sweeps: results written as they come, failures recorded, resume, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import measured

from tfthreads.errors import SettingError
from tfthreads.options import MeasureOptions
from tfthreads.results import Failure, Measurement
from tfthreads.settings import ThreadSettings
from tfthreads.sweep import SweepResult, grid, sweep
from tfthreads.workloads import parse_workload

QUICK = MeasureOptions(repeats=2, warmup=0)

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
    """The rows of a results file, after its header."""
    header, *rows = (json.loads(line) for line in path.read_text().splitlines())
    assert header["format"] == "tfthreads-results"
    return rows


def test_grid_checks_every_value():
    assert len(grid([1, 2, 3], [1, 2])) == 6
    with pytest.raises(SettingError, match="intra_op: got -1"):
        grid([-1], [1])


def test_bad_inputs(tmp_path):
    with pytest.raises(SettingError, match="expected at least one"):
        sweep("matmul", [])
    with pytest.raises(TypeError, match="options: got"):
        sweep("matmul", grid([1], [1]), options={"repeats": 2})
    with pytest.raises(TypeError, match=r"settings_grid: got \(1, 1\) \(tuple\); expected"):
        sweep("matmul", [(1, 1)])
    with pytest.raises(SettingError, match="is a folder"):
        sweep("matmul", grid([1], [1]), results=tmp_path)
    with pytest.raises(SettingError, match="cannot write"):
        sweep("matmul", grid([1], [1]), results="/proc/no/such/file.jsonl")


@pytest.mark.slow
def test_crash_is_recorded_and_the_sweep_goes_on(tmp_path, flaky_env):
    path = tmp_path / "out.jsonl"
    options = QUICK.replace(env=flaky_env)
    result = sweep("flaky_steps:flaky", grid([1, 2], [1]), options=options, results=path)
    assert [type(row) for row in result.rows] == [Measurement, Failure]
    failed = result.failed[0]
    assert failed.settings.intra_op == 2
    assert failed.reason == "signal"
    assert "SIGABRT" in failed.error
    assert [row["status"] for row in _lines(path)] == ["ok", "failed"]
    # Resuming reuses the measured result as it was read back, and retries the failure.
    again = sweep("flaky_steps:flaky", grid([1, 2], [1]), options=options, results=path)
    assert again.reused == 1
    assert again.rows[0] == result.rows[0]
    assert isinstance(again.rows[1], Failure)
    assert [row["status"] for row in _lines(path)] == ["ok", "failed", "failed"]
    assert "failed" in result.table()


@pytest.mark.slow
def test_resume_skips_settings_already_measured(tmp_path):
    path = tmp_path / "out.jsonl"
    first = sweep("matmul", grid([1], [1]), options=QUICK, results=path)
    # A line cut short by a kill mid-write is ignored, and its setting runs again.
    with path.open("a") as out:
        out.write('{"workload": "matmul", "intra_op": 2, "inter_op"')
    second = sweep("matmul", grid([1, 2], [1]), options=QUICK, results=path)
    assert len(second.rows) == 2
    assert second.rows[0] == first.rows[0]  # reused from the file, not measured again
    assert second.rows[1].settings.intra_op == 2
    assert isinstance(second.rows[1], Measurement)
    fresh = sweep("matmul", grid([1], [1]), options=QUICK, results=path, resume=False)
    assert len(_lines(path)) == 1
    assert fresh.ok[0].processes != first.ok[0].processes  # measured again


@pytest.mark.slow
def test_sigint_leaves_a_valid_resumable_file(tmp_path):
    path = tmp_path / "out.jsonl"
    script = textwrap.dedent(
        f"""
        from tfthreads.sweep import grid, sweep
        from tfthreads.options import MeasureOptions
        sweep("matmul", grid([1, 2], [1, 2]), options=MeasureOptions(repeats=3, warmup=0),
              results={str(path)!r})
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    # Wait for the header and a first row.
    while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < 2):
        time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode != 0
    assert "KeyboardInterrupt" in stderr
    before = _lines(path)  # every line is valid JSON
    assert 1 <= len(before) < 4
    options = MeasureOptions(repeats=3, warmup=0)
    resumed = sweep("matmul", grid([1, 2], [1, 2]), options=options, results=path)
    assert len(resumed.rows) == 4
    assert resumed.reused == len(before)
    assert [row.as_dict() for row in resumed.rows[: len(before)]] == [
        {name: value for name, value in row.items() if name not in ("key", "conditions")}
        for row in before
    ]


def _measured(intra, median):
    return measured(ThreadSettings(intra_op=intra, inter_op=1), median, spread=0.1)


def test_the_table_says_one_process_per_setting_cannot_rank_close_rows():
    two = SweepResult(rows=[_measured(1, 0.010), _measured(2, 0.0098)])
    text = " ".join(two.table().split())
    assert "Each row is one process per setting" in text
    assert "tfthreads tune WORKLOAD --intra-op LIST --inter-op LIST" in text
    # One setting per workload: nothing is ranked, nothing to warn about.
    assert "one process per setting" not in SweepResult(rows=[_measured(1, 0.010)]).table()
    lines = two.table().splitlines()
    assert lines[0].split() == [
        "workload", "intra_op", "inter_op", "median_ms", "iqr_ms", "p99_ms", "throughput",
        "cpu_per_wall", "status",
    ]  # fmt: skip
    assert set(lines[1]) == {"-"}
    assert len(lines[2]) == len(lines[3]) == len(lines[0])  # right-aligned columns line up


def test_table_plot_and_dataframe_from_rows():
    failure = Failure(parse_workload("matmul"), ThreadSettings(3, 1), 1, "signal", "SIGABRT")
    result = SweepResult(rows=[_measured(1, 0.010), _measured(2, 0.005), failure])
    assert result.best("latency").settings.intra_op == 2
    assert result.best("throughput").settings.intra_op == 2
    with pytest.raises(SettingError, match="goal: got 'fast'"):
        result.best("fast")
    assert "10.000" in result.table()
    assert "signal: SIGABRT" in result.table()
    assert result.failed == [failure]
    import matplotlib

    matplotlib.use("Agg")
    ax = result.plot()
    assert ax.get_xlabel() == "intra_op threads"
    pandas = pytest.importorskip("pandas")
    frame = result.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["status"]) == ["ok", "ok", "failed"]


def test_results_round_trip_through_json_lines():
    from tfthreads.results import result_from_dict

    failure = Failure(parse_workload("matmul"), ThreadSettings(3, 1), 1, "signal", "SIGABRT")
    for original in (_measured(2, 0.005), failure):
        assert result_from_dict(json.loads(json.dumps(original.as_dict()))) == original
    assert result_from_dict({"status": "ok", "workload": "matmul"}) is None


def test_best_without_rows():
    with pytest.raises(SettingError, match="no measured rows"):
        SweepResult().best()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TF_ENABLE_ONEDNN_OPTS", "0"), ("OMP_NUM_THREADS", "1"), ("KMP_BLOCKTIME", "0")],
)
def test_the_resume_key_holds_the_inherited_threading_variables(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    from tfthreads.measurement_key import result_key

    args = (parse_workload("matmul"), ThreadSettings(), MeasureOptions())
    monkeypatch.delenv(variable, raising=False)
    plain = result_key(*args)
    monkeypatch.setenv(variable, value)
    assert result_key(*args) != plain
    monkeypatch.setenv("UNRELATED_VARIABLE", "x")
    assert result_key(*args) == result_key(*args)


def test_the_resume_key_holds_the_inherited_affinity_mask() -> None:
    """A row measured under ``taskset -c 0`` is not reused without it."""
    from tfthreads.measurement_key import result_key

    args = (parse_workload("matmul"), ThreadSettings(), MeasureOptions())
    everywhere = result_key(*args)
    mask = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(mask)})
        narrowed = result_key(*args)
    finally:
        os.sched_setaffinity(0, mask)
    assert (narrowed != everywhere) == (len(mask) > 1)
    assert result_key(*args) == everywhere


@pytest.mark.slow
def test_sigterm_says_so_leaves_nothing_running_and_no_temporary_folder(tmp_path):
    import tempfile

    import psutil

    path = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "tfthreads", "sweep", "matmul", "--intra-op", "1,2"]
    command += ["--inter-op", "1,2", "--repeats", "3", "--processes", "2", "--output", str(path)]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < 2):
        time.sleep(0.2)
    workers = psutil.Process(child.pid).children(recursive=True)
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 143
    assert stderr.strip().endswith("tfthreads sweep: terminated")
    assert "Traceback" not in stderr
    assert list(Path(tempfile.gettempdir()).glob(f"tfthreads-*-pid{child.pid}-*")) == []
    assert [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE] == []


def test_the_table_never_cuts_a_workload_name() -> None:
    long_name = parse_workload("matmul", n=64)
    row = measured(ThreadSettings(), 0.001)
    import dataclasses

    named = dataclasses.replace(
        row, workload=dataclasses.replace(long_name, target="a_long_module_name.steps:build")
    )
    text = SweepResult(rows=[named, row]).table()
    assert "a_long_module_name.steps:build" in text
    assert len({len(line) for line in text.splitlines()[:1]}) == 1
