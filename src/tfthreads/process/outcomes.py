"""How a worker ended, read from its exit status and its JSON response.

A worker's outcome is a :class:`WorkerResult` or a :class:`WorkerError`; the same reading
serves a fresh worker (:mod:`tfthreads.process.children`) and a forked copy of an import
server (:mod:`tfthreads.process.server`).
"""

from __future__ import annotations

import json
import re
import signal
from dataclasses import dataclass
from typing import Any

from tfthreads.errors import TFThreadsError
from tfthreads.process.messages import PROTOCOL_VERSION

__all__ = ["WorkerError", "WorkerResult", "key_line", "outcome_of", "parse_response"]


class WorkerError(TFThreadsError, RuntimeError):
    """The worker process failed: it crashed, was killed, timed out or reported an error.

    Attributes
    ----------
    reason : str
        One of ``"error"`` (the worker reported an exception), ``"exit"`` (non-zero exit
        code), ``"signal"`` (killed by a signal), ``"timeout"`` and ``"protocol"`` (its
        output was not the expected JSON).
    stderr : str
        What the worker wrote to stderr, without start-up noise.
    returncode : int or None
        The child's exit code (negative for a signal), ``None`` after a timeout.
    """

    def __init__(
        self, message: str, *, reason: str, stderr: str = "", returncode: int | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.stderr = stderr
        self.returncode = returncode


@dataclass(frozen=True)
class WorkerResult:
    """What a worker sent back.

    Attributes
    ----------
    result : dict
        The task's JSON result.
    stderr : str
        What the worker wrote to stderr, without start-up noise (warnings show up here).
    """

    result: dict[str, Any]
    stderr: str


def key_line(stderr: str) -> str:
    """Pick the line of a dead child's stderr that says why: a fatal check, else an error."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for pattern in (r"Check failed|^F\d{4} ", r"Error|error|Killed|Traceback"):
        hits = [line for line in lines if re.search(pattern, line)]
        if hits:
            return hits[-1] if "Traceback" not in hits[-1] else lines[-1]
    return lines[-1] if lines else "(no output on stderr)"


def outcome_of(task: str, returncode: int, out: str, err: str) -> WorkerResult | WorkerError:
    """Read how worker task ``task`` ended from its exit code, stdout and filtered stderr."""
    response = parse_response(out)
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        hint = " (the kernel kills with SIGKILL when memory runs out)" if name == "SIGKILL" else ""
        return WorkerError(
            f"worker task {task!r} was killed by signal {-returncode} {name}{hint}: "
            f"{key_line(err)}",
            reason="signal",
            stderr=err,
            returncode=returncode,
        )
    if response is not None and not response.get("ok", False):
        error = response.get("error", {})
        return WorkerError(
            f"worker task {task!r} failed: {error.get('type', 'Error')}: "
            f"{error.get('message', '')}",
            reason="error",
            stderr=err,
            returncode=returncode,
        )
    if returncode != 0:
        return WorkerError(
            f"worker task {task!r} exited with code {returncode}: {key_line(err)}",
            reason="exit",
            stderr=err,
            returncode=returncode,
        )
    if response is None:
        return WorkerError(
            f"worker task {task!r} sent no JSON result; stdout was {out.strip()[-200:]!r}",
            reason="protocol",
            stderr=err,
            returncode=returncode,
        )
    return WorkerResult(result=response["result"], stderr=err)


def parse_response(stdout: str) -> dict[str, Any] | None:
    """Return the worker's JSON response, or ``None`` if stdout holds none of this protocol."""
    text = stdout.strip()
    if not text:
        return None
    try:
        response = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(response, dict) or response.get("protocol") != PROTOCOL_VERSION:
        return None
    return response
