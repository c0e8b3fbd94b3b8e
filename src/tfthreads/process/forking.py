"""Inside a child that imported TensorFlow: run cases in forked copies of it.

A probe that imported TensorFlow once (seconds) can then observe many fresh runtimes
cheaply: :func:`run_forked` runs one case, :func:`run_forked_together` several at the
same time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

__all__ = ["run_forked", "run_forked_together"]


def run_forked(case: Callable[[], Any], *, timeout: float = 60.0) -> dict[str, Any]:
    """Run ``case`` in a forked copy of this process and report how it ended.

    Only for a worker that imported TensorFlow but never started its runtime (no pool
    thread exists yet): each copy then starts a runtime of its own, with the settings or
    environment the case sets, in a fraction of a second instead of a fresh import.
    The copy never returns into the caller: it ends with ``os._exit``. Its output goes
    to files, not pipes, so a copy that writes a lot cannot block.

    Parameters
    ----------
    case : callable
        Called with no arguments in the copy; returns JSON data.
    timeout : float
        Seconds before the copy is killed.

    Returns
    -------
    dict
        ``value`` (what ``case`` returned, or ``None``), ``exit`` (the exit code,
        negative for a signal: ``-6`` for TensorFlow's ``CHECK`` aborts, ``None`` after a
        timeout), ``error`` (``"Type: message"`` of an exception ``case`` raised, else
        ``""``) and ``stderr`` (the last 4000 characters the copy wrote).

    Examples
    --------
    >>> run_forked(lambda: 6 * 7)["value"]
    42
    >>> run_forked(lambda: 1 / 0)["error"]
    'ZeroDivisionError: division by zero'
    """
    return run_forked_together([case], timeout=timeout)[0]


def run_forked_together(
    cases: Sequence[Callable[[], Any]], *, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """Run each case in its own forked copy of this process, all copies at the same time.

    As :func:`run_forked`, for cases that must overlap in time: several worker
    processes of a server that share the CPUs, each with a runtime of its own.
    The copies are forked one after the other and then waited for together; a copy
    that should start its timed work with the others waits at a barrier it shares with
    them (for example a ``multiprocessing.get_context("fork").Barrier``).

    Parameters
    ----------
    cases : sequence of callable
        One case per copy, each called with no arguments; each returns JSON data.
    timeout : float
        Seconds, counted from the first fork, before the copies still running are killed.

    Returns
    -------
    list of dict
        One report per case, in order, as :func:`run_forked` describes.

    Examples
    --------
    >>> import os
    >>> reports = run_forked_together([os.getpid, os.getpid])
    >>> len({report["value"] for report in reports} | {os.getpid()})
    3
    """
    deadline = time.monotonic() + timeout
    with contextlib.ExitStack() as files:
        copies: list[tuple[int, IO[bytes], IO[bytes]]] = []
        for case in cases:
            value_out = files.enter_context(tempfile.TemporaryFile())
            err_out = files.enter_context(tempfile.TemporaryFile())
            copies.append((_fork_case(case, value_out, err_out), value_out, err_out))
        reports = []
        for index, (pid, value_file, err_file) in enumerate(copies):
            try:
                exit_code = _wait_or_kill(pid, deadline)
            except BaseException:
                # Ctrl-C while waiting: end the copies not waited for yet as well.
                for later, _, _ in copies[index + 1 :]:
                    _wait_or_kill(later, 0.0)
                raise
            value_file.seek(0)
            err_file.seek(0)
            report: dict[str, Any] = json.loads(
                value_file.read() or b'{"value": null, "error": ""}'
            )
            report["exit"] = exit_code
            report["stderr"] = err_file.read().decode(errors="replace")[-4000:]
            reports.append(report)
    return reports


def _fork_case(case: Callable[[], Any], value_file: IO[bytes], err_file: IO[bytes]) -> int:
    """Fork a copy that runs ``case``, reports through the files and never returns."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.dup2(err_file.fileno(), 1)
        os.dup2(err_file.fileno(), 2)
        outcome: dict[str, Any] = {"value": None, "error": ""}
        try:
            outcome["value"] = case()
        except Exception as error:  # noqa: BLE001 - the error text is the observation
            outcome["error"] = f"{type(error).__name__}: {error}".strip()
        os.write(value_file.fileno(), json.dumps(outcome).encode())
        os._exit(0)
    return pid


def _wait_or_kill(pid: int, deadline: float) -> int | None:
    """Wait for a forked copy until ``deadline`` (monotonic); then kill it (``None``)."""
    while True:  # look once even past the deadline: a copy may have ended meanwhile
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None
