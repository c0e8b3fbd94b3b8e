"""The tfthreads command line, run as a user would: in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import psutil
import pytest

from tfthreads.doctor import REPORT_KEYS
from tfthreads.process import run_snippet

AFFINITY = sorted(os.sched_getaffinity(0))


def run_cli(*args, env=None, cpus=None):
    code = f"import sys; from tfthreads.cli import main; sys.exit(main({list(args)!r}))"
    return run_snippet(code, env=env, cpus=cpus)


BAD_ARGUMENTS = [
    (["doctor", "--intra-op", "four"], ["--intra-op", "'four'", "whole number"]),
    (["doctor", "--intra-op", "-1"], ["--intra-op", "-1", "from 0 to 4096"]),
    (["doctor", "--intra-op", "2.5"], ["--intra-op", "'2.5'"]),
    (["doctor", "--intra-op", "99999"], ["--intra-op", "99999", "4096"]),
    (["doctor", "--inter-op", "-2"], ["--inter-op", "-2", "from -1"]),
    (["doctor", "--inter-op", ""], ["--inter-op", "''"]),
    (["doctor", "--intra-op"], ["--intra-op", "expected one argument"]),
    (["doctor", "--timeout", "0"], ["--timeout", "'0'", "seconds above 0 and at most 86400"]),
    (["doctor", "--timeout", "nan"], ["--timeout", "'nan'"]),
    (["doctor", "--timeout", "soon"], ["--timeout", "'soon'"]),
    (["doctor", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["recommend", "--goal", "fast"], ["--goal", "invalid choice: 'fast'"]),
    (["recommend", "--processes", "0"], ["--processes", "'0'", "from 1 to 256"]),
    (["sweep"], ["WORKLOAD"]),
    (["sweep", "matmull"], ["workload 'matmull'", "not a built-in"]),
    (["sweep", "matmul", "--intra-op", "1,,2"], ["--intra-op", "'1,,2'"]),
    (["sweep", "matmul", "--inter-op", "0"], ["--inter-op", "'0'"]),
    (["sweep", "matmul", "--repeats", "0"], ["--repeats", "'0'", "from 1 to 100000"]),
    (["sweep", "matmul", "--processes", "257"], ["--processes", "'257'", "from 1 to 256"]),
    (["tune", "matmul", "--warmup", "1.5"], ["--warmup", "'1.5'", "from 0 to 100000"]),
    (["sweep", "missing.keras", "--input-shape", "1,2"], ["no such Keras model"]),
    (["tune", "matmul", "--input-shape", "-1,64"], ["unknown parameter 'input_shape'"]),
    (["sweep", "nosuchmodule_xyz:build"], ["cannot find module 'nosuchmodule_xyz'"]),
    (["sweep", "matmul", "--output", "/proc/nope/out.jsonl"], ["--output", "cannot write"]),
    (["tune", "matmul", "--budget", "1"], ["--budget", "'1'"]),
    (["tune", "matmul", "--output", "/"], ["--output", "is a folder"]),
    (["fix-everything"], ["invalid choice: 'fix-everything'"]),
    ([], ["usage"]),
]


@pytest.mark.parametrize(("argv", "words"), BAD_ARGUMENTS)
def test_usage_errors_exit_2_with_one_line(argv, words):
    result = run_cli(*argv)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    if argv:  # with no command the help text is printed, which is more than one line
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize("error", ["KeyError", "TypeError", "ValueError"])
def test_a_library_bug_shows_its_traceback_and_exits_1(error):
    # A plain exception from tfthreads' own code is a bug, not the user's mistake.
    code = (
        "import sys, tfthreads.recommend as r\n"
        "def broken(*args, **kwargs):\n"
        f"    raise {error}('a bug in tfthreads')\n"
        "r.recommend = broken\n"
        "from tfthreads.cli import main\n"
        "sys.exit(main(['recommend']))\n"
    )
    result = run_snippet(code)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert f"{error}: " in result.stderr
    assert "a bug in tfthreads" in result.stderr


def test_a_setting_error_from_the_library_exits_2():
    code = (
        "import sys, tfthreads.recommend as r\n"
        "from tfthreads.errors import SettingError\n"
        "def refuses(*args, **kwargs):\n"
        "    raise SettingError('processes: got 9; expected fewer')\n"
        "r.recommend = refuses\n"
        "from tfthreads.cli import main\n"
        "sys.exit(main(['recommend']))\n"
    )
    result = run_snippet(code)
    assert result.returncode == 2
    assert result.stderr == "tfthreads recommend: error: processes: got 9; expected fewer\n"


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("tfthreads ")


def test_missing_tensorflow_exits_1_without_traceback(tmp_path):
    # Like `python -S`: site-packages leave the path before anything imports TensorFlow,
    # so it cannot be found; psutil and tfthreads are put back by hand. Nothing about
    # TensorFlow is faked.
    (tmp_path / "psutil").symlink_to(Path(psutil.__file__).parent)
    src = Path(__file__).resolve().parents[1] / "src"
    completed = run_snippet(
        f"""
        import sys
        assert "tensorflow" not in sys.modules
        sys.path[:] = [p for p in sys.path if "-packages" not in p]
        sys.path[:0] = [{str(src)!r}, {str(tmp_path)!r}]
        from tfthreads.cli import main
        sys.exit(main(["doctor", "--no-probe"]))
        """
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "TensorFlow is not installed" in completed.stderr


@pytest.mark.slow
def test_doctor_json_has_the_documented_keys():
    result = run_snippet(
        "import sys; from tfthreads.cli import main; sys.exit(main(['doctor', '--json']))",
        env={"TF_NUM_INTRAOP_THREADS": "", "TF_NUM_INTEROP_THREADS": ""},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(REPORT_KEYS) <= set(report)
    assert report["logical_cpus"] == psutil.cpu_count()
    assert report["affinity"] == AFFINITY
    assert report["resolved_intra_op_threads"] == len(AFFINITY)
    assert report["observed_threads"]["intra_op"] == len(AFFINITY)
    assert report["observed_threads"]["inter_op"] == len(AFFINITY)
    assert isinstance(report["warnings"], list)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset")
def test_doctor_under_taskset_and_env_matches_tensorflow():
    result = run_snippet(
        "import sys; from tfthreads.cli import main; sys.exit(main(['doctor', '--json']))",
        env={"TF_NUM_INTRAOP_THREADS": "1", "OMP_NUM_THREADS": "4"},
        cpus=[AFFINITY[0]],
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["affinity"] == [AFFINITY[0]]
    assert report["resolved_sources"] == {"intra_op": "environment", "inter_op": "default"}
    assert (report["resolved_intra_op_threads"], report["resolved_inter_op_threads"]) == (1, 1)
    assert (report["observed_threads"]["intra_op"], report["observed_threads"]["inter_op"]) == (
        1,
        1,
    )
    assert any("OMP_NUM_THREADS" in warning for warning in report["warnings"])
    env_rows = {row["name"]: row for row in report["environment"]}
    assert env_rows["TF_NUM_INTRAOP_THREADS"]["value"] == "1"


@pytest.mark.slow
def test_doctor_text_report():
    result = run_snippet(
        "import sys; from tfthreads.cli import main; sys.exit(main(['doctor', '--intra-op', '1']))"
    )
    assert result.returncode == 0, result.stderr
    assert "Thread pools" in result.stdout
    assert "intra-op" in result.stdout
    assert "TensorFlow 2." in result.stdout
    # The count in brackets is that of the threads listed, not of the whole process.
    line = next(x for x in result.stdout.splitlines() if "threads started by the runtime" in x)
    listed = sum(
        int(part.rsplit(" x", 1)[1]) for part in line.split(": ", 1)[1].split(" (")[0].split(", ")
    )
    assert f"({listed} threads; the process had " in line


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("tfthreads")
    assert script.exists(), "pip install should create the tfthreads console script"


def test_recommend_json():
    result = run_cli("recommend", "--goal", "latency", "--json")
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    for key in ("intra_op_parallelism_threads", "inter_op_parallelism_threads", "cpu_budget"):
        assert key in advice
    assert advice["reasons"]
    assert advice["intra_op_parallelism_threads"] <= advice["cpu_budget"]
    assert advice["confidence"] in ("high", "medium", "low")
    assert (advice["measure_instead"] is None) == (advice["confidence"] == "high")


def run_recommend(topology: str, *args: str):
    """Run ``tfthreads recommend`` as if on ``topology`` (a Topology expression)."""
    code = (
        "import sys, tfthreads.recommend as r\n"
        "from tfthreads.topology import CgroupQuota, Topology\n"
        f"r.read_topology = lambda: {topology}\n"
        "from tfthreads.cli import main\n"
        f"sys.exit(main({['recommend', *args]!r}))\n"
    )
    return run_snippet(code)


SIXTEEN = "Topology(16, tuple(range(16)), 16, 1, 1, False, None, None)"
QUOTA_OF_ONE = (
    "Topology(2, (0, 1), 2, 1, 1, False, CgroupQuota(2, '/sys/fs/cgroup', 100000, 100000), None)"
)


def test_recommend_text_four_processes_keep_defaults():
    result = run_recommend(SIXTEEN, "--goal", "throughput", "--processes", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Recommended for throughput, 4 processes: TensorFlow's defaults")
    assert "(here intra_op=16, inter_op=16) each" in lines[0]
    assert lines[2].startswith("Confidence: medium: ")
    assert lines[3].startswith(
        "Measure instead: tfthreads tune MODEL --goal throughput --processes 4"
    )
    assert "0.90 [0.77, 1.06]" in result.stdout
    assert "results-many-core" in result.stdout


def test_recommend_json_quota_is_high_confidence():
    result = run_recommend(QUOTA_OF_ONE, "--json")
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    assert advice["intra_op_parallelism_threads"] == 1
    assert advice["inter_op_parallelism_threads"] == 2  # never 1: the inter-op deadlock
    assert advice["pool_threads"] == {"intra_op": 1, "inter_op": 2}
    assert advice["confidence"] == "high"
    assert advice["measure_instead"] is None
    assert advice["evidence"] == [
        "engine-benchmark",
        "gallery-containers",
        "explanation-inter-op-deadlock",
    ]


def test_recommend_json_latency_says_to_measure():
    result = run_recommend(SIXTEEN, "--goal", "latency", "--json")
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    assert advice["intra_op_parallelism_threads"] == 16
    assert advice["inter_op_parallelism_threads"] == 4
    assert advice["confidence"] == "low"
    assert advice["measure_instead"].startswith("tfthreads tune MODEL --goal latency")


@pytest.mark.parametrize("command", ["recommend", "sweep", "tune"])
def test_help_shows_an_example(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert f"tfthreads {command}" in result.stdout


@pytest.mark.slow
def test_sweep_writes_json_rows(tmp_path):
    out = tmp_path / "rows.jsonl"
    result = run_cli(
        "sweep",
        "matmul",
        "--intra-op",
        "1,2",
        "--repeats",
        "2",
        "--warmup",
        "0",
        "--output",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["intra_op"], r["status"]) for r in rows] == [(1, "ok"), (2, "ok")]
    assert len(out.read_text().splitlines()) == 3  # the header, then one line per setting


@pytest.mark.parametrize("command", ["sweep", "tune"])
def test_unreadable_model_file_exits_2(tmp_path, command):
    model = tmp_path / "broken.keras"
    model.write_text("this is not a model")
    result = run_cli(command, str(model), "--input-shape", "1,4")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"tfthreads {command}: error: workload {str(model)!r}: not a .keras file "
        "(those are zip archives)"
    )


@pytest.mark.slow
def test_doctor_keeps_its_report_when_the_probe_aborts():
    result = run_cli("doctor", env={"TF_NUM_INTRAOP_THREADS": "-3"})
    assert result.returncode == 1, result.stderr
    assert "Environment variables" in result.stdout  # the whole report is there
    assert "missing" in result.stdout
    assert "observed: failed:" in result.stdout
    assert "Check failed: num_threads >= 1" in result.stdout
    assert "starting TensorFlow in a fresh process" in result.stderr  # progress was shown
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_does_not_start_absurd_pools():
    result = run_cli("doctor", "--json", env={"TF_NUM_INTRAOP_THREADS": "99999"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["probe"]["status"] == "skipped"
    assert report["observed_threads"] is None
    assert any("probe skipped" in warning for warning in report["warnings"])
    assert any("(its CPU affinity mask)" in warning for warning in report["warnings"])


@pytest.mark.parametrize("command", ["doctor", "recommend", "sweep", "tune", "report"])
def test_every_help_shows_defaults_and_exit_codes(command: str) -> None:
    from tfthreads.cli import build_parser

    parser = build_parser()
    text = " ".join(parser._subparsers._group_actions[0].choices[command].format_help().split())
    assert "exit codes: 0 done;" in text
    assert "143 terminated (SIGTERM)" in text
    if command in ("sweep", "tune"):
        assert "--repeats N default: 20" in text


def test_a_repeated_value_in_a_list_is_listed_once() -> None:
    from tfthreads.cli import build_parser

    args = build_parser().parse_args(["sweep", "matmul", "--intra-op", "1,2,1,2"])
    assert args.intra_op == [1, 2]


def test_a_file_name_that_is_not_utf8_is_printed_escaped_not_a_traceback(tmp_path) -> None:
    import subprocess
    import sys

    name = os.fsencode(tmp_path) + b"/\xff.jsonl"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"tfthreads", b"report", name],
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert b"cannot be read: No such file" in done.stderr


def test_every_command_first_removes_folders_that_killed_runs_left(tmp_path, monkeypatch, capsys):
    """SIGKILL cleans up nothing: the next command, whatever it is, removes the folders."""
    import subprocess
    import tempfile

    from tfthreads.cli import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    killed = tmp_path / f"tfthreads-barrier-pid{done.pid}-abc"
    ours = tmp_path / f"tfthreads-barrier-pid{os.getpid()}-abc"
    for folder in (killed, ours):
        folder.mkdir()
    assert main(["recommend"]) == 0
    capsys.readouterr()
    assert not killed.exists()
    assert ours.exists()  # a running process's folder stays


def test_a_full_stdout_is_one_line_and_exit_1():
    """``tfthreads recommend > /dev/full``: no chained OSError traceback."""
    import subprocess

    with open("/dev/full", "w") as full:  # noqa: PTH123 - a device, not a path to build
        done = subprocess.run(
            [sys.executable, "-m", "tfthreads", "recommend"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "tfthreads recommend: failed: cannot write to standard output: No space left on device"
    ]
