"""Run TensorFlow work in a fresh process: JSON in on stdin, JSON out on stdout.

TensorFlow fixes its thread pools once per process, so every measurement that depends on
a setting runs in a child started for it.
The child is ``python -m tfthreads._worker``; it gets an explicit environment and,
optionally, a CPU affinity that it applies to itself before TensorFlow is imported.
Nothing is pickled and no shell is involved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfthreads.errors import TFThreadsError

__all__ = [
    "PROTOCOL_VERSION",
    "SnippetResult",
    "WorkerError",
    "WorkerResult",
    "child_environment",
    "filter_startup_noise",
    "run_snippet",
    "run_worker",
]

#: Version of the JSON protocol between :func:`run_worker` and the worker.
PROTOCOL_VERSION = 1

#: Lines TensorFlow prints to stderr at every start on a machine without a GPU.
#: They come before TensorFlow's logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot
#: hide them; they are dropped from what a page shows. Any other line is kept.
_STARTUP_NOISE_PATTERNS = (
    r"All log messages before absl::InitializeLog\(\) is called",
    r"cudart_stub\.cc.*Could not find cuda drivers",
    r"cuda_platform\.cc.*failed call to cuInit",
    r"cuda_executor\.cc|cuda_diagnostics\.cc",
    r"cpu_feature_guard\.cc.*This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* rebuild TensorFlow",
    r"oneDNN custom operations are on",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
)
_STARTUP_NOISE = re.compile("|".join(_STARTUP_NOISE_PATTERNS))


def filter_startup_noise(stderr: str) -> str:
    """Drop TensorFlow's start-up chatter from captured stderr and keep everything else.

    Parameters
    ----------
    stderr : str
        Text a TensorFlow process wrote to stderr.

    Returns
    -------
    str
        The same text without the lines TensorFlow prints at every start
        (CUDA probing on a machine without a GPU, CPU-feature notices).

    Examples
    --------
    >>> filter_startup_noise("I0000 cudart_stub.cc:31] Could not find cuda drivers")
    ''
    >>> filter_startup_noise("W0000 op_kernel.cc:1] a real warning")
    'W0000 op_kernel.cc:1] a real warning'
    """
    kept = [line for line in stderr.splitlines(keepends=True) if not _STARTUP_NOISE.search(line)]
    return "".join(kept)


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
    """

    def __init__(self, message: str, *, reason: str, stderr: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.stderr = stderr


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


def child_environment(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Build the environment of a worker: this process's, with changes applied.

    Parameters
    ----------
    env : mapping, optional
        Variables to set; a value of ``None`` removes the variable.

    Returns
    -------
    dict of str to str
        The full environment for the child. The directory that holds the ``tfthreads``
        package is put first on ``PYTHONPATH`` so the child imports this same copy.

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
    package_parent = str(Path(__file__).resolve().parent.parent)
    existing = environ.get("PYTHONPATH")
    environ["PYTHONPATH"] = package_parent + (os.pathsep + existing if existing else "")
    return environ


def _key_line(stderr: str) -> str:
    """Pick the line of a dead child's stderr that says why: a fatal check, else an error."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for pattern in (r"Check failed|^F\d{4} ", r"Error|error|Killed|Traceback"):
        hits = [line for line in lines if re.search(pattern, line)]
        if hits:
            return hits[-1] if "Traceback" not in hits[-1] else lines[-1]
    return lines[-1] if lines else "(no output on stderr)"


def run_worker(
    task: str,
    payload: Mapping[str, Any],
    *,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    timeout: float = 120.0,
) -> WorkerResult:
    """Run one task in a fresh worker process and return its JSON result.

    Parameters
    ----------
    task : str
        The worker task, for example ``"observe_pools"``.
    payload : mapping
        JSON-serialisable arguments of the task.
    env : mapping, optional
        Environment changes for the child (``None`` values remove a variable).
    cpus : iterable of int, optional
        CPUs the child may run on; it sets its own affinity before importing TensorFlow.
    timeout : float
        Seconds before the child is killed.

    Returns
    -------
    WorkerResult
        The result and the child's filtered stderr.

    Raises
    ------
    WorkerError
        When the child crashes, is killed, times out or reports an error.
    """
    request = {
        "protocol": PROTOCOL_VERSION,
        "task": task,
        "payload": dict(payload),
        "cpus": sorted(set(cpus)) if cpus is not None else None,
    }
    command = [sys.executable, "-m", "tfthreads._worker"]
    try:
        completed = subprocess.run(
            command,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=child_environment(env),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        stderr = expired.stderr.decode() if isinstance(expired.stderr, bytes) else ""
        raise WorkerError(
            f"worker task {task!r} timed out after {timeout:g} s and was killed",
            reason="timeout",
            stderr=filter_startup_noise(stderr),
        ) from None
    stderr = filter_startup_noise(completed.stderr)
    response = _parse_response(completed.stdout)
    if completed.returncode < 0:
        raise WorkerError(
            f"worker task {task!r} was killed by signal {-completed.returncode}: {_key_line(stderr)}",
            reason="signal",
            stderr=stderr,
        )
    if response is not None and not response.get("ok", False):
        error = response.get("error", {})
        raise WorkerError(
            f"worker task {task!r} failed: {error.get('type', 'Error')}: {error.get('message', '')}",
            reason="error",
            stderr=stderr,
        )
    if completed.returncode != 0:
        raise WorkerError(
            f"worker task {task!r} exited with code {completed.returncode}: {_key_line(stderr)}",
            reason="exit",
            stderr=stderr,
        )
    if response is None:
        raise WorkerError(
            f"worker task {task!r} sent no JSON result; stdout was {completed.stdout.strip()[-200:]!r}",
            reason="protocol",
            stderr=stderr,
        )
    return WorkerResult(result=response["result"], stderr=stderr)


def _parse_response(stdout: str) -> dict[str, Any] | None:
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


@dataclass(frozen=True)
class SnippetResult:
    """What a snippet run by :func:`run_snippet` printed, and how it ended.

    Attributes
    ----------
    stdout : str
        Everything the snippet printed on stdout.
    stderr : str
        Its stderr without TensorFlow's start-up chatter.
    returncode : int
        The exit code; negative when a signal killed it (``-6`` for TensorFlow's aborts).
    """

    stdout: str
    stderr: str
    returncode: int

    @property
    def last_error_line(self) -> str:
        """The line of stderr that says why the snippet failed, if it did."""
        return _key_line(self.stderr)


def run_snippet(
    code: str,
    *,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 120.0,
) -> SnippetResult:
    """Run a Python snippet in a fresh interpreter and capture what it prints.

    Documentation pages use it to show TensorFlow code that sets the thread pools: the
    pools can be set only once per process, so each snippet gets its own process.

    Parameters
    ----------
    code : str
        Python source, passed to ``python -c`` (no shell is involved).
    env : mapping, optional
        Environment changes for the child (``None`` values remove a variable).
    timeout : float
        Seconds before the child is killed.

    Returns
    -------
    SnippetResult
        Its stdout, filtered stderr and exit code.

    Raises
    ------
    WorkerError
        When the snippet runs past ``timeout``.

    Examples
    --------
    >>> print(run_snippet("import os; print(os.getpid() > 0)").stdout, end="")
    True
    """
    try:
        completed = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=child_environment(env),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise WorkerError(
            f"snippet timed out after {timeout:g} s and was killed", reason="timeout"
        ) from None
    return SnippetResult(
        stdout=completed.stdout,
        stderr=filter_startup_noise(completed.stderr),
        returncode=completed.returncode,
    )
