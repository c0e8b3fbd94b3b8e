"""What a reliability engineer tries: bad results paths, stale resumes, failing user code.

Each test reproduces one report from the issue tracker as a user would hit it, with real
processes, and checks that it now gives correct results or one clear line with the
documented exit code (0 all measured, 1 a measurement failed, 2 the input is wrong).
"""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from tfthreads.options import MeasureOptions
from tfthreads.process import run_snippet
from tfthreads.results import Failure, Measurement
from tfthreads.settings import ThreadSettings
from tfthreads.sweep import SweepResult, grid, sweep
from tfthreads.workloads import parse_workload

QUICK = MeasureOptions(repeats=2, warmup=0)

USER_CODE = """
import os
import tensorflow as tf

def boom():
    raise ValueError("\\x1b[31mbroken on purpose\\x1b[0m " + "x" * 300)

def not_callable():
    return 42

def crash_at_two():
    if tf.config.threading.get_intra_op_parallelism_threads() == 2:
        return os.abort
    return lambda: None
"""


def run_cli(*args, cwd=None, timeout=300):
    code = f"import os, sys; from tfthreads.cli import main; sys.exit(main({list(args)!r}))"
    if cwd is not None:
        code = (
            f"import os; os.chdir({str(cwd)!r}); import sys; sys.path.append({str(cwd)!r}); " + code
        )
    return run_snippet(code, timeout=timeout)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "mymod.py").write_text(USER_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    )
    return tmp_path


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("/dev/full", "'/dev/full' is a character device"),
        ("/dev/null", "'/dev/null' is a character device"),
        ("newdir/", "'newdir/' names a folder"),
        ("pipe", "'pipe' is a FIFO"),
        ("notes.txt", "'notes.txt' is not a tfthreads results file"),
        ("victim.keras", "'victim.keras' is not a tfthreads results file"),
    ],
)
@pytest.mark.parametrize("resume", [[], ["--no-resume"]])
def test_output_that_is_no_results_file_is_refused_untouched(tmp_path, output, words, resume):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "notes.txt").write_text("my notes\n")
    with zipfile.ZipFile(tmp_path / "victim.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = run_cli("sweep", "matmul", "--output", output, *resume, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert not (tmp_path / "newdir").exists()


def _latency_tune_file(folder):
    """A results file holding one row of a latency tune of ``matmul``."""
    from tfthreads.results_file import ResultsFile
    from tfthreads.tune import run_description

    path = folder / "tune.jsonl"
    run = run_description(parse_workload("matmul"), "latency", MeasureOptions())
    with ResultsFile.open(path, run=run) as results:
        results.append({"status": "ok"})
    return path


def test_output_of_another_run_is_refused_before_measuring(tmp_path):
    path = _latency_tune_file(tmp_path)
    before = path.read_bytes()
    result = run_cli("sweep", "matmul", "--output", str(path), timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert f"--output: {str(path)!r} already holds a tune of 'matmul'" in result.stderr
    assert path.read_bytes() == before


def test_a_usage_error_found_after_the_output_opened_leaves_no_new_file(tmp_path):
    # --output is opened before tune checks its own arguments (here --chunks).
    result = run_cli(
        "tune", "matmul", "--output", "new.jsonl", "--chunks", "9", "--repeats", "3", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "chunks: got 9" in result.stderr
    assert not (tmp_path / "new.jsonl").exists()


def test_a_usage_error_after_no_resume_opened_the_output_loses_nothing(tmp_path):
    # --no-resume starts the file afresh only when the first new row comes.
    path = _latency_tune_file(tmp_path)
    before = path.read_bytes()
    result = run_cli(
        "tune", "matmul", "--output", str(path), "--no-resume", "--chunks", "9", "--repeats", "3"
    )
    assert result.returncode == 2, result.stderr
    assert "chunks: got 9" in result.stderr
    assert path.read_bytes() == before


@pytest.mark.slow
def test_no_resume_starts_afresh_a_file_that_resuming_refuses(tmp_path):
    """The refusal says "--no-resume to start the file afresh": that must then work."""
    path = tmp_path / "rows.jsonl"
    sweep("matmul", grid([1], [1]), options=QUICK, results=path)
    with path.open("a") as out:
        out.write("edited by hand\n")
    common = ("sweep", "matmul", "--repeats", "2", "--warmup", "0", "--output", str(path))
    refused = run_cli(*common)
    assert refused.returncode == 2, refused.stderr
    assert "--no-resume to start the file afresh" in refused.stderr
    fresh = run_cli(*common, "--no-resume")
    assert fresh.returncode == 0, fresh.stderr
    assert "edited by hand" not in path.read_text()
    assert path.read_text().count("\n") == 2  # the header and the one new row


@pytest.mark.slow
def test_resume_measures_again_when_what_shapes_the_result_changed(tmp_path):
    path = tmp_path / "rows.jsonl"
    first = sweep("matmul", grid([1], [1]), options=QUICK, results=path)
    assert first.reused == 0
    same = sweep("matmul", grid([1], [1]), options=QUICK, results=path)
    assert (same.reused, same.rows) == (1, first.rows)
    for changed in (
        sweep("matmul", grid([1], [1]), options=QUICK.replace(repeats=3), results=path),
        sweep(parse_workload("matmul", n=64), grid([1], [1]), options=QUICK, results=path),
        sweep("matmul", grid([1], [1]), options=QUICK.replace(env={"X": "1"}), results=path),
    ):
        assert changed.reused == 0
        assert changed.rows[0] != first.rows[0]


@pytest.mark.slow
def test_a_file_resumed_under_another_mask_reports_each_mask_apart(tmp_path):
    """``taskset -c 0 tfthreads sweep ... --output F``, then the same without it."""
    from tfthreads.report import load_report

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to change the mask")
    path = tmp_path / "rows.jsonl"
    sweep("matmul", grid([1, 2], [1]), options=QUICK.replace(cpus=[0]), results=path)
    again = sweep("matmul", grid([1, 2], [1]), options=QUICK, results=path)
    assert again.reused == 0
    report = load_report([path])
    assert [len(rows) for rows in report.groups().values()] == [2, 2]
    assert all(row.rounds == 1 for row in report.rows)  # no round mixes the two masks
    assert "measured under: affinity mask [0]" in report.table()


def test_hand_edited_rows_are_ignored_not_a_traceback(tmp_path):
    path = tmp_path / "rows.jsonl"
    sweep("matmul", grid([1], [1]), options=QUICK, results=path)
    with path.open("a") as out:
        out.write(json.dumps({"status": "ok", "key": "nonsense"}) + "\n")
        out.write('{"workload": "matmul", "intra_op": 1, "inter')  # and a torn last line
    again = sweep("matmul", grid([1], [1]), options=QUICK, results=path)
    assert again.reused == 1
    assert path.read_text().endswith("\n")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workload", "words"),
    [
        ("mymod:missing", "AttributeError"),
        ("mymod:not_callable", "must return a step callable"),
        ("mymod:boom", "broken on purpose"),
    ],
)
def test_user_code_that_cannot_run_is_a_usage_error_before_the_grid(user_module, workload, words):
    result = run_cli("sweep", workload, "--intra-op", "1,2", "--repeats", "2", cwd=user_module)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert words in result.stderr
    assert "\x1b[" not in result.stderr
    assert result.stdout == ""  # no grid was measured


@pytest.mark.slow
def test_a_failed_measurement_exits_1_and_blames_only_its_workload(user_module):
    result = run_cli(
        "sweep", "matmul", "mymod:crash_at_two", "--intra-op", "1,2", "--repeats", "2",
        "--warmup", "0", "--json", cwd=user_module,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "1 of 4 measurements failed" in result.stderr
    rows = json.loads(result.stdout)
    status = {(row["workload"], row["intra_op"]): row["status"] for row in rows}
    assert status == {
        ("matmul", 1): "ok",
        ("mymod:crash_at_two", 1): "ok",
        ("matmul", 2): "ok",  # measured on its own once the shared child crashed
        ("mymod:crash_at_two", 2): "failed",
    }


@pytest.mark.slow
def test_tune_with_a_wrong_input_shape_is_a_usage_error_said_once(tmp_path):
    model = tmp_path / "tiny.keras"
    made = run_snippet(
        f"""
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
        model.save({str(model)!r})
        """
    )
    assert made.returncode == 0, made.stderr
    result = run_cli("tune", str(model), "--input-shape", "1,5", "--budget", "4", cwd=tmp_path)
    assert result.returncode == 2, result.stderr  # the wrong input shape is found up front
    assert result.stderr.count("tune") == 1
    assert "tiny.keras" in result.stderr


def test_failure_messages_are_whole_readable_and_plain_in_the_table():
    message = "\x1b[31mInvalidArgumentError:\x1b[0m " + " ".join(["tensor"] * 60) + " END"
    failure = Failure(parse_workload("matmul"), ThreadSettings(intra_op=1), 1, "error", message)
    table = SweepResult(rows=[failure]).table()
    assert "\x1b[" not in table
    assert "END" in table  # nothing cut off
    assert max(len(line) for line in table.splitlines()) <= 100
    assert failure.as_dict()["error"] == message  # JSON keeps it verbatim
    assert not isinstance(failure, Measurement)


def test_input_shape_with_an_empty_part_exits_2(tmp_path):
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    result = run_cli("sweep", str(tmp_path / "m.keras"), "--input-shape", "1,,32", timeout=60)
    assert result.returncode == 2
    assert "'1,,32'" in result.stderr


def test_two_sweeps_cannot_write_one_file_at_once(tmp_path):
    from tfthreads.results_file import ResultsFile

    path = tmp_path / "rows.jsonl"
    with ResultsFile.open(path):
        result = run_cli("sweep", "matmul", "--output", str(path), timeout=60)
    assert result.returncode == 2
    assert "being written by another tfthreads run" in result.stderr


@pytest.mark.slow
def test_a_full_disk_under_output_prints_every_row_measured(tmp_path):
    """The size limit stands in for a full disk: the second row cannot be written."""
    import resource
    import signal
    import subprocess
    import sys

    path = tmp_path / "full.jsonl"

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (4500, 4500))  # the header and one row

    command = ["sweep", "matmul", "--intra-op", "1,2", "--repeats", "2", "--output", str(path)]
    done = subprocess.run(
        [sys.executable, "-m", "tfthreads", *command],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_disk,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot write {path}: File too large" in done.stderr.splitlines()[-1]
    table = [line.split() for line in done.stdout.splitlines() if line.startswith("  matmul")]
    assert [(row[1], row[-1]) for row in table] == [("1", "ok"), ("2", "ok")]
    saved = [json.loads(line) for line in path.read_text().splitlines()]
    assert [row["intra_op"] for row in saved[1:]] == [1]  # every earlier row, each whole
