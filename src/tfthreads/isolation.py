"""The one place that starts child processes: JSON in on stdin, JSON out on stdout.

TensorFlow fixes its thread pools once per process, so every measurement, probe, doc
example and test that depends on a setting runs in a child started for it.
The child is ``python -m tfthreads._worker``; it gets an explicit environment and,
optionally, a CPU affinity and a cgroup that it applies to itself before TensorFlow is
imported. Nothing is pickled and no shell is involved.

Three entry points share that one protocol:

* :func:`run_worker` / :func:`run_workers` run a named task of the worker;
* :func:`run_function` calls a function from an importable module and returns what it
  returned (JSON data); :func:`run_functions` makes several such calls at once;
* :func:`run_snippet` runs a code snippet and returns what it printed, its exit code
  and, if the snippet assigned one, its ``result`` (JSON data).

:func:`importing_once` (or ``share_import`` for one call) starts one worker that imports
TensorFlow once and forks a copy of itself per payload: each copy is a process of its own
whose runtime starts with its own settings, without an import of its own.

Inside such a child, :func:`run_forked` runs one case in a forked copy of it: a probe
that imported TensorFlow once (seconds) can then observe many fresh runtimes cheaply;
:func:`run_forked_together` runs several copies at the same time.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from tfthreads.errors import TFThreadsError

__all__ = [
    "PROTOCOL_VERSION",
    "SIBLING_FAILED",
    "ImportServer",
    "SnippetResult",
    "WorkerError",
    "WorkerResult",
    "child_environment",
    "filter_startup_noise",
    "importing_once",
    "one_line",
    "run_forked",
    "run_forked_together",
    "run_function",
    "run_functions",
    "run_snippet",
    "run_worker",
    "run_workers",
    "temporary_folder",
]

#: Version of the JSON protocol between :func:`run_worker` and the worker.
PROTOCOL_VERSION = 1
#: How a worker that waited for a sibling (a barrier, a turn) says that the sibling failed.
SIBLING_FAILED = "a sibling worker failed"

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


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def one_line(text: str, limit: int = 2000) -> str:
    r"""Squeeze a message into one plain line: no terminal escape codes, at most ``limit``.

    A failure message can carry a child's coloured output or a whole tensor; tables and
    one-line errors show it this way, while JSON keeps the full text.

    A printed array (the values of a tensor that Keras puts in a shape error) becomes
    ``[…]``, so the reason after it stays in view.

    Examples
    --------
    >>> one_line("\x1b[31mError:\x1b[0m  bad\n  input", limit=12)
    'Error: bad …'
    >>> one_line("input [[0. 0. 0. 0. 0. 0. 0. 0.] [1. 1. 1. 1. 1. 1. 1. 1.]]. Expected (None, 64)")
    'input […]. Expected (None, 64)'
    """
    plain = " ".join(_ESCAPES.sub("", text).split())
    plain = _PRINTED_ARRAY.sub("[…]", plain)
    return plain if len(plain) <= limit else plain[: limit - 2].rstrip() + " …"


#: Nested brackets of numbers, 30 characters or more: a printed array.
_PRINTED_ARRAY = re.compile(r"\[[\[\]\d\s.,eE+\-…]{30,}\]")


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
    parent = Path(__file__).resolve().parent.parent
    installed = {sysconfig.get_path(name) for name in ("purelib", "platlib")}
    installed.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        installed.add(site.getusersitepackages())
    if any(folder and Path(folder).resolve() == parent for folder in installed):
        return None
    return str(parent)


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
    on_failure: Callable[[], None] | None = None,
    share_import: Sequence[str] = (),
    environments: Sequence[Mapping[str, str | None]] | None = None,
) -> list[WorkerResult | WorkerError]:
    """Run one worker per payload, all at the same time, and collect every outcome.

    The children share the CPUs (as worker processes of a server do). Their output goes
    to temporary files rather than pipes, so a chatty child cannot block on a full pipe
    while the parent waits for another one.

    ``on_failure`` is called once, as soon as a child ends with a failure status, while
    the others may still run: workers that wait for each other (a barrier, turns) are
    told so at once, even when the child that failed was killed by a signal and could not
    tell them itself.

    With ``share_import`` (module names, such as ``("tensorflow",)``) and more than one
    payload, one process imports those modules once and each payload runs in a forked
    copy of it: every copy is still a process of its own whose runtime starts with its
    own settings, but TensorFlow's import (seconds of CPU time) is paid once, not once
    per payload. The children then share one environment, CPU set and cgroup.

    ``environments`` (one per payload) changes each child's environment on top of
    ``env``; such children are never forked from a shared import, because TensorFlow
    reads some variables (``TF_ENABLE_ONEDNN_OPTS``) when it is imported.

    Returns
    -------
    list of WorkerResult or WorkerError
        One entry per payload, in order: the result, or the error that ended that child.
    """
    cpu_list = sorted(set(cpus)) if cpus is not None else None
    cgroup_name = None if cgroup is None else str(cgroup)
    environ = child_environment(env)
    deadline = time.monotonic() + timeout
    request = {
        "protocol": PROTOCOL_VERSION,
        "task": task,
        "cpus": cpu_list,
        "cgroup": cgroup_name,
        "parent": os.getpid(),
    }
    with contextlib.ExitStack() as stack:
        children: list[tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]] = []
        try:
            if environments is None:
                server = _serving(share_import, environ, cpu_list, cgroup_name)
                if server is None and share_import and len(payloads) > 1:
                    server = ImportServer(share_import, environ, cpu_list, cgroup_name)
                    stack.callback(server.close)
                if server is not None:
                    return server.run(task, payloads, deadline, timeout, on_failure)
            changes = [None] * len(payloads) if environments is None else environments
            for payload, own in zip(payloads, changes, strict=True):
                own_environ = environ if own is None else child_environment({**(env or {}), **own})
                children.append(_start({**request, "payload": dict(payload)}, own_environ, stack))
            return _collect_all(task, children, deadline, timeout, on_failure)
        except BaseException:
            # Ctrl-C (or any error) in this process: the children are in their own
            # sessions, so nothing else would stop them.
            for process, _, _ in children:
                _kill_group(process)
            raise


def _collect_all(
    task: str,
    children: Sequence[tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]],
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


def _start(
    request: Mapping[str, Any],
    environ: Mapping[str, str],
    stack: contextlib.ExitStack,
    *,
    requests: bool = False,
) -> tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]:
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
        [sys.executable, "-m", "tfthreads._worker"],
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


_SERVERS: contextvars.ContextVar[tuple[ImportServer, ...]] = contextvars.ContextVar(
    "tfthreads_servers", default=()
)


def _serving(
    modules: Sequence[str], environ: Mapping[str, str], cpus: list[int] | None, cgroup: str | None
) -> ImportServer | None:
    """Return the running :func:`importing_once` server for these children, if any."""
    if not modules:
        return None
    key = ImportServer.key_of(modules, environ, cpus, cgroup)
    return next((server for server in _SERVERS.get() if server.key == key), None)


@contextlib.contextmanager
def importing_once(
    modules: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
) -> Iterator[ImportServer]:
    """Within the block, workers that share ``modules`` are forked from one import of them.

    :func:`run_workers` calls with the same ``share_import``, environment, CPUs and
    cgroup run each payload in a forked copy of one process that imported ``modules``
    when the block began: every copy is a process of its own, whose TensorFlow runtime
    starts with its own settings, but the seconds of TensorFlow's import are paid once
    per block instead of once per process. Calls with anything else start their own
    processes as usual. The server ends with the block; a block within a block for the
    same children uses the outer block's server.

    Examples
    --------
    >>> with importing_once(["json"]) as server:
    ...     outcomes = run_workers("inventory", [{}, {}], share_import=["json"])
    >>> len(outcomes), server.jobs
    (2, 1)
    """
    cpu_list = sorted(set(cpus)) if cpus is not None else None
    environ, cgroup_name = child_environment(env), None if cgroup is None else str(cgroup)
    running = _serving(modules, environ, cpu_list, cgroup_name)
    if running is not None:  # a block within a block: the outer server serves both
        yield running
        return
    server = ImportServer(modules, environ, cpu_list, cgroup_name)
    token = _SERVERS.set((*_SERVERS.get(), server))
    try:
        yield server
    finally:
        _SERVERS.reset(token)
        server.close()


class ImportServer:
    """A worker that imported some modules once and forks a copy of itself per payload.

    Made by :func:`importing_once` (or by :func:`run_workers` for one call). The copies
    share its environment, CPUs and cgroup; see ``_serve`` in the worker for its side.
    """

    def __init__(
        self,
        modules: Sequence[str],
        environ: Mapping[str, str],
        cpus: list[int] | None,
        cgroup: str | None,
    ) -> None:
        self.key = self.key_of(modules, environ, cpus, cgroup)
        self.jobs = 0
        self._stack = contextlib.ExitStack()
        request = {
            "protocol": PROTOCOL_VERSION,
            "serve": {"preload": list(modules)},
            "cpus": cpus,
            "cgroup": cgroup,
            "parent": os.getpid(),
        }
        self._process, self._stdout, self._stderr = _start(
            request, environ, self._stack, requests=True
        )

    @staticmethod
    def key_of(
        modules: Sequence[str],
        environ: Mapping[str, str],
        cpus: list[int] | None,
        cgroup: str | None,
    ) -> tuple[Any, ...]:
        """Return what children must share to be forked from one server."""
        return (tuple(modules), tuple(sorted(environ.items())), tuple(cpus or ()), cgroup)

    def close(self) -> None:
        """End the server: no more jobs; it exits, and whatever it left is killed."""
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        _wait_unreaped(self._process, 10.0)
        _kill_group(self._process)
        self._stack.close()

    def run(
        self,
        task: str,
        payloads: Sequence[Mapping[str, Any]],
        deadline: float,
        timeout: float,
        on_failure: Callable[[], None] | None,
    ) -> list[WorkerResult | WorkerError]:
        """Run one copy per payload, all at once, as :func:`run_workers` describes."""
        with temporary_folder("copies") as name:
            folder = Path(name)
            job = {"task": task, "dir": name, "payloads": [dict(p) for p in payloads]}
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(json.dumps(job).encode() + b"\n")
                self._process.stdin.flush()
            except OSError:
                pass  # the server has ended: its error is every copy's
            self.jobs += 1
            try:
                finished = self._wait(folder, deadline, on_failure)
            except BaseException:
                self._kill_copies(folder, len(payloads))
                raise
            if not finished:
                self._kill_copies(folder, len(payloads))
                self._wait(folder, time.monotonic() + 10.0, None)  # the server reaps them
            shared = filter_startup_noise(self._read(self._stderr))
            return [
                self._outcome(task, folder, index, finished, timeout, shared)
                for index in range(len(payloads))
            ]

    def _wait(self, folder: Path, deadline: float, on_failure: Callable[[], None] | None) -> bool:
        """Wait for the job to be done; ``False`` if the deadline passed or the server ended."""
        pause = 0.001
        told = on_failure is None
        while not (folder / "done").exists():
            if not told and (folder / "failed").exists():
                assert on_failure is not None
                on_failure()
                told = True
            if time.monotonic() >= deadline or _failed(self._process) is not None:
                return (folder / "done").exists()
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        return True

    @staticmethod
    def _kill_copies(folder: Path, count: int) -> None:
        """Kill the process group of each copy that has not ended (a timeout, Ctrl-C)."""
        for index in range(count):
            pid_file = folder / f"pid-{index}"
            if pid_file.exists() and not (folder / f"status-{index}").exists():
                with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                    os.killpg(int(pid_file.read_text()), signal.SIGKILL)

    def _outcome(
        self, task: str, folder: Path, index: int, finished: bool, timeout: float, shared: str
    ) -> WorkerResult | WorkerError:
        """Read what copy ``index`` left as the outcome of a worker of its own.

        ``shared`` is what the server itself wrote to stderr (its import's warnings).
        """
        status = folder / f"status-{index}"
        if status.exists() and (finished or int(status.read_text()) != -signal.SIGKILL):
            out = folder / f"out-{index}"
            err = (folder / f"err-{index}").read_bytes().decode(errors="replace")
            return _outcome(
                task,
                int(status.read_text()),
                out.read_text(errors="replace") if out.exists() else "",
                shared + filter_startup_noise(err),
            )
        if _failed(self._process) is None:
            return WorkerError(
                f"worker task {task!r} timed out after {timeout:g} s and was killed",
                reason="timeout",
                stderr=shared,
            )
        ended = _outcome(task, self._process.poll() or 0, self._read(self._stdout), shared)
        if isinstance(ended, WorkerError):
            return ended
        return WorkerError(
            f"worker task {task!r} ended before its copy {index} did",
            reason="protocol",
            stderr=shared,
        )

    @staticmethod
    def _read(stream: IO[bytes]) -> str:
        stream.seek(0)
        return stream.read().decode(errors="replace")


def temporary_folder(kind: str) -> tempfile.TemporaryDirectory[str]:
    """Make a temporary folder for files that children signal with, named after us.

    Folders left by a tfthreads process that was killed (SIGKILL cleans up nothing) are
    removed first: their names say whose they were, and that process is gone.
    """
    root = Path(tempfile.gettempdir())
    for stale in root.glob("tfthreads-*-pid*-*"):
        owner = stale.name.split("-pid", 1)[1].split("-", 1)[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(stale, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"tfthreads-{kind}-pid{os.getpid()}-")


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
            failed = _failed(process)
            if failed is None:
                continue
            running.remove(process)
            if failed:
                on_failure()
                # Told once: the others now stop on their own and are collected as usual.
                return
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def _failed(process: subprocess.Popen[bytes]) -> bool | None:
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


def _wait_unreaped(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait until the child exits, without reaping it; ``False`` if ``seconds`` pass first."""
    end = time.monotonic() + seconds
    pause = 0.001
    while True:
        if _failed(process) is not None:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
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
    timed_out = not _wait_unreaped(process, max(0.0, deadline - time.monotonic()))
    # Whether the child ended or timed out, nothing it started may outlive it: a user's
    # workload can start processes (a helper burning a CPU would skew every later
    # measurement). The exited child is not reaped yet, so its group id is still its own.
    _kill_group(process)
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
            f"worker task {task!r} exited with code {returncode}: {_key_line(err)}",
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


def run_function(
    function: Callable[..., Any],
    arguments: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
) -> Any:
    """Call ``function(**arguments)`` in a fresh process and return what it returned.

    A function of an importable module is imported by name in the child (the module's
    folder is added to the end of the child's ``sys.path``). A function defined in the
    script being run (``__main__``, as in a gallery example or ``python script.py``) is
    sent as its source code and defined again in the child, so it must be
    self-contained: it imports what it uses inside its body and reads no global
    variables of the script. Arguments and the returned value travel as JSON.

    Parameters
    ----------
    function : callable
        A top-level function, of an importable module or of ``__main__``, whose return
        value is JSON data.
    arguments : mapping, optional
        Keyword arguments, JSON-serialisable.
    env, cpus, cgroup, timeout
        As for :func:`run_worker`.

    Returns
    -------
    object
        The function's return value, as it comes out of JSON.

    Raises
    ------
    WorkerError
        When the child fails or the function raises; the message names the exception.
    ValueError
        When ``function`` cannot be imported by a child.

    Examples
    --------
    >>> import os
    >>> run_function(os.cpu_count) == os.cpu_count()
    True
    """
    outcome = run_worker(
        "call",
        _call_payload(function, arguments),
        env=env,
        cpus=cpus,
        cgroup=cgroup,
        timeout=timeout,
    )
    return outcome.result["value"]


def run_functions(
    function: Callable[..., Any],
    arguments: Sequence[Mapping[str, Any]],
    *,
    share_import: Sequence[str] = ("tensorflow",),
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
) -> list[Any]:
    """Call ``function`` once per mapping of ``arguments``, each call in a process of its own.

    As :func:`run_function`, for observations that time nothing: the calls run at the
    same time, each in a copy forked from one process that imported ``share_import``
    (see :func:`run_workers`), so TensorFlow's import is paid once for all of them while
    each call still starts a runtime of its own.

    Returns
    -------
    list
        What each call returned, in the order of ``arguments``.

    Raises
    ------
    WorkerError
        The first call's error, when any call fails.

    Examples
    --------
    >>> import os
    >>> run_functions(os.getpid, [{}, {}], share_import=["json"])[0] != os.getpid()
    True
    """
    outcomes = run_workers(
        "call",
        [_call_payload(function, one) for one in arguments],
        env=env,
        cpus=cpus,
        cgroup=cgroup,
        timeout=timeout,
        share_import=share_import,
    )
    for outcome in outcomes:
        if isinstance(outcome, WorkerError):
            raise outcome
    return [outcome.result["value"] for outcome in outcomes if isinstance(outcome, WorkerResult)]


def _call_payload(
    function: Callable[..., Any], arguments: Mapping[str, Any] | None
) -> dict[str, Any]:
    module_name = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if not module_name or "<locals>" in qualname:
        raise ValueError(
            f"function: got {function!r}; expected a module-level function of an "
            "importable module or of __main__ (a child process defines it again)"
        )
    if module_name == "__main__":
        return {**_function_source(function), "arguments": dict(arguments or {})}
    module = sys.modules.get(module_name)
    module_file = getattr(module, "__file__", None)
    root = None
    if module_file:
        root = Path(module_file).resolve().parent
        for _ in range(module_name.count(".")):
            root = root.parent
    return {
        "module": module_name,
        "qualname": qualname,
        "path": None if root is None else str(root),
        "arguments": dict(arguments or {}),
    }


def _function_source(function: Callable[..., Any]) -> dict[str, Any]:
    """Read the source of a top-level function of ``__main__``, for the child to define."""
    name = getattr(function, "__name__", "")
    code = getattr(function, "__code__", None)
    problem = ""
    if not name.isidentifier() or function.__qualname__ != name or code is None:
        problem = "it is not a plain top-level function"
    elif function.__closure__:
        problem = "it uses variables of an enclosing function"
    else:
        try:
            source = textwrap.dedent(inspect.getsource(function))
        except (OSError, TypeError) as error:
            problem = f"its source cannot be read ({error})"
    if problem or code is None:
        raise ValueError(
            f"function: got {function!r}; a function of __main__ is sent to the child as "
            f"source code, and {problem}"
        )
    filename = code.co_filename
    return {
        "source": source,
        "qualname": name,
        "filename": filename,
        "line": code.co_firstlineno,  # of the first decorator, if any: where getsource starts
        "path": str(Path(filename).resolve().parent) if Path(filename).is_file() else None,
    }


@dataclass(frozen=True)
class SnippetResult:
    """What a snippet run by :func:`run_snippet` printed, returned and how it ended.

    Attributes
    ----------
    stdout : str
        What the snippet printed from Python (``print``); lost if the process crashed.
    stderr : str
        Its stderr without TensorFlow's start-up chatter, and the traceback of an
        exception the snippet did not catch.
    returncode : int
        0 when the snippet ran to its end, its ``sys.exit`` code, 1 for an uncaught
        exception, negative when a signal killed it (``-6`` for TensorFlow's aborts).
    data : object
        The value the snippet assigned to ``result`` (JSON data), or ``None``.
    """

    stdout: str
    stderr: str
    returncode: int
    data: Any = None

    @property
    def last_error_line(self) -> str:
        """The line of stderr that says why the snippet failed, if it did."""
        return _key_line(self.stderr)


def run_snippet(
    code: str,
    *,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
) -> SnippetResult:
    """Run a Python snippet in a fresh worker process and return what it produced.

    Documentation pages use it to show TensorFlow code that sets the thread pools: the
    pools can be set only once per process, so each snippet gets its own process.
    A snippet hands data back by assigning JSON data to a variable named ``result``.

    Parameters
    ----------
    code : str
        Python source, run as ``__main__`` (common indentation is removed first; no
        shell is involved).
    env, cpus, cgroup, timeout
        As for :func:`run_worker`.

    Returns
    -------
    SnippetResult
        What it printed, its filtered stderr, exit code and ``result``.

    Raises
    ------
    WorkerError
        When the snippet runs past ``timeout`` or the child fails outside the snippet.

    Examples
    --------
    >>> print(run_snippet("import os; print(os.getpid() > 0)").stdout, end="")
    True
    >>> run_snippet("result = {'answer': 6 * 7}").data
    {'answer': 42}
    """
    request = {"code": textwrap.dedent(code)}
    outcomes = run_workers("snippet", [request], env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)
    outcome = outcomes[0]
    if isinstance(outcome, WorkerResult):
        result = outcome.result
        return SnippetResult(
            stdout=result["stdout"],
            stderr=outcome.stderr,
            returncode=int(result["exit"]),
            data=result.get("data"),
        )
    if outcome.reason in {"signal", "exit"} and outcome.returncode is not None:
        return SnippetResult(stdout="", stderr=outcome.stderr, returncode=outcome.returncode)
    raise outcome


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
