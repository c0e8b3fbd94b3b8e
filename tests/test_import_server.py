"""Children forked from one import: processes of their own, announced, killed and cleaned up."""

from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from helpers import survivors

from tfthreads.process import (
    WorkerError,
    WorkerResult,
    child_environment,
    importing_once,
    run_function,
    run_workers,
)

#: A module every child can import in a moment: most tests need no TensorFlow.
LIGHT = ("json",)


def _snippet(code: str) -> dict[str, str]:
    return {"code": code}


def _result(outcome: WorkerResult | WorkerError) -> object:
    assert isinstance(outcome, WorkerResult), outcome
    return outcome.result["data"]


def test_each_child_is_a_process_of_its_own_forked_from_one_server():
    code = "import os\nresult = [os.getpid(), os.getppid()]"
    with importing_once(LIGHT) as server:
        first = run_workers("snippet", [_snippet(code)] * 2, share_import=LIGHT)
        second = run_workers("snippet", [_snippet(code)], share_import=LIGHT)
    pids = [_result(outcome) for outcome in first + second]
    assert len({pid for pid, _ in pids}) == 3
    assert len({parent for _, parent in pids}) == 1  # the server, for both calls
    assert pids[0][1] != os.getpid()
    assert server.jobs == 2


def test_a_server_that_imported_more_serves_calls_that_share_less():
    code = "import os, sys\nresult = [os.getppid(), 'csv' in sys.modules]"
    with importing_once(("json", "csv")) as server:
        served = run_workers("snippet", [_snippet(code)], share_import=LIGHT)
        apart = run_workers("snippet", [_snippet(code)], share_import=("json", "xml"))
    parent, imported = _result(served[0])  # type: ignore[misc]
    assert imported, "the copy lacks the server's extra import"
    assert parent != os.getpid()
    assert _result(apart[0])[0] == os.getpid()  # type: ignore[index]
    assert server.jobs == 1


def test_run_function_forks_from_an_open_tensorflow_import():
    with importing_once(("tensorflow",)) as server:
        parent = run_function(os.getppid)
    assert parent != os.getpid()
    assert server.jobs == 1
    assert run_function(os.getppid) == os.getpid()  # no block: a process of its own


def test_pool_observations_from_two_threads_fork_from_one_import_in_turn():
    from concurrent.futures import ThreadPoolExecutor

    from tfthreads.probe import observe_pools
    from tfthreads.settings import ThreadSettings

    sizes = [ThreadSettings(intra_op=1, inter_op=1), ThreadSettings(intra_op=3, inter_op=2)]
    with importing_once(("tensorflow",)) as server, ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(contextvars.copy_context().run, observe_pools, s) for s in sizes]
        seen = [call.result() for call in calls]
    assert [(o.observed_intra_op, o.observed_inter_op) for o in seen] == [(1, 1), (3, 2)]
    assert server.jobs == 2


def test_children_of_another_environment_start_their_own_processes():
    code = "import os\nresult = os.getppid()"
    with importing_once(LIGHT) as server:
        other = run_workers(
            "snippet", [_snippet(code)], env={"TFTHREADS_X": "1"}, share_import=LIGHT
        )
    assert server.jobs == 0
    assert isinstance(other[0], WorkerResult)


def test_children_of_several_environments_fork_from_the_server_of_their_own():
    code = "import os\nresult = [os.getppid(), os.environ.get('TFTHREADS_X')]"
    environments = [{"TFTHREADS_X": "a"}, {"TFTHREADS_X": "b"}, {"TFTHREADS_X": "a"}]
    with importing_once(LIGHT, env={"TFTHREADS_X": "a"}) as a:
        with importing_once(LIGHT, env={"TFTHREADS_X": "b"}) as b:
            seen = run_workers(
                "snippet", [_snippet(code)] * 3, environments=environments, share_import=LIGHT
            )
        # Without a server for every environment, every child starts a process of its own.
        alone = run_workers(
            "snippet", [_snippet(code)] * 2, environments=environments[:2], share_import=LIGHT
        )
    parents, values = zip(*map(_result, seen), strict=True)
    assert values == ("a", "b", "a")  # each child in its own environment, in order
    assert parents[0] == parents[2] != parents[1]  # forked by the server of that environment
    assert (a.jobs, b.jobs) == (1, 1)  # one job each, for all of its children
    assert [value for _, value in map(_result, alone)] == ["a", "b"]
    assert os.getpid() in {parent for parent, _ in map(_result, alone)}


