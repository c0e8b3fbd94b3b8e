"""The worker process: ``python -m tfthreads._worker`` reads one JSON request on stdin.

It applies the requested CPU affinity first, then imports TensorFlow, runs the task and
writes one JSON response on stdout. Everything else the task prints, from Python or from
TensorFlow's C++ code, is sent to stderr, so stdout carries nothing but the response.
"""

from __future__ import annotations
import __future__

import contextlib
import importlib
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tfthreads.inventory import ThreadInventory, diff, inventory
from tfthreads.isolation import PROTOCOL_VERSION, SIBLING_FAILED
from tfthreads.pool_identity import identify_pools
from tfthreads.quota import join_cgroup
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology


def _observe_pools(payload: dict[str, Any]) -> dict[str, Any]:
    """Start TensorFlow with the given settings and report the threads it created."""
    settings = ThreadSettings(
        intra_op=int(payload.get("intra_op", 0)), inter_op=int(payload.get("inter_op", 0))
    )
    before_import = inventory()
    import tensorflow as tf

    after_import = inventory()
    if payload.get("apply", True):
        settings.apply()
    configured = {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }
    # A matmul big enough to be split across the intra-op pool starts the runtime and
    # makes every pool thread run at least once.
    size = int(payload.get("matmul_size", 256))
    matrix = tf.ones((size, size))
    float(tf.reduce_sum(tf.matmul(matrix, matrix)))
    after_init = inventory()
    return {
        "tensorflow_version": tf.__version__,
        "affinity": sorted(os.sched_getaffinity(0)),
        "configured": configured,
        "threads_before_import": before_import.count,
        "threads_after_import": after_import.count,
        "new_at_import": diff(before_import, after_import),
        "new_at_init": diff(after_import, after_init),
        "pools": identify_pools(after_import, after_init).as_dict(),
        "inventory": after_init.as_dict(),
        "build": _build_info(tf),
    }


def _wait_for(folder: Path, pattern: str, count: int, timeout: float, what: str) -> None:
    """Wait until ``count`` files match ``pattern`` in ``folder`` (siblings' signals)."""
    deadline = time.monotonic() + timeout
    while len(list(folder.glob(pattern))) < count:
        if (folder / "abort").exists():
            raise RuntimeError(f"{what}: {SIBLING_FAILED}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: sibling workers did not get there within {timeout:g} s")
        # Look every millisecond: pauses growing to 20 ms widened the self-comparison of
        # matmul in turns from about ±3.5 % to ±5-7 % (30 rounds, 2-CPU AMD EPYC).
        time.sleep(0.001)


def _wait_at_barrier(barrier: dict[str, Any] | None, index: int) -> None:
    """Wait until every sibling worker is ready, so their timed loops overlap."""
    if not barrier:
        return
    folder = Path(barrier["dir"])
    (folder / f"ready-{index}-{os.getpid()}").touch()
    _wait_for(
        folder,
        f"ready-{index}-*",
        int(barrier["count"]),
        float(barrier.get("timeout", 120)),
        "barrier",
    )


def _chunks(turns: dict[str, Any] | None, index: int, repeats: int) -> Iterator[int]:
    """Yield the sizes of this worker's chunks of the timed loop, each when it is its turn.

    Without ``turns``, the whole loop at once. With it, the workers of several settings
    take turns: chunk ``c`` runs slot 0, 1, ... in order, chunk ``c + 1`` in reverse, so a
    machine that speeds up and slows down within seconds hits every setting alike. The
    ``group`` workers of a slot (processes measured together) run each chunk at once.
    """
    if not turns:
        yield repeats
        return
    folder, slot, slots = Path(turns["dir"]), int(turns["slot"]), int(turns["count"])
    chunks, group = int(turns["chunks"]), int(turns.get("group", 1))
    timeout = float(turns.get("timeout", 120))
    for chunk in range(chunks):
        position = slot if chunk % 2 == 0 else slots - 1 - slot
        turn = chunk * slots + position
        if turn:
            _wait_for(folder, f"done-{index}-{turn - 1}-*", group, timeout, "turns")
        yield repeats // chunks + (1 if chunk < repeats % chunks else 0)
        (folder / f"done-{index}-{turn}-{os.getpid()}").touch()


def _cpu_by_thread(snapshot: ThreadInventory) -> dict[int, float]:
    return {thread.tid: thread.cpu_seconds for thread in snapshot.threads}


def _measure(payload: dict[str, Any]) -> dict[str, Any]:
    """Time each workload's step under one set of thread settings.

    A failure tells the siblings that take turns with this worker (``abort``), so that
    they stop instead of waiting for a turn that will not come.
    """
    try:
        return _measure_steps(payload)
    except BaseException:
        if payload.get("turns"):
            (Path(payload["turns"]["dir"]) / "abort").touch()
        raise


