"""Run a named task of the worker in fresh processes: :func:`run_worker`, :func:`run_workers`.

JSON in on stdin, JSON out on stdout (:mod:`tfthreads.process.messages`); nothing is
pickled and no shell is involved. The child applies its CPU affinity and cgroup to
itself before TensorFlow is imported.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tfthreads.process.child_options import ChildOptions, child_options
from tfthreads.process.children import (
    Child,
    child_environment,
    collect_all,
    kill_group,
    start_child,
)
from tfthreads.process.messages import PROTOCOL_VERSION
from tfthreads.process.outcomes import WorkerError, WorkerResult
from tfthreads.process.server import ImportServer, serving

__all__ = ["run_worker", "run_workers"]


def run_worker(
    task: str,
    payload: Mapping[str, Any],
    *,
    child: ChildOptions | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    share_import: Sequence[str] = (),
) -> WorkerResult:
    """Run one task in a fresh worker process and return its JSON result.

    Parameters
    ----------
    task : str
        The worker task, for example ``"observe_pools"``.
    payload : mapping
        JSON-serialisable arguments of the task.
    child : ChildOptions, optional
        How the child runs, in one value; or give its fields instead:
    env : mapping, optional
        Environment changes for the child (``None`` values remove a variable).
    cpus : iterable of int, optional
        CPUs the child may run on; it sets its own affinity before importing TensorFlow.
    cgroup : path-like, optional
        A cgroup the child joins first (see :func:`tfthreads.quota.cpu_quota`).
    timeout : float, optional
        Seconds before the child is killed (120 if not given).
    share_import : sequence of str
        Module names: within an :func:`~tfthreads.process.importing_once` block that
        imported them for this child's environment, the worker is a copy forked from
        that import (a process of its own, no runtime started) instead of a process that
        imports them again.

    Returns
    -------
    WorkerResult
        The result and the child's filtered stderr.

    Raises
    ------
    WorkerError
        When the child crashes, is killed, times out or reports an error.
    """
    child = child_options(child, env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)
    outcome = run_workers(task, [payload], child=child, share_import=share_import)[0]
    if isinstance(outcome, WorkerError):
        raise outcome
    return outcome


def run_workers(
    task: str,
    payloads: Sequence[Mapping[str, Any]],
    *,
    child: ChildOptions | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
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

    ``child`` (or its keywords) is as for :func:`run_worker`. ``environments`` (one per
    payload) changes each child's environment on top of ``child.env``. TensorFlow reads
    some variables (``TF_ENABLE_ONEDNN_OPTS``) when it is imported, so such children are
    forked only where an :func:`~tfthreads.process.importing_once` block is open for
    every one of their environments, each from the import made in its own environment
    (the servers' copies start together); otherwise each starts a fresh process.

    Returns
    -------
    list of WorkerResult or WorkerError
        One entry per payload, in order: the result, or the error that ended that child.
    """
    child = child_options(child, env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)
    environ = child_environment(child.env)
    deadline = time.monotonic() + child.timeout
    request = {
        "protocol": PROTOCOL_VERSION,
        "task": task,
        **child.placement(),
        "parent": os.getpid(),
    }
    if environments is not None:
        served = _run_served(
            task, payloads, child, environments, share_import, deadline, on_failure
        )
        if served is not None:
            return served
    with contextlib.ExitStack() as stack:
        children: list[Child] = []
        try:
            if environments is None:
                server = serving(share_import, child, environ)
                if server is None and share_import and len(payloads) > 1:
                    server = ImportServer(share_import, child, environ)
                    stack.callback(server.close)
                if server is not None:
                    return server.run(task, payloads, deadline, child.timeout, on_failure)
            changes = [None] * len(payloads) if environments is None else environments
            for payload, own in zip(payloads, changes, strict=True):
                own_environ = environ if own is None else child_environment({**child.env, **own})
                children.append(
                    start_child({**request, "payload": dict(payload)}, own_environ, stack)
                )
            return collect_all(task, children, deadline, child.timeout, on_failure)
        except BaseException:
            # Ctrl-C (or any error) in this process: the children are in their own
            # sessions, so nothing else would stop them.
            for process, _, _ in children:
                kill_group(process)
            raise


def _run_served(
    task: str,
    payloads: Sequence[Mapping[str, Any]],
    child: ChildOptions,
    environments: Sequence[Mapping[str, str | None]],
    share_import: Sequence[str],
    deadline: float,
    on_failure: Callable[[], None] | None,
) -> list[WorkerResult | WorkerError] | None:
    """Run children of several environments on the open servers of those environments.

    ``None`` when some environment has no server: the caller starts fresh processes.
    Each server runs its group in a thread of its own, so that every copy starts at once
    (copies that take turns wait for each other, whichever server forked them).
    """
    groups: dict[int, tuple[ImportServer, list[int]]] = {}
    for index, own in enumerate(environments):
        environ = child_environment({**child.env, **own})
        server = serving(share_import, child, environ)
        if server is None:
            return None
        groups.setdefault(id(server), (server, []))[1].append(index)
    outcomes: list[WorkerResult | WorkerError | None] = [None] * len(payloads)
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        running = [
            (
                indexes,
                pool.submit(
                    server.run,
                    task,
                    [payloads[i] for i in indexes],
                    deadline,
                    child.timeout,
                    on_failure,
                ),
            )
            for server, indexes in groups.values()
        ]
        for indexes, future in running:
            for index, outcome in zip(indexes, future.result(), strict=True):
                outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]
