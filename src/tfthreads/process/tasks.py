"""The tasks a worker runs (imports TensorFlow): observe pools, measure, check, call, snippet.

Each task takes its JSON payload and returns JSON data; :mod:`tfthreads.process.worker`
runs them. The ``measure`` task's payload and reply are typed in
:mod:`tfthreads.process.messages`.
"""

from __future__ import annotations
import __future__

import contextlib
import importlib
import io
import json
import os
import select
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from tfthreads.inventory import ThreadInventory, diff, inventory
from tfthreads.pool_identity import identify_pools
from tfthreads.process.messages import (
    SIBLING_FAILED,
    Barrier,
    BuildInfo,
    MeasureReply,
    MeasureRequest,
    Turns,
    WorkloadReply,
)
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology

__all__ = ["TASKS"]


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


def _signal(folder: Path, name: str) -> None:
    """Leave the signal ``name`` (a file ``<name>-<pid>``) and wake whoever waits for it."""
    (folder / f"{name}-{os.getpid()}").touch()
    _wake(folder, f"wake-{name}-*")


def _wake(folder: Path, pattern: str) -> None:
    """Write a byte into every waiter's pipe that matches ``pattern``."""
    for pipe in folder.glob(pattern):
        try:
            descriptor = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # its waiter has just gone: it saw the signal's file
            continue
        try:
            os.write(descriptor, b"!")
        except BlockingIOError:  # a full pipe already wakes its reader
            pass
        except BrokenPipeError:  # its waiter closed the pipe after we opened it: it is done
            pass
        finally:
            os.close(descriptor)


def _check_siblings(folder: Path, deadline: float, timeout: float, what: str) -> None:
    """Raise if a sibling worker failed (it left ``abort``) or the wait passed its deadline."""
    if (folder / "abort").exists():
        raise RuntimeError(f"{what}: {SIBLING_FAILED}")
    if time.monotonic() > deadline:
        raise TimeoutError(f"{what}: sibling workers did not get there within {timeout:g} s")


def _wait_for(folder: Path, name: str, count: int, timeout: float, what: str) -> None:
    """Wait, asleep, until ``count`` siblings left the signal ``name`` in ``folder``.

    The waiter sleeps on a named pipe of its own, ``wake-<name>-<pid>``, that the
    signalling sibling writes to. Its files are looked at only when it is woken, or every
    50 ms for an abort or the deadline. The pipe exists before the first look, and a
    sibling leaves its file before it wakes anyone, so no wake-up is lost. Looking every
    millisecond instead made a waiting worker take a CPU from the one whose turn it was
    a thousand times a second.
    """
    deadline = time.monotonic() + timeout
    pipe = folder / f"wake-{name}-{os.getpid()}"
    os.mkfifo(pipe)
    # Read and write (Linux): the open does not wait for a writer, and the pipe never
    # reads as closed between two siblings' wake-ups.
    descriptor = os.open(pipe, os.O_RDWR | os.O_NONBLOCK)
    try:
        while len(list(folder.glob(f"{name}-*"))) < count:
            _check_siblings(folder, deadline, timeout, what)
            if select.select([descriptor], [], [], 0.05)[0]:
                os.read(descriptor, 4096)
    finally:
        os.close(descriptor)
        pipe.unlink(missing_ok=True)


def _wait_at_barrier(barrier: Barrier | None, index: int, stage: str = "ready") -> None:
    """Wait until every sibling worker reached ``stage`` of workload ``index``.

    ``"ready"``: warmed up, so that their timed loops overlap. ``"finished"``: done with
    the timed loop, so that no worker builds its next workload, takes its inventory or
    exits while a sibling still times its last chunk.
    """
    if not barrier:
        return
    folder = Path(barrier["dir"])
    _signal(folder, f"{stage}-{index}")
    _wait_for(
        folder,
        f"{stage}-{index}",
        int(barrier["count"]),
        float(barrier.get("timeout", 120)),
        "barrier",
    )


def _chunks(turns: Turns | None, index: int, repeats: int) -> Iterator[int]:
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
            _wait_for(folder, f"done-{index}-{turn - 1}", group, timeout, "turns")
        else:
            _wait_until_parked(folder, index, (slots - 1) * group, timeout)
        yield repeats // chunks + (1 if chunk < repeats % chunks else 0)
        _signal(folder, f"done-{index}-{turn}")


#: How long the first turn waits once its siblings sleep, for their last Python work
#: and their pools' spinning threads to stop before its first timed step.
_SETTLE_SECONDS = 0.02


def _wait_until_parked(folder: Path, index: int, count: int, timeout: float) -> None:
    """Before the first turn of workload ``index``: wait until ``count`` siblings sleep.

    Every other slot waits on a pipe of its own (``wake-done-<index>-...``) for its first
    turn. Starting while they still left the barrier and made those pipes timed the
    first chunk beside their work, and the setting that came first in a round measured
    slower (``benchmarks/README.md``, the engine benchmark's self-comparison).
    """
    deadline = time.monotonic() + timeout
    while len(list(folder.glob(f"wake-done-{index}-*"))) < count:
        _check_siblings(folder, deadline, timeout, "turns")
        time.sleep(0.001)
    if count:
        time.sleep(_SETTLE_SECONDS)


def _cpu_by_thread(snapshot: ThreadInventory) -> dict[int, float]:
    return {thread.tid: thread.cpu_seconds for thread in snapshot.threads}


def _measure(payload: dict[str, Any]) -> MeasureReply:
    """Time each workload's step under one set of thread settings.

    A failure tells the siblings that take turns with this worker (``abort``), so that
    they stop instead of waiting for a turn that will not come.
    """
    try:
        return _measure_steps(cast(MeasureRequest, payload))
    except BaseException:
        if payload.get("turns"):
            folder = Path(payload["turns"]["dir"])
            (folder / "abort").touch()
            _wake(folder, "wake-*")
        raise


def _measure_steps(payload: MeasureRequest) -> MeasureReply:
    from tfthreads.process.steps import build_step
    from tfthreads.workloads import WorkloadSpec

    settings = ThreadSettings(
        intra_op=int(payload.get("intra_op", 0)), inter_op=int(payload.get("inter_op", 0))
    )
    repeats, warmup = int(payload["repeats"]), int(payload["warmup"])
    before_import = inventory()
    import tensorflow as tf

    after_import = inventory()
    settings.apply()
    results: list[WorkloadReply] = []
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
        _wait_at_barrier(payload.get("barrier"), index, "finished")
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

    from tfthreads.process.steps import build_step
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


def _build_info(tf: Any) -> BuildInfo:
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


#: The worker's tasks by name: each takes its JSON payload and returns JSON data.
TASKS: dict[str, Callable[[dict[str, Any]], Mapping[str, object]]] = {
    "call": _call,
    "check_workloads": _check_workloads,
    "measure": _measure,
    "observe_pools": _observe_pools,
    "inventory": _inventory_only,
    "snippet": _snippet,
}