def _measure_steps(payload: dict[str, Any]) -> dict[str, Any]:
    from tfthreads._workloads_tf import build_step
    from tfthreads.workloads import WorkloadSpec

    settings = ThreadSettings(
        intra_op=int(payload.get("intra_op", 0)), inter_op=int(payload.get("inter_op", 0))
    )
    repeats, warmup = int(payload["repeats"]), int(payload["warmup"])
    before_import = inventory()
    import tensorflow as tf

    after_import = inventory()
    settings.apply()
    results = []
    pools: dict[str, Any] = {}
    for index, spec_data in enumerate(payload["workloads"]):
        spec = WorkloadSpec.from_dict(spec_data)
        step = build_step(tf, spec)
        for _ in range(warmup):
            step.run()
        if index == 0:
            # Before the barrier, so that where names do not tell, the work that tells
            # the pools apart overlaps no sibling's timed loop.
            pools = identify_pools(after_import).as_dict()
        _wait_at_barrier(payload.get("barrier"), index)
        start = inventory()
        wall, cpu = [], []
        for size in _chunks(payload.get("turns"), index, repeats):
            for _ in range(size):
                wall_0, cpu_0 = time.perf_counter(), time.process_time()
                step.run()
                wall.append(time.perf_counter() - wall_0)
                cpu.append(time.process_time() - cpu_0)
        end = inventory()
        used_before = _cpu_by_thread(start)
        active = sum(
            1 for tid, seconds in _cpu_by_thread(end).items() if seconds > used_before.get(tid, 0.0)
        )
        results.append(
            {
                "workload": spec.as_dict(),
                "name": spec.name,
                "unit": step.unit,
                "items_per_step": step.items,
                "flops_per_step": step.flops,
                "wall_seconds": wall,
                "cpu_seconds": cpu,
                "threads_total": end.count,
                "threads_active": active,
            }
        )
    after_all = inventory()
    return {
        "pools": pools,
        "tensorflow_version": tf.__version__,
        "affinity": sorted(os.sched_getaffinity(0)),
        "configured": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "threads_before_import": before_import.count,
        "new_at_init": diff(after_import, after_all),
        "build": _build_info(tf),
        "topology": topology().as_dict(),
        "workloads": results,
    }


def _check_workloads(payload: dict[str, Any]) -> dict[str, Any]:
    """Build each workload's step and run it once; report which ones cannot run.

    Run once before a sweep, so that a user workload that cannot be imported or called,
    or a model fed the wrong input shape, is a usage error and not a grid of failures.
    """
    import tensorflow as tf

    from tfthreads._workloads_tf import build_step
    from tfthreads.workloads import WorkloadSpec

    problems: dict[str, str] = {}
    for spec_data in payload["workloads"]:
        spec = WorkloadSpec.from_dict(spec_data)
        try:
            build_step(tf, spec).run()
        except Exception as error:  # noqa: BLE001 - each problem goes back by workload
            problems[spec.name] = f"{type(error).__name__}: {error}"
    import resource

    # The most memory this process held (Linux gives kibibytes): what a process per setting
    # measuring these workloads at once will need each.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"problems": problems, "peak_memory": peak}


def _build_info(tf: Any) -> dict[str, Any]:
    from tensorflow.python.util import _pywrap_util_port

    info = dict(tf.sysconfig.get_build_info())
    return {
        "is_cuda_build": bool(info.get("is_cuda_build", False)),
        "onednn_enabled": bool(_pywrap_util_port.IsMklEnabled()),
    }


def _inventory_only(payload: dict[str, Any]) -> dict[str, Any]:
    """Report this process's threads without importing TensorFlow (used in tests)."""
    del payload
    snapshot: ThreadInventory = inventory()
    return {"affinity": sorted(os.sched_getaffinity(0)), "inventory": snapshot.as_dict()}


def _call(payload: dict[str, Any]) -> dict[str, Any]:
    """Import a module-level function by name, call it and hand back what it returned."""
    folder = payload.get("path")
    if folder and folder not in sys.path:
        sys.path.append(folder)  # after the standard library and site-packages
    if "source" in payload:
        # A function of the parent's __main__: define it again from its source, at its
        # own line numbers so that a traceback points into the parent's script.
        namespace: dict[str, Any] = {"__name__": "__tfthreads_task__"}
        padded = "\n" * (int(payload.get("line", 1)) - 1) + payload["source"]
        flags = __future__.annotations.compiler_flag
        code = compile(padded, payload.get("filename", "<task>"), "exec", flags, dont_inherit=True)
        exec(code, namespace)  # noqa: S102
        target: Any = namespace[payload["qualname"]]
    else:
        target = importlib.import_module(payload["module"])
        for part in payload["qualname"].split("."):
            target = getattr(target, part)
    return {"value": target(**payload.get("arguments", {}))}


def _snippet(payload: dict[str, Any]) -> dict[str, Any]:
    """Run a code snippet as ``__main__``; hand back its prints, exit code and ``result``."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    printed = io.StringIO()
    exit_code = 0
    with contextlib.redirect_stdout(printed):
        try:
            exec(compile(payload["code"], "<snippet>", "exec"), namespace)  # noqa: S102
        except SystemExit as stop:
            exit_code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if stop.code is not None and not isinstance(stop.code, int):
                print(stop.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - reported like an uncaught exception in python -c
            traceback.print_exc(file=sys.stderr)
            exit_code = 1
    sys.stderr.flush()
    data = namespace.get("result")
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        data = None
    return {"stdout": printed.getvalue(), "exit": exit_code, "data": data}


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "call": _call,
    "check_workloads": _check_workloads,
    "measure": _measure,
    "observe_pools": _observe_pools,
    "inventory": _inventory_only,
    "snippet": _snippet,
}


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
