"""Measurements in fresh processes: results, settings in force, failures and bad input."""

from __future__ import annotations

import os
import re
import sys
import textwrap

import pytest

from tfthreads.errors import SettingError
from tfthreads.measure import measure, measure_in_turns, measure_many
from tfthreads.options import MeasureOptions
from tfthreads.process import WorkerError, run_snippet
from tfthreads.results import Measurement
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload

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

def build_sleeps():
    time.sleep(600)

def build_exits():
    raise SystemExit(7)

def build_hard_exit():
    os._exit(0)

def build_aborts():
    os.abort()

def counts():
    calls = []
    return lambda: calls.append(1)

def stamps():
    # The first worker to get here is slow to build its step; each step records the
    # wall-clock time in a file of its own process.
    folder = os.environ["STAMPS"]
    try:
        os.close(os.open(os.path.join(folder, "first"), os.O_CREAT | os.O_EXCL))
        time.sleep(3)
    except FileExistsError:
        pass
    out = os.path.join(folder, str(os.getpid()))

    def step():
        with open(out, "a") as f:
            f.write(f"{time.time()}\\n")
        time.sleep(0.02)

    return step

def turn_stamps():
    # Each step records the wall-clock time and this process's intra-op setting.
    import tensorflow as tf

    intra = tf.config.threading.get_intra_op_parallelism_threads()
    out = os.path.join(os.environ["STAMPS"], str(os.getpid()))

    def step():
        with open(out, "a") as f:
            f.write(f"{time.time()} {intra}\\n")
        time.sleep(0.01)

    return step

def fails_with_one_thread():
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() == 1:
        raise ValueError("boom with one thread")
    return lambda: time.sleep(0.001)