def test_each_copy_starts_a_tensorflow_runtime_with_its_own_settings():
    sizes = [{"intra_op": 1, "inter_op": 1}, {"intra_op": 2, "inter_op": 3}]
    outcomes = run_workers("observe_pools", sizes, share_import=("tensorflow",), timeout=120)
    configured = [outcome.result["configured"] for outcome in outcomes]  # type: ignore[union-attr]
    assert configured == sizes


def test_a_copy_killed_by_a_signal_is_announced_while_the_others_run(tmp_path: Path):
    told = tmp_path / "told"
    killed = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    waits = (
        "import time, pathlib\n"
        f"while not pathlib.Path({str(told)!r}).exists(): time.sleep(0.01)\n"
        "result = 'went on'"
    )
    start = time.monotonic()
    outcomes = run_workers(
        "snippet",
        [_snippet(killed), _snippet(waits)],
        share_import=LIGHT,
        on_failure=told.touch,
        timeout=60,
    )
    assert time.monotonic() - start < 30
    assert isinstance(outcomes[0], WorkerError)
    assert outcomes[0].reason == "signal"
    assert "SIGKILL" in str(outcomes[0])
    assert _result(outcomes[1]) == "went on"


def test_an_exit_code_reads_as_from_a_fresh_worker():
    outcomes = run_workers(
        "call",
        [{"module": "os", "qualname": "_exit", "arguments": {"status": 7}}] * 2,
        share_import=LIGHT,
    )
    for outcome in outcomes:
        assert isinstance(outcome, WorkerError)
        assert (outcome.reason, outcome.returncode) == ("exit", 7)


def test_a_copy_past_the_deadline_is_killed_and_the_server_goes_on():
    with importing_once(LIGHT) as server:
        start = time.monotonic()
        stuck = run_workers(
            "snippet",
            [_snippet("import time\ntime.sleep(60)"), _snippet("result = 1")],
            share_import=LIGHT,
            timeout=2,
        )
        took = time.monotonic() - start
        after = run_workers("snippet", [_snippet("result = 2")], share_import=LIGHT)
    assert took < 15
    assert isinstance(stuck[0], WorkerError)
    assert stuck[0].reason == "timeout"
    assert _result(stuck[1]) == 1
    assert _result(after[0]) == 2
    assert server.jobs == 2


def test_a_server_that_cannot_import_gives_every_child_its_error():
    outcomes = run_workers(
        "snippet", [_snippet("result = 1")] * 2, share_import=("no_such_module_here",)
    )
    for outcome in outcomes:
        assert isinstance(outcome, WorkerError)
        assert "ModuleNotFoundError" in str(outcome)


@pytest.mark.parametrize("ends", ["returns", "times out"])
def test_what_a_copy_starts_ends_with_it(ends: str):
    marker = f"4322.{os.getpid()}{len(ends)}"
    code = f"import subprocess, time\nsubprocess.Popen(['sleep', '{marker}'])\n"
    code += "result = 1\n" if ends == "returns" else "time.sleep(60)\n"
    with importing_once(LIGHT):
        run_workers("snippet", [_snippet(code)] * 2, share_import=LIGHT, timeout=5)
        assert survivors(marker) == []


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_the_server_and_its_copies_do_not_outlive_their_parent(how: signal.Signals):
    code = (
        "from tfthreads.process import importing_once, run_workers\n"
        "with importing_once(['json']):\n"
        "    run_workers('snippet', [{'code': 'import time; time.sleep(120)'}] * 2,"
        " share_import=['json'], timeout=300)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], env=child_environment())
    descendants: list[psutil.Process] = []
    deadline = time.monotonic() + 30
    while len(descendants) < 3 and time.monotonic() < deadline:  # the server, two copies
        descendants = psutil.Process(parent.pid).children(recursive=True)
        time.sleep(0.05)
    time.sleep(0.5)  # let the copies arm their parent checks
    parent.send_signal(how)
    parent.wait(timeout=30)
    _, alive = psutil.wait_procs(descendants, timeout=10)
    for orphan in alive:
        orphan.kill()
    assert len(descendants) == 3
    assert not alive, f"{[p.pid for p in alive]} still running after the parent got {how!r}"


def test_a_block_within_a_block_uses_the_outer_server():
    code = "import os\nresult = os.getppid()"
    with importing_once(LIGHT) as outer, importing_once(LIGHT) as inner:
        parents = [_result(o) for o in run_workers("snippet", [_snippet(code)], share_import=LIGHT)]
    assert inner is outer
    assert outer.jobs == 1
    assert parents[0] != os.getpid()
