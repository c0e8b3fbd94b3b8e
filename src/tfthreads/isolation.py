"""Run TensorFlow work in a fresh process: JSON in on stdin, JSON out on stdout.

TensorFlow fixes its thread pools once per process, so every measurement that depends on
a setting runs in a child started for it.
The child is ``python -m tfthreads._worker``; it gets an explicit environment and,
optionally, a CPU affinity that it applies to itself before TensorFlow is imported.
Nothing is pickled and no shell is involved.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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
    "run_workers",
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
    cgroup: str | os.PathLike[str] | None = None,
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
    cgroup : path-like, optional
        A cgroup the child joins first (see :func:`tfthreads.quota.cpu_quota`).
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
    outcome = run_workers(task, [payload], env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)[0]
    if isinstance(outcome, WorkerError):
        raise outcome
    return outcome


def run_workers(
    task: str,
    payloads: Sequence[Mapping[str, Any]],
    *,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
) -> list[WorkerResult | WorkerError]:
    """Run one worker per payload, all at the same time, and collect every outcome.

    The children share the CPUs (as worker processes of a server do). Their output goes
    to temporary files rather than pipes, so a chatty child cannot block on a full pipe
    while the parent waits for another one.

    Returns
    -------
    list of WorkerResult or WorkerError
        One entry per payload, in order: the result, or the error that ended that child.
    """
    cpu_list = sorted(set(cpus)) if cpus is not None else None
    environ = child_environment(env)
    deadline = time.monotonic() + timeout
    with contextlib.ExitStack() as stack:
        children = []
        for payload in payloads:
            request = {"protocol": PROTOCOL_VERSION, "task": task, "payload": dict(payload)}
            request["cpus"] = cpu_list
            request["cgroup"] = None if cgroup is None else str(cgroup)
            stdin, stdout, stderr = (stack.enter_context(tempfile.TemporaryFile()) for _ in "abc")
            stdin.write(json.dumps(request).encode())
            stdin.seek(0)
            process = subprocess.Popen(
                [sys.executable, "-m", "tfthreads._worker"],
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                env=environ,
                start_new_session=True,  # so a timeout can kill the child and its children
            )
            children.append((process, stdout, stderr))
        return [
            _collect(task, process, stdout, stderr, deadline, timeout)
            for process, stdout, stderr in children
        ]


def _collect(
    task: str,
    process: subprocess.Popen[bytes],
    stdout: IO[bytes],
    stderr: IO[bytes],
    deadline: float,
    timeout: float,
) -> WorkerResult | WorkerError:
    timed_out = False
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
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
    return _outcome(task, process.returncode, out, err)


def _outcome(task: str, returncode: int, out: str, err: str) -> WorkerResult | WorkerError:
    response = _parse_response(out)
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        hint = " (the kernel kills with SIGKILL when memory runs out)" if name == "SIGKILL" else ""
        return WorkerError(
            f"worker task {task!r} was killed by signal {-returncode} {name}{hint}: "
            f"{_key_line(err)}",
            reason="signal",
            stderr=err,
        )
    if response is not None and not response.get("ok", False):
        error = response.get("error", {})
        return WorkerError(
            f"worker task {task!r} failed: {error.get('type', 'Error')}: "
            f"{error.get('message', '')}",
            reason="error",
            stderr=err,
        )
    if returncode != 0:
        return WorkerError(
            f"worker task {task!r} exited with code {returncode}: {_key_line(err)}",
            reason="exit",
            stderr=err,
        )
    if response is None:
        return WorkerError(
            f"worker task {task!r} sent no JSON result; stdout was {out.strip()[-200:]!r}",
            reason="protocol",
            stderr=err,
        )
    return WorkerResult(result=response["result"], stderr=err)


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
