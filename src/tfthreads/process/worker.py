"""The worker process: ``python -m tfthreads.process.worker`` reads one JSON request on stdin.

It applies the requested CPU affinity first, then imports TensorFlow, runs the task
(:mod:`tfthreads.process.tasks`) and writes one JSON response on stdout. Everything else
the task prints, from Python or from TensorFlow's C++ code, is sent to stderr, so stdout
carries nothing but the response. As an import server (``serve``) it forks a copy of
itself per payload instead.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfthreads.process.messages import PROTOCOL_VERSION
from tfthreads.process.tasks import TASKS
from tfthreads.quota import join_cgroup

__all__ = ["main"]


def _respond(stream: Any, response: dict[str, Any]) -> None:
    stream.write(json.dumps({"protocol": PROTOCOL_VERSION, **response}))
    stream.flush()


def _die_with_parent(parent: int | None) -> None:
    """Make sure this worker cannot outlive the process that started it.

    Workers run in their own session (so a timeout can kill their whole group), which
    also keeps Ctrl-C away from them. On Linux the kernel sends SIGKILL when the parent
    dies (``PR_SET_PDEATHSIG``); a watcher thread covers other systems and the moment
    before the call.
    """
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if parent is None:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=watch, name="tfthreads_parent_watch", daemon=True).start()


def _serve(serve: dict[str, Any]) -> dict[str, Any]:
    """Import what the jobs share once, then run each job's payloads in forked copies.

    TensorFlow's import takes seconds of CPU time and starts no pool, so each copy still
    starts a runtime of its own, with its own settings, as a fresh process would. Jobs
    come one JSON line at a time on stdin (``task``, ``dir``, ``payloads``) until it
    closes; see :func:`_run_copies` for what a job leaves in its folder.
    """
    for module in serve.get("preload", []):
        importlib.import_module(module)
    jobs = 0
    while line := sys.stdin.readline():
        job = json.loads(line)
        task = TASKS.get(job.get("task", ""))
        if task is None:
            raise ValueError(f"task: got {job.get('task')!r}; expected one of {sorted(TASKS)}")
        _run_copies(task, Path(job["dir"]), job["payloads"])
        jobs += 1
    return {"jobs": jobs}


def _run_copies(
    task: Callable[[dict[str, Any]], Any], folder: Path, payloads: list[dict[str, Any]]
) -> None:
    """Run each payload in a forked copy, all at once, and record how each copy ended.

    Copy N writes its response to ``out-N`` and its output to ``err-N``; this process
    writes its pid to ``pid-N`` when it starts, its exit status to ``status-N`` when it
    ends, ``failed`` as soon as one fails (for the parent to tell copies that wait for
    it), and ``done`` at the end. Each copy leads a process group of its own, killed when
    the copy ends, so that nothing a user's workload starts outlives it.
    """
    started: dict[int, int] = {}
    for index, payload in enumerate(payloads):
        sys.stdout.flush()
        sys.stderr.flush()
        with warnings.catch_warnings():
            # Python 3.12+ warns on every fork of a process with threads. The threads
            # here (TensorFlow's from its import, the parent watch) are not needed by a
            # copy, which starts a runtime and a watch of its own; the probes' forked
            # copies have shown that TensorFlow works this way.
            warnings.filterwarnings(
                "ignore", "This process .* is multi-threaded", DeprecationWarning
            )
            pid = os.fork()
        if pid == 0:
            _run_copy(task, payload, folder, index)
        with contextlib.suppress(OSError):  # the copy does the same; whoever comes first
            os.setpgid(pid, pid)
        _write(folder / f"pid-{index}", str(pid))
        started[pid] = index
    told = False
    while started:
        ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
        pid = ended.si_pid if ended is not None else 0
        if pid in started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if pid not in started:
            continue
        code = os.waitstatus_to_exitcode(status)
        _write(folder / f"status-{started.pop(pid)}", str(code))
        if code != 0 and not told:
            (folder / "failed").touch()
            told = True
    (folder / "done").touch()


def _write(path: Path, text: str) -> None:
    """Write a whole file at once, so that a reader never sees half of it."""
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.rename(path)


def _run_copy(
    task: Callable[[dict[str, Any]], Any], payload: dict[str, Any], folder: Path, index: int
) -> None:
    """Be one forked copy: run the task as :func:`main` would, then end (never returns)."""
    code = 1
    try:
        os.setpgid(0, 0)
        _die_with_parent(os.getppid())
        output = os.open(folder / f"err-{index}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        try:
            response: dict[str, Any] = {"ok": True, "result": task(payload)}
            code = 0
        except Exception as error:  # noqa: BLE001 - as in main: the error goes back as JSON
            response = {"ok": False, "error": {"type": type(error).__name__, "message": str(error)}}
        with open(folder / f"out-{index}", "w") as stream:  # noqa: PTH123
            _respond(stream, response)
    except SystemExit as stop:  # user code that calls sys.exit ends the copy the same way
        if stop.code is not None and not isinstance(stop.code, int):
            print(stop.code, file=sys.stderr)
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported as an uncaught exception would be
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main() -> int:
    """Serve one request; return the process exit code."""
    # Keep the real stdout for the response and point fd 1 at stderr, so that prints
    # from Python and from C++ cannot corrupt the JSON.
    response_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        # One line: a server (``serve``) reads its jobs from the lines after it.
        request = json.loads(sys.stdin.readline())
        _die_with_parent(request.get("parent"))
        if request.get("protocol") != PROTOCOL_VERSION:
            raise ValueError(
                f"protocol: got {request.get('protocol')!r}; expected {PROTOCOL_VERSION}"
            )
        task = TASKS.get(request.get("task", ""))
        if task is None and "serve" not in request:
            raise ValueError(f"task: got {request.get('task')!r}; expected one of {sorted(TASKS)}")
        if request.get("cgroup"):
            join_cgroup(request["cgroup"])
        if request.get("cpus"):
            os.sched_setaffinity(0, request["cpus"])
        result = _serve(request["serve"]) if task is None else task(request.get("payload") or {})
    except Exception as error:  # noqa: BLE001 - every failure goes back as JSON, with its type
        _respond(
            response_stream,
            {"ok": False, "error": {"type": type(error).__name__, "message": str(error)}},
        )
        return 1
    _respond(response_stream, {"ok": True, "result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
