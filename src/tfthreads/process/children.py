"""Start worker processes, watch them and collect what they left, without pipes.

The child is ``python -m tfthreads.process.worker``; it gets an explicit environment and
its output goes to temporary files, so a chatty child cannot block on a full pipe while
the parent waits for another one. Each child leads a session of its own, so that a
timeout kills it with everything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import psutil

from tfthreads._text import filter_startup_noise
from tfthreads.process.outcomes import WorkerError, WorkerResult, outcome_of

__all__ = [
    "WORKER_MODULE",
    "Child",
    "child_environment",
    "collect_all",
    "has_failed",
    "kill_group",
    "remove_stale_folders",
    "start_child",
    "temporary_folder",
    "wait_unreaped",
]

#: The module a child runs (``python -m``): the worker's entry point.
WORKER_MODULE = "tfthreads.process.worker"

#: A started child, with the files its stdout and stderr go to.
Child = tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]


def child_environment(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Build the environment of a worker: this process's, with changes applied.

    Parameters
    ----------
    env : mapping, optional
        Variables to set; a value of ``None`` removes the variable.

    Returns
    -------
    dict of str to str
        The full environment for the child. When ``tfthreads`` runs from a source folder
        (not from site-packages), that folder is put on ``PYTHONPATH`` so the child imports
        this same copy; an installed copy needs nothing, and site-packages is never put
        ahead of the standard library.

    Examples
    --------
    >>> environ = child_environment({"TF_NUM_INTRAOP_THREADS": "2", "HOME": None})
    >>> environ["TF_NUM_INTRAOP_THREADS"], "HOME" in environ
    ('2', False)
    """
    environ = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    package_parent = _source_folder()
    if package_parent is not None:
        existing = environ.get("PYTHONPATH")
        environ["PYTHONPATH"] = package_parent + (os.pathsep + existing if existing else "")
    return environ


def _source_folder() -> str | None:
    """Return the folder holding the ``tfthreads`` package, unless it is an install folder."""
    # This file is tfthreads/process/children.py: the folder that holds tfthreads.
    parent = Path(__file__).resolve().parents[2]
    installed = {sysconfig.get_path(name) for name in ("purelib", "platlib")}
    installed.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        installed.add(site.getusersitepackages())
    if any(folder and Path(folder).resolve() == parent for folder in installed):
        return None
    return str(parent)


def start_child(
    request: Mapping[str, Any],
    environ: Mapping[str, str],
    stack: contextlib.ExitStack,
    *,
    requests: bool = False,
) -> Child:
    """Start one worker with ``request`` on its stdin; its output goes to temporary files.

    With ``requests``, its stdin stays open, a pipe for more lines (a server's jobs).
    """
    # The files close with the caller's stack, after the outcome has been read.
    stdin, stdout, stderr = (stack.enter_context(tempfile.TemporaryFile()) for _ in "abc")  # noqa: SIM115
    line = json.dumps(request).encode() + b"\n"
    if not requests:
        stdin.write(line)
        stdin.seek(0)
    process = subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE],
        stdin=subprocess.PIPE if requests else stdin,
        stdout=stdout,
        stderr=stderr,
        env=environ,
        start_new_session=True,  # so a timeout can kill the child and its children
    )
    if requests:
        assert process.stdin is not None
        process.stdin.write(line)
        process.stdin.flush()
    return process, stdout, stderr


def collect_all(
    task: str,
    children: Sequence[Child],
    deadline: float,
    timeout: float,
    on_failure: Callable[[], None] | None,
) -> list[WorkerResult | WorkerError]:
    """Wait for every child (telling ``on_failure`` of the first failure) and read each."""
    if on_failure is not None:
        _watch([process for process, _, _ in children], deadline, on_failure)
    return [
        _collect(task, process, stdout, stderr, deadline, timeout)
        for process, stdout, stderr in children
    ]


def _watch(
    processes: Sequence[subprocess.Popen[bytes]],
    deadline: float,
    on_failure: Callable[[], None],
    marker: Path | None = None,
) -> None:
    """Wait until every child has exited or the deadline passes, telling of a failure.

    ``on_failure`` is called once, as soon as one child has exited with a failure, or
    ``marker`` exists (a forked copy failed); the children are left unreaped, for
    :func:`_collect`.
    """
    pause = 0.001
    running = list(processes)
    while running and time.monotonic() < deadline:
        if marker is not None and marker.exists():
            on_failure()
            return
        for process in list(running):
            failed = has_failed(process)
            if failed is None:
                continue
            running.remove(process)
            if failed:
                on_failure()
                # Told once: the others now stop on their own and are collected as usual.
                return
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def has_failed(process: subprocess.Popen[bytes]) -> bool | None:
    """Say whether the child ended with a failure, without reaping it; ``None`` while it runs.

    A child already reaped, whose status is gone, counts as not failed.
    """
    try:
        ended = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    if ended is None:
        return None
    return ended.si_code != os.CLD_EXITED or ended.si_status != 0


def wait_unreaped(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait until the child exits, without reaping it; ``False`` if ``seconds`` pass first."""
    end = time.monotonic() + seconds
    pause = 0.001
    while True:
        if has_failed(process) is not None:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the child's process group (it and whatever it started) and reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _collect(
    task: str,
    process: subprocess.Popen[bytes],
    stdout: IO[bytes],
    stderr: IO[bytes],
    deadline: float,
    timeout: float,
) -> WorkerResult | WorkerError:
    timed_out = not wait_unreaped(process, max(0.0, deadline - time.monotonic()))
    # Whether the child ended or timed out, nothing it started may outlive it: a user's
    # workload can start processes (a helper burning a CPU would skew every later
    # measurement). The exited child is not reaped yet, so its group id is still its own.
    kill_group(process)
    stdout.seek(0)
    stderr.seek(0)
    out = stdout.read().decode(errors="replace")
    err = filter_startup_noise(stderr.read().decode(errors="replace"))
    if timed_out:
        return WorkerError(
            f"worker task {task!r} timed out after {timeout:g} s and was killed",
            reason="timeout",
            stderr=err,
        )
    return outcome_of(task, process.returncode, out, err)


def remove_stale_folders() -> None:
    """Remove the temporary folders of tfthreads processes that were killed.

    SIGKILL cleans up nothing; a folder's name says whose it was, and a process that is
    gone (or a zombie waiting to be reaped) no longer needs it. Every command of the
    command line calls this first, and so does :func:`temporary_folder`.
    """
    for stale in Path(tempfile.gettempdir()).glob("tfthreads-*-pid*-*"):
        owner = stale.name.split("-pid", 1)[1].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def temporary_folder(kind: str) -> tempfile.TemporaryDirectory[str]:
    """Make a temporary folder for files that children signal with, named after us.

    Folders left by tfthreads processes that were killed are removed first
    (:func:`remove_stale_folders`).
    """
    remove_stale_folders()
    return tempfile.TemporaryDirectory(prefix=f"tfthreads-{kind}-pid{os.getpid()}-")