"""


@pytest.fixture
def bad_steps(tmp_path, monkeypatch):
    (tmp_path / "bad_steps.py").write_text(BAD_STEPS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.slow
def test_measure_reports_settings_stats_and_provenance():
    result = measure(
        "matmul",
        ThreadSettings(intra_op=1, inter_op=1),
        options=MeasureOptions(repeats=5, warmup=1),
    )
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


@pytest.mark.slow
@pytest.mark.parametrize(("intra", "inter"), [(1, 1), (2, 3)])
def test_each_setting_reports_its_own_pools(intra, inter):
    # Several workloads share one child per setting: each reports the pools of that
    # setting's child, and its own unit and work.
    first, second = measure_many(
        ["matmul", "branches"],
        ThreadSettings(intra_op=intra, inter_op=inter),
        options=MeasureOptions(repeats=2, warmup=0),
    )
    assert (first.workload.name, second.workload.name) == ("matmul", "branches")
    for result in (first, second):
        assert result.configured == {"intra_op": intra, "inter_op": inter}
        assert result.observed_pools == {"intra_op": intra, "inter_op": inter}
    assert (first.unit, first.items_per_step) == ("matmul", 1)
    assert (second.unit, second.items_per_step) == ("branches", 8)


@pytest.mark.slow
def test_processes_run_together(tmp_path, bad_steps):
    # The first worker takes 3 s longer to build its step; its siblings wait for it at the
    # barrier, so the timed loops (about 0.1 s each) still overlap.
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    options = MeasureOptions(
        repeats=4, warmup=0, processes=2, env={**bad_steps, "STAMPS": str(stamps)}
    )
    result = measure("bad_steps:stamps", options=options)
    assert len(result.processes) == 2
    assert all(len(p.wall_seconds) == 4 for p in result.processes)
    assert result.row()["processes"] == 2
    loops = [
        [float(line) for line in path.read_text().split()]
        for path in stamps.iterdir()
        if path.name != "first"
    ]
    assert [len(stamps) for stamps in loops] == [4, 4]
    (start_a, end_a), (start_b, end_b) = [(min(s), max(s)) for s in loops]
    assert max(start_a, start_b) <= min(end_a, end_b), f"loops did not overlap: {loops}"
    per_process = result.as_dict()["per_process"]
    assert sum(p["throughput"] for p in per_process) == pytest.approx(result.throughput)


@pytest.mark.slow
def test_cpus_restrict_the_children():
    result = measure("matmul", options=MeasureOptions(repeats=2, warmup=0, cpus=[AFFINITY[0]]))
    assert result.provenance["child_affinity"] == [AFFINITY[0]]
    assert result.observed_pools == {"intra_op": 1, "inter_op": 1}


@pytest.mark.slow
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
    spec = parse_workload(str(path), input_shape=[2, 8])
    result = measure(spec, options=MeasureOptions(repeats=3, warmup=1))
    assert result.unit == "inferences"
    assert result.items_per_step == 2


@pytest.mark.slow
def test_user_callable_workload(bad_steps):
    result = measure("bad_steps:counts", options=MeasureOptions(repeats=3, warmup=0, env=bad_steps))
    assert result.unit == "steps"


@pytest.mark.slow
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
        measure(f"bad_steps:{function}", options=MeasureOptions(repeats=1, warmup=0, env=bad_steps))
    assert caught.value.reason == reason
    assert words in str(caught.value)


@pytest.mark.slow
def test_hanging_workload_is_killed_at_the_timeout(bad_steps):
    options = MeasureOptions(repeats=1, warmup=0, env=bad_steps, timeout=20)
    with pytest.raises(WorkerError, match="timed out after 20 s") as caught:
        measure("bad_steps:sleeps", options=options)
    assert caught.value.reason == "timeout"


BAD_OPTIONS = [
    ({"repeats": 0}, SettingError, "repeats: got 0; expected a whole number from 1 to 100000"),
    ({"repeats": 1.5}, TypeError, "repeats: got 1.5 (float); expected a whole number"),
    ({"repeats": True}, TypeError, "repeats: got True (bool)"),
    ({"warmup": -1}, SettingError, "warmup: got -1"),
    ({"processes": 0}, SettingError, "processes: got 0; expected a whole number from 1 to 256"),
    ({"processes": 1000}, SettingError, "processes: got 1000"),
    ({"timeout": 0}, SettingError, "timeout: got 0; expected seconds above 0"),
    ({"timeout": "5"}, TypeError, "timeout: got '5' (str)"),
    ({"env": {"A": 1}}, TypeError, "env: got"),
    ({"cpus": []}, SettingError, "cpus: got none"),
    ({"cpus": [-1]}, SettingError, "cpus: got -1"),
    ({"cgroup": 3}, TypeError, "cgroup: got 3 (int)"),
]


@pytest.mark.parametrize(("kwargs", "error", "words"), BAD_OPTIONS)
def test_bad_options_are_refused_when_made(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)) as caught:
        MeasureOptions(**kwargs)
    assert "\n" not in str(caught.value)


def test_options_must_be_options():
    with pytest.raises(TypeError, match="options: got"):
        measure("matmul", options={"repeats": 2})


def test_no_workloads():
    with pytest.raises(SettingError, match="expected at least one"):
        measure_many([])


def test_worker_is_this_interpreter():
    # The children must run the same Python (and so the same TensorFlow) as the caller.
    assert run_snippet("import sys; print(sys.executable)").stdout.strip() == sys.executable


@pytest.mark.slow
def test_settings_take_turns_chunk_by_chunk(tmp_path, bad_steps):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    options = MeasureOptions(repeats=6, warmup=0, env={**bad_steps, "STAMPS": str(stamps)})
    one, two = ThreadSettings(intra_op=1), ThreadSettings(intra_op=2)
    results = measure_in_turns("bad_steps:turn_stamps", [one, two], options=options, chunks=3)
    assert [r.settings for r in results] == [one, two]
    assert all(len(r.processes[0].wall_seconds) == 6 for r in results)
    steps = sorted(
        (float(when), intra)
        for path in stamps.iterdir()
        for when, intra in (line.split() for line in path.read_text().splitlines())
    )
    # Chunk 1: setting 1 then 2; chunk 2: 2 then 1; chunk 3: 1 then 2; two steps each.
    assert "".join(intra for _, intra in steps) == "112222111122"


@pytest.mark.slow
def test_a_setting_that_fails_in_turns_leaves_the_others_measured(bad_steps):
    options = MeasureOptions(repeats=4, warmup=1, env=bad_steps)
    one, two = ThreadSettings(intra_op=1), ThreadSettings(intra_op=2)
    failed, measured = measure_in_turns(
        "bad_steps:fails_with_one_thread", [one, two], options=options, chunks=2
    )
    assert isinstance(failed, WorkerError)
    assert "boom with one thread" in str(failed)
    assert isinstance(measured, Measurement)
    assert len(measured.processes[0].wall_seconds) == 4


@pytest.mark.slow
def test_a_setting_killed_by_a_signal_in_turns_leaves_the_others_measured():
    """TensorFlow aborts (SIGABRT) with a negative pool size: no Python code can tell the
    sibling, which must not wait for it until the timeout."""
    # The defaults read TF_NUM_INTRAOP_THREADS=-1 and abort; intra_op=1 sets the pool.
    options = MeasureOptions(repeats=4, warmup=1, env={"TF_NUM_INTRAOP_THREADS": "-1"})
    options = options.replace(timeout=90)
    failed, measured = measure_in_turns(
        "matmul", [ThreadSettings(), ThreadSettings(1, 2)], options=options, chunks=2
    )
    assert isinstance(failed, WorkerError)
    assert failed.reason == "signal"
    assert "SIGABRT" in str(failed)
    # Measured, not timed out waiting at the barrier for the child that died.
    assert isinstance(measured, Measurement)
    assert len(measured.processes[0].wall_seconds) == 4


def test_turns_are_checked_before_any_child_starts():
    with pytest.raises(SettingError, match="chunks: got 5; expected at most the repeats"):
        measure_in_turns("matmul", [ThreadSettings()], options=MeasureOptions(repeats=4), chunks=5)
    with pytest.raises(SettingError, match="chunks"):
        measure_in_turns("matmul", [ThreadSettings()], chunks=0)
    with pytest.raises(SettingError, match="settings: got none"):
        measure_in_turns("matmul", [])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("function", "words"),
    [
        ("build_sleeps", "did not finish within 20 s (is it waiting for something?"),
        ("build_exits", "ended the process with exit code 7"),
        ("build_hard_exit", "ended the process before it could report (os._exit?)"),
        ("build_aborts", "killed by signal 6 (SIGABRT)"),
    ],
)
def test_user_code_that_ends_the_check_is_a_user_error_in_its_terms(
    bad_steps: dict[str, str], function: str, words: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A build that hangs, exits or crashes is the user's input: a SettingError (exit 2)."""
    from tfthreads.measure import check_workloads

    # A short limit only where the build hangs: on a busy machine TensorFlow's import
    # alone can take tens of seconds.
    timeout = 20 if function == "build_sleeps" else 300
    options = MeasureOptions(repeats=3, env=bad_steps, timeout=timeout)
    with pytest.raises(SettingError) as caught:
        check_workloads([parse_workload(f"bad_steps:{function}")], options)
    message = str(caught.value)
    assert message.startswith(f"workload 'bad_steps:{function}' cannot run: ")
    assert words in message
    assert "worker task" not in message
    # A build that hangs is told of on stderr before the timeout stops it.
    if function == "build_sleeps":
        still = "tfthreads: still building and running 'bad_steps:build_sleeps' once, after 10 s"
        assert still in capfd.readouterr().err


def test_more_processes_than_memory_holds_are_refused_before_any_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psutil

    from tfthreads import measure as measuring

    memory = psutil.virtual_memory()._replace(available=int(2e9))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: memory)
    with pytest.raises(SettingError, match=r"processes: got 64; 64 TensorFlow processes at once "):
        measuring.measure("matmul", options=MeasureOptions(processes=64, repeats=2))
    with pytest.raises(SettingError, match=r"at most 7 processes fit"):
        measuring.measure_in_turns(
            "matmul",
            [ThreadSettings(), ThreadSettings(intra_op=1)],
            options=MeasureOptions(processes=8, repeats=2),
        )
