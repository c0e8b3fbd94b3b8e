"""What is checked before measuring children start: that user code runs, and that they fit.

:func:`check_workloads` builds and runs each user workload once, so that a grid or a
comparison fails at once, in the user's terms, rather than in every child;
:func:`check_memory` refuses to start more TensorFlow processes at once than memory can
hold (:func:`processes_that_fit`). :mod:`tfthreads.measure` makes both checks and keeps
these names importable.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

import psutil

from tfthreads._checks import of_type
from tfthreads._text import one_line
from tfthreads.errors import SettingError
from tfthreads.options import MeasureOptions
from tfthreads.process import WorkerError, run_workers
from tfthreads.process.messages import SHARED_IMPORT
from tfthreads.workloads import WorkloadSpec

__all__ = [
    "CHECK_NOTICE_SECONDS",
    "PROCESS_MEMORY",
    "check_memory",
    "check_workloads",
    "processes_that_fit",
]

#: The least memory one TensorFlow process takes, in bytes. 64 processes measuring
#: ``matmul`` together used about 15 GB on a 2-CPU machine (a model takes more).
PROCESS_MEMORY = 0.24e9


def processes_that_fit(per_process: float = PROCESS_MEMORY) -> int:
    """Return how many TensorFlow processes of ``per_process`` bytes fit in free memory.

    The same margin as :func:`check_memory`, which refuses too many processes at once:
    90 % of the memory available now.
    """
    return max(1, int(0.9 * psutil.virtual_memory().available // per_process))


def check_memory(count: int, options: MeasureOptions) -> None:
    """Refuse to start ``count`` TensorFlow processes at once where memory cannot hold them.

    Raises
    ------
    SettingError
        Naming ``options.processes``, the memory they need and how many fit, when more
        than one process is to start and :func:`processes_that_fit` are fewer.
    """
    fit = processes_that_fit()
    if count < 2 or count <= fit:
        return
    available = psutil.virtual_memory().available
    together = f"{count} TensorFlow processes at once"
    if count != options.processes:
        together += f" ({options.processes} per setting)"
    raise SettingError(
        f"processes: got {options.processes}; {together} need at least "
        f"{count * PROCESS_MEMORY / 1e9:.0f} GB (about {PROCESS_MEMORY / 1e9:.2f} GB each), "
        f"more than the {available / 1e9:.0f} GB available here; at most {fit} processes fit"
    )


#: Seconds after which :func:`check_workloads` says on stderr that user code still runs.
CHECK_NOTICE_SECONDS = 10.0


def check_workloads(
    workloads: Sequence[WorkloadSpec], options: MeasureOptions | None = None
) -> float:
    """Build and run each workload once in one child, before a grid spends its time.

    Only user workloads (``module:function`` and Keras models) are checked: the
    built-ins are known to run.

    Returns
    -------
    float
        The memory one process measuring these workloads needs, in bytes: the checking
        child's peak, or :data:`PROCESS_MEMORY` when there was nothing to check or the
        child held less.

    Raises
    ------
    SettingError
        Naming the workload and what went wrong when user code cannot be imported or
        called, or a model cannot take its input shape: the user's input is wrong.
    WorkerError
        When the check itself cannot run (TensorFlow crashed, a timeout).
    """
    options = of_type("options", options, MeasureOptions)
    users = [spec for spec in workloads if spec.kind != "builtin"]
    if not users:
        return PROCESS_MEMORY
    names = ", ".join(repr(spec.name) for spec in users)
    # User code that waits for something would otherwise leave a terminal silent until
    # the timeout (300 s by default): say once what is still running, and until when.
    notice = threading.Timer(
        CHECK_NOTICE_SECONDS,
        lambda: print(
            f"tfthreads: still building and running {names} once, after "
            f"{CHECK_NOTICE_SECONDS:g} s; it is stopped after {options.timeout:g} s "
            "(--timeout, or MeasureOptions.timeout)",
            file=sys.stderr,
            flush=True,
        ),
    )
    notice.daemon = True
    notice.start()
    try:
        outcome = run_workers(
            "check_workloads",
            [{"workloads": [spec.as_dict() for spec in users]}],
            child=options.child,
            share_import=SHARED_IMPORT,
        )[0]
    finally:
        notice.cancel()
    if isinstance(outcome, WorkerError):
        raise SettingError(_check_failed(users, outcome, options.timeout)) from outcome
    problems = outcome.result["problems"]
    if problems:
        name, problem = next(iter(problems.items()))
        raise SettingError(f"workload {name!r} cannot run: {one_line(problem)}")
    return max(PROCESS_MEMORY, float(outcome.result.get("peak_memory") or 0))


def _check_failed(users: Sequence[WorkloadSpec], error: WorkerError, timeout: float) -> str:
    """Say in the user's terms how their code ended the process that checked it."""
    names = ", ".join(repr(spec.name) for spec in users)
    what = f"workload {names}" if len(users) == 1 else f"one of the workloads {names}"
    if error.reason == "timeout":
        how = (
            f"building and running it once did not finish within {timeout:g} s "
            "(is it waiting for something? --timeout, or MeasureOptions.timeout, sets the limit)"
        )
    elif error.reason == "signal":
        number = -(error.returncode or 0)
        how = f"the process building it was killed by signal {number}"
        if number in signal.valid_signals():
            how += f" ({signal.Signals(number).name})"
    elif error.reason == "exit":
        how = f"building or running it ended the process with exit code {error.returncode}"
    elif error.reason == "protocol":
        how = "building or running it ended the process before it could report (os._exit?)"
    else:
        return f"{what} cannot run: {one_line(str(error))}"
    detail = one_line(error.stderr.strip().splitlines()[-1]) if error.stderr.strip() else ""
    return f"{what} cannot run: {how}" + (f"; last line of its output: {detail}" if detail else "")
