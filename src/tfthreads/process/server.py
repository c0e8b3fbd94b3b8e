"""One worker that imports some modules once and forks a copy of itself per payload.

:func:`importing_once` keeps such a server for a block; :func:`~tfthreads.process.run_workers`
uses one for a single call with ``share_import``. Each copy is a process of its own whose
runtime starts with its own settings, without an import of its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from tfthreads._text import filter_startup_noise
from tfthreads.process.child_options import ChildOptions, child_options
from tfthreads.process.children import (
    child_environment,
    has_failed,
    kill_group,
    start_child,
    temporary_folder,
    wait_unreaped,
)
from tfthreads.process.messages import PROTOCOL_VERSION
from tfthreads.process.outcomes import WorkerError, WorkerResult, outcome_of

__all__ = ["ImportServer", "importing_once", "serving"]


_SERVERS: contextvars.ContextVar[tuple[ImportServer, ...]] = contextvars.ContextVar(
    "tfthreads_servers", default=()
)


def serving(
    modules: Sequence[str], child: ChildOptions, environ: Mapping[str, str]
) -> ImportServer | None:
    """Return a running :func:`importing_once` server for these children, if any.

    ``environ`` is the children's whole environment, made from ``child.env``. A server
    that imported more than ``modules`` serves them too (its copies start with the extra
    modules imported, and no runtime started).
    """
    if not modules:
        return None
    wanted = set(modules)
    placement = ImportServer.key_of((), child, environ)[1:]
    return next(
        (
            server
            for server in _SERVERS.get()
            if server.key[1:] == placement and wanted <= set(server.key[0])
        ),
        None,
    )


@contextlib.contextmanager
def importing_once(
    modules: Sequence[str],
    *,
    child: ChildOptions | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
) -> Iterator[ImportServer]:
    """Within the block, workers that share ``modules`` are forked from one import of them.

    :func:`run_workers` calls with the same ``share_import``, environment, CPUs and
    cgroup run each payload in a forked copy of one process that imported ``modules``
    when the block began: every copy is a process of its own, whose TensorFlow runtime
    starts with its own settings, but the seconds of TensorFlow's import are paid once
    per block instead of once per process; so do :func:`run_function` calls and calls
    that share fewer of the modules. Calls with anything else start their own processes
    as usual. The server ends with the block; a block within a block for the same
    children uses the outer block's server.

    ``child`` says how the children run, as for :func:`run_workers` (or ``env``, ``cpus``
    and ``cgroup``); its time limit is each call's own.

    Examples
    --------
    >>> from tfthreads.process import run_workers
    >>> with importing_once(["json"]) as server:
    ...     outcomes = run_workers("inventory", [{}, {}], share_import=["json"])
    >>> len(outcomes), server.jobs
    (2, 1)
    """
    child = child_options(child, env=env, cpus=cpus, cgroup=cgroup, timeout=None)
    environ = child_environment(child.env)
    running = serving(modules, child, environ)
    if running is not None:  # a block within a block: the outer server serves both
        yield running
        return
    server = ImportServer(modules, child, environ)
    token = _SERVERS.set((*_SERVERS.get(), server))
    try:
        yield server
    finally:
        _SERVERS.reset(token)
        server.close()


class ImportServer:
    """A worker that imported some modules once and forks a copy of itself per payload.

    Made by :func:`importing_once` (or by :func:`run_workers` for one call) for children
    that run as ``child`` says, in the environment ``environ`` made from ``child.env``.
    The copies share its environment, CPUs and cgroup; see ``_serve`` in the worker for
    its side.
    """

    def __init__(
        self, modules: Sequence[str], child: ChildOptions, environ: Mapping[str, str]
    ) -> None:
        self.key = self.key_of(modules, child, environ)
        self.jobs = 0
        # One job at a time: callers in several threads (observations made two at a
        # time) share the server's pipes and its stderr file.
        self._lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        request = {
            "protocol": PROTOCOL_VERSION,
            "serve": {"preload": list(modules)},
            **child.placement(),
            "parent": os.getpid(),
        }
        self._process, self._stdout, self._stderr = start_child(
            request, environ, self._stack, requests=True
        )

    @staticmethod
    def key_of(
        modules: Sequence[str], child: ChildOptions, environ: Mapping[str, str]
    ) -> tuple[Any, ...]:
        """Return what children must share to be forked from one server (not the timeout)."""
        cgroup = child.placement()["cgroup"]
        return (tuple(modules), tuple(sorted(environ.items())), tuple(child.cpus or ()), cgroup)

    def close(self) -> None:
        """End the server: no more jobs; it exits, and whatever it left is killed."""
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        wait_unreaped(self._process, 10.0)
        kill_group(self._process)
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
        with self._lock, temporary_folder("copies") as name:
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
            if time.monotonic() >= deadline or has_failed(self._process) is not None:
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
            return outcome_of(
                task,
                int(status.read_text()),
                out.read_text(errors="replace") if out.exists() else "",
                shared + filter_startup_noise(err),
            )
        if has_failed(self._process) is None:
            return WorkerError(
                f"worker task {task!r} timed out after {timeout:g} s and was killed",
                reason="timeout",
                stderr=shared,
            )
        ended = outcome_of(task, self._process.poll() or 0, self._read(self._stdout), shared)
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
