"""The worker protocol and pool observation in fresh TensorFlow processes."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import psutil
import pytest
from helpers import survivors

import tfthreads
from tfthreads._text import filter_startup_noise
from tfthreads.errors import SettingError
from tfthreads.options import MeasureOptions
from tfthreads.probe import observe_pools
from tfthreads.process import (
    ChildOptions,
    WorkerError,
    child_environment,
    run_forked_together,
    run_function,
    run_snippet,
    run_worker,
)
from tfthreads.settings import ThreadSettings, resolve_pools

AFFINITY = sorted(os.sched_getaffinity(0))


def test_filter_keeps_real_warnings():
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1.0 1 cudart_stub.cc:31] Could not find cuda drivers on your machine\n"
        "E0000 00:00:1.0 1 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n"
        "W0000 00:00:1.0 1 op_kernel.cc:1] something real\n"
        "UserWarning: from Python\n"
    )
    assert filter_startup_noise(text) == (
        "W0000 00:00:1.0 1 op_kernel.cc:1] something real\nUserWarning: from Python\n"
    )


def test_child_environment_sets_and_removes():
    environ = child_environment({"TFTHREADS_TEST": "1", "PATH": None})
    assert environ["TFTHREADS_TEST"] == "1"
    assert "PATH" not in environ
    # The child imports this same copy of tfthreads, installed or not.
    assert environ["PYTHONPATH"].split(os.pathsep)[0] == str(Path(tfthreads.__file__).parent.parent)


def test_inventory_task_with_affinity():
    result = run_worker("inventory", {}, cpus=[AFFINITY[0]]).result
    assert result["affinity"] == [AFFINITY[0]]
    assert result["inventory"]["count"] >= 1


def test_unknown_task_is_reported_as_error():
    with pytest.raises(WorkerError, match="task: got 'nope'") as caught:
        run_worker("nope", {})
    assert caught.value.reason == "error"


def test_worker_refuses_other_protocol_versions():
    completed = subprocess.run(
        [sys.executable, "-m", "tfthreads.process.worker"],
        input=json.dumps({"protocol": 99, "task": "inventory"}),
        capture_output=True,
        text=True,
        env=child_environment(),
        check=False,
    )
    response = json.loads(completed.stdout)
    assert completed.returncode == 1
    assert response["ok"] is False
    assert "protocol: got 99" in response["error"]["message"]


def test_worker_rejects_garbage_input():
    completed = subprocess.run(
        [sys.executable, "-m", "tfthreads.process.worker"],
        input="not json",
        capture_output=True,
        text=True,
        env=child_environment(),
        check=False,
    )
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["error"]["type"] == "JSONDecodeError"


@pytest.mark.slow
def test_timeout_kills_the_child():
    # Importing TensorFlow takes seconds, far more than this limit.
    with pytest.raises(WorkerError, match=r"timed out after 0\.3 s") as caught:
        run_worker("observe_pools", {}, timeout=0.3)
    assert caught.value.reason == "timeout"


@pytest.mark.slow
def test_defaults_follow_the_affinity_mask():
    seen = observe_pools()
    assert seen.tensorflow_version.startswith("2.")
    assert (seen.configured_intra_op, seen.configured_inter_op) == (0, 0)
    assert seen.observed_inter_op == len(AFFINITY)
    assert seen.observed_intra_op == len(AFFINITY)
    assert seen.new_threads.get("tf_Compute") == len(AFFINITY)
    assert "cuInit" not in seen.stderr  # start-up noise is filtered


@pytest.mark.slow
@pytest.mark.parametrize(
    ("settings", "env"),
    [
        (ThreadSettings(intra_op=1, inter_op=3), {}),
        (ThreadSettings(), {"TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "1"}),
        (ThreadSettings(intra_op=2), {"TF_NUM_INTRAOP_THREADS": "1"}),  # config beats env
    ],
)
def test_observed_pools_match_precedence(settings, env):
    seen = observe_pools(settings, env=env)
    expected = resolve_pools(settings, affinity_cpus=len(AFFINITY), environ=env)
    assert (seen.observed_intra_op, seen.observed_inter_op) == (
        expected.intra_op,
        expected.inter_op,
    )


@pytest.mark.slow
def test_narrow_affinity_shrinks_default_pools():
    seen = observe_pools(cpus=[AFFINITY[-1]])
    assert seen.affinity == (AFFINITY[-1],)
    assert (seen.observed_intra_op, seen.observed_inter_op) == (1, 1)


@pytest.mark.slow
def test_negative_intra_env_aborts_and_says_why():
    with pytest.raises(WorkerError, match="Check failed: num_threads >= 1") as caught:
        observe_pools(env={"TF_NUM_INTRAOP_THREADS": "-1"})
    assert caught.value.reason == "signal"


def test_run_snippet_captures_output_and_exit_code():
    result = run_snippet("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")
    assert (result.stdout, result.stderr, result.returncode) == ("out\n", "err\n", 3)


def test_run_snippet_timeout():
    with pytest.raises(WorkerError, match="timed out") as caught:
        run_snippet("import time; time.sleep(30)", timeout=0.5)
    assert caught.value.reason == "timeout"


@pytest.mark.slow
def test_run_snippet_reports_tensorflow_abort():
    result = run_snippet(
        "import tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(-1)\n"
        "tf.constant(1.0)\n"
    )
    assert result.returncode == -6  # SIGABRT from TensorFlow's CHECK
    assert "Check failed: num_threads >= 1" in result.last_error_line


def test_run_snippet_hands_back_its_result_and_uncaught_errors():
    assert run_snippet("result = {'n': [1, 2]}").data == {"n": [1, 2]}
    assert run_snippet("result = object()").data is None  # not JSON: not handed back
    failed = run_snippet("print('before'); raise KeyError('boom')")
    assert (failed.stdout, failed.returncode) == ("before\n", 1)
    assert "KeyError: 'boom'" in failed.last_error_line


def test_run_snippet_honours_cpus():
    assert run_snippet(
        "import os; result = sorted(os.sched_getaffinity(0))", cpus=[AFFINITY[-1]]
    ).data == [AFFINITY[-1]]


def test_how_a_child_runs_is_one_value_or_its_keywords():
    # One value, as MeasureOptions makes it, or the keywords (any iterable of CPUs).
    child = MeasureOptions(env={"TFTHREADS_TEST": "1"}, cpus=[AFFINITY[-1]]).child
    code = "import os; result = [os.environ['TFTHREADS_TEST'], sorted(os.sched_getaffinity(0))]"
    assert run_snippet(code, child=child).data == ["1", [AFFINITY[-1]]]
    by_keywords = run_snippet(code, env={"TFTHREADS_TEST": "1"}, cpus=iter([AFFINITY[-1]]))
    assert by_keywords.data == ["1", [AFFINITY[-1]]]
    with pytest.raises(TypeError, match="timeout: given with child"):
        run_snippet("pass", child=child, timeout=5)
    with pytest.raises(TypeError, match=r"child: got \{\} \(dict\)"):
        run_snippet("pass", child={})


@pytest.mark.parametrize(
    ("keywords", "error", "words"),
    [
        ({"timeout": 0}, SettingError, "timeout: got 0; expected seconds above 0"),
        ({"cpus": []}, SettingError, "cpus: got none"),
        ({"cpus": "0"}, TypeError, "cpus: got '0' (str)"),
        ({"env": {"A": 1}}, TypeError, "env: got"),
        ({"cgroup": 3}, TypeError, "cgroup: got 3 (int)"),
    ],
)
def test_how_a_child_runs_is_checked_before_it_starts(keywords, error, words):
    # The rule of every tfthreads argument, whether the value is made or built from keywords.
    with pytest.raises(error, match=re.escape(words)):
        ChildOptions(**keywords)
    with pytest.raises(error, match=re.escape(words)):
        run_function(os.getpid, **keywords)


def test_run_function_imports_the_module_from_its_folder(tmp_path, monkeypatch):
    (tmp_path / "child_tasks.py").write_text(
        "import os\n"
        "def affinity(label):\n"
        "    return {'label': label, 'cpus': sorted(os.sched_getaffinity(0)), 'pid': os.getpid()}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import child_tasks

    seen = run_function(child_tasks.affinity, {"label": "x"}, cpus=[AFFINITY[0]])
    assert (seen["label"], seen["cpus"]) == ("x", [AFFINITY[0]])
    assert seen["pid"] != os.getpid()


def test_run_function_refuses_what_a_child_cannot_import():
    def local():
        return 1

    with pytest.raises(ValueError, match="module-level function"):
        run_function(local)


def test_run_function_reports_the_exception_by_name():
    with pytest.raises(WorkerError, match="JSONDecodeError") as caught:
        run_function(json.loads, {"s": "not json"})
    assert caught.value.reason == "error"


def test_children_keep_the_standard_library_ahead_of_site_packages():
    path = run_snippet("import sys; result = sys.path").data
    stdlib = sysconfig.get_path("stdlib")
    packages = [i for i, folder in enumerate(path) if folder.endswith("-packages")]
    assert packages, path
    assert path.index(stdlib) < min(packages)


def test_an_installed_copy_is_not_put_on_pythonpath(monkeypatch):
    parent = str(Path(tfthreads.__file__).resolve().parent.parent)
    monkeypatch.setattr(sysconfig, "get_path", lambda name: parent)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert "PYTHONPATH" not in child_environment()


def _parent_with_a_sleeping_worker():
    """Start a process that runs a worker which sleeps; return both as psutil processes."""
    code = (
        "from tfthreads.process import run_snippet\n"
        "run_snippet('import time; time.sleep(120)', timeout=300)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], env=child_environment())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = psutil.Process(parent.pid).children()
        if workers:
            time.sleep(0.5)  # let the worker read its request and arm its parent checks
            return parent, workers[0]
        time.sleep(0.05)
    parent.kill()
    pytest.fail("the worker did not start")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_workers_do_not_outlive_their_parent(how):
    parent, worker = _parent_with_a_sleeping_worker()
    parent.send_signal(how)
    parent.wait(timeout=30)
    _, alive = psutil.wait_procs([worker], timeout=10)
    for orphan in alive:
        orphan.kill()
    assert not alive, f"worker {worker.pid} still running after its parent got {how!r}"


def _script_functions(tmp_path, body):
    """Run ``body`` as ``__main__`` (like ``python script.py``) and return its globals."""
    import runpy

    script = tmp_path / "example_script.py"
    script.write_text(body)
    return runpy.run_path(str(script), run_name="__main__")


def test_run_function_sends_a_function_of_main_as_source(tmp_path):
    namespace = _script_functions(
        tmp_path,
        "SCRIPT_GLOBAL = 1\n"
        "\n"
        "def task(label: str) -> dict:\n"
        "    import os\n"
        "    return {'label': label, 'pid': os.getpid(), 'cpus': sorted(os.sched_getaffinity(0))}\n"
        "\n"
        "def uses_a_global() -> int:\n"
        "    return SCRIPT_GLOBAL\n"
        "\n"
        "def fails() -> None:\n"
        "    raise KeyError('from the child')\n",
    )
    seen = run_function(namespace["task"], {"label": "x"}, cpus=[AFFINITY[0]])
    assert (seen["label"], seen["cpus"]) == ("x", [AFFINITY[0]])
    assert seen["pid"] != os.getpid()
    # Only the function travels: a global of the script is not there in the child.
    with pytest.raises(WorkerError, match=r"NameError.*SCRIPT_GLOBAL"):
        run_function(namespace["uses_a_global"])
    with pytest.raises(WorkerError, match="KeyError"):
        run_function(namespace["fails"])


def test_run_function_refuses_a_main_function_it_cannot_send(tmp_path):
    namespace = _script_functions(
        tmp_path,
        "def outer():\n"
        "    value = 1\n"
        "    def inner():\n"
        "        return value\n"
        "    return inner\n"
        "square = lambda x: x * x\n",
    )
    with pytest.raises(ValueError, match="module-level function"):
        run_function(namespace["outer"]())
    with pytest.raises(ValueError, match="not a plain top-level function"):
        run_function(namespace["square"], {"x": 2})


def _timed_sleep(seconds: float) -> list[float]:
    start = time.monotonic()
    time.sleep(seconds)
    return [start, time.monotonic()]


def test_run_forked_together_overlaps_the_copies():
    first, second = run_forked_together(
        [functools.partial(_timed_sleep, 0.5), functools.partial(_timed_sleep, 0.5)], timeout=30
    )
    assert first["exit"] == second["exit"] == 0
    (start_a, end_a), (start_b, end_b) = first["value"], second["value"]
    # One after the other, the copies would not overlap.
    assert start_b < end_a
    assert start_a < end_b


def test_run_forked_together_kills_a_copy_past_the_deadline_and_keeps_the_others():
    stuck, done, failed = run_forked_together(
        [functools.partial(time.sleep, 60), lambda: 42, lambda: 1 / 0], timeout=2
    )
    assert stuck["exit"] is None
    assert stuck["value"] is None
    assert (done["exit"], done["value"]) == (0, 42)
    assert failed["error"] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize("ends", ["returns", "raises"])
def test_processes_a_child_started_do_not_outlive_it(ends: str) -> None:
    """A user's code may start processes; they end with the worker, not after it."""
    marker = f"4321.{os.getpid()}{len(ends)}"
    code = f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\n"
    code += "result = 1\n" if ends == "returns" else "raise SystemExit(3)\n"
    outcome = run_snippet(code, timeout=30)
    assert outcome.returncode == (0 if ends == "returns" else 3)
    assert survivors(marker) == []
