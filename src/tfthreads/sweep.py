"""Sweep a grid of thread settings, one fresh process per setting, and keep every result.

Each result is appended to a results file (``tfthreads.results_file``) the moment it
exists, so a crash, a kill or Ctrl-C loses at most the setting that was running, and a
later call with the same file resumes where the last one stopped. A result is reused only
when everything that shapes it is the same (its key: the workload and its content, the
settings, the measurement options, the CPUs, the environment and TensorFlow's version);
failed results are measured again. A child that crashes, is killed, runs out of memory or
hangs past its timeout is recorded as failed, with the reason, and the sweep goes on; a
failure is pinned on the workload that caused it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tfthreads.errors import NotSavedError, SettingError
from tfthreads.measure import check_workloads, measure_many
from tfthreads.measurement_key import measurement_conditions, result_key
from tfthreads.options import MeasureOptions
from tfthreads.process import WorkerError
from tfthreads.results import Failure, Measurement, Result, result_from_dict
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings
from tfthreads.sweep_result import SweepResult
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["SweepResult", "grid", "run_description", "sweep"]


def grid(intra_op: Iterable[int], inter_op: Iterable[int]) -> list[ThreadSettings]:
    """Every combination of intra-op and inter-op sizes, each checked.

    Examples
    --------
    >>> [s.describe() for s in grid([1, 2], [1])]
    ['intra_op=1, inter_op=1', 'intra_op=2, inter_op=1']
    """
    return [
        ThreadSettings(intra_op=intra, inter_op=inter)
        for intra, inter in itertools.product(list(intra_op), list(inter_op))
    ]


def sweep(
    workload: str | WorkloadSpec | Sequence[str | WorkloadSpec],
    settings_grid: Iterable[ThreadSettings],
    *,
    options: MeasureOptions | None = None,
    results: str | os.PathLike[str] | ResultsFile | None = None,
    resume: bool = True,
    progress: bool | None = None,
    check: bool = True,
) -> SweepResult:
    """Measure workloads under every setting of a grid, one fresh process per setting.

    Parameters
    ----------
    workload : str, WorkloadSpec or sequence
        What to measure; several workloads share one child per setting.
    settings_grid : iterable of ThreadSettings
        The settings to try (see :func:`grid`).
    options : tfthreads.options.MeasureOptions, optional
        How to measure each setting, as for :func:`tfthreads.measure.measure`.
    results : path-like or ResultsFile, optional
        Results file that receives each result as soon as it is known (see
        ``tfthreads.results_file.ResultsFile``: only a new path or a results file
        is accepted, and one run at a time may write it). A file already open (the
        command line opens ``--output`` before measuring, with
        :func:`run_description`) is used as it is and left open.
    resume : bool
        Reuse the measured results already in ``results`` whose key matches
        (:func:`~tfthreads.measurement_key.result_key`); failed ones are measured again. ``False`` starts the file
        afresh (an open file was opened with its own ``resume``).
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.
    check : bool
        First run each user workload once in one child, so that code that cannot be
        imported or called, or a model given the wrong input shape, is a
        :class:`~tfthreads.errors.SettingError` instead of a grid of failures.

    Returns
    -------
    SweepResult
        Every result, old and new, in grid order.
    """
    workloads: Sequence[str | WorkloadSpec] = (
        workload if isinstance(workload, list | tuple) else [workload]  # type: ignore[list-item]
    )
    specs = [parse_workload(w) for w in workloads]
    options = MeasureOptions() if options is None else options
    if not isinstance(options, MeasureOptions):
        raise TypeError(
            f"options: got {options!r} ({type(options).__name__}); "
            "expected a tfthreads MeasureOptions or None"
        )
    settings_list = list(settings_grid)
    if not settings_list:
        raise SettingError("settings_grid: got no settings; expected at least one")
    for bad in (s for s in settings_list if not isinstance(s, ThreadSettings)):
        raise TypeError(
            f"settings_grid: got {bad!r} ({type(bad).__name__}); expected ThreadSettings "
            "values (see tfthreads.sweep.grid)"
        )
    # WorkloadSpec holds a dict, so workloads are keyed by their position.
    conditions = [measurement_conditions(spec, options) for spec in specs]
    keys = {
        (index, settings): result_key(spec, settings, options, conditions[index])
        for settings in settings_list
        for index, spec in enumerate(specs)
    }
    with _results_file(results, resume, specs, options) as file:
        done = _reusable(file, set(keys.values()))
        reused = len(done)
        if check and any(key not in done for key in keys.values()):
            check_workloads(specs, options)
        show = sys.stderr.isatty() if progress is None else progress
        todo: Iterable[ThreadSettings] = settings_list
        if show and sys.stderr.isatty():
            from tqdm import tqdm  # a bar on a terminal

            todo = tqdm(settings_list, desc="settings", file=sys.stderr)
        elif show:  # a log or a pipe: a line per setting, with the total and the time left
            todo = _progress_lines(settings_list, "sweep", "settings")
        unsaved: OSError | None = None
        for settings in todo:
            missing = [i for i in range(len(specs)) if keys[i, settings] not in done]
            measured = _run_one([specs[i] for i in missing], settings, options)
            for index, result in zip(missing, measured, strict=True):
                key = keys[index, settings]
                done[key] = result
                if file is not None and unsaved is None:
                    try:
                        file.append(
                            {**result.as_dict(), "key": key, "conditions": conditions[index]}
                        )
                    except OSError as error:  # a full disk: measure on, keep what is measured
                        unsaved = error
            if unsaved is not None:
                break
    ordered = [
        done[k] for s in settings_list for i in range(len(specs)) if (k := keys[i, s]) in done
    ]
    swept = SweepResult(rows=ordered, path=None if file is None else file.path, reused=reused)
    if unsaved is not None:
        raise NotSavedError(
            f"cannot write {unsaved.filename}: {unsaved.strerror}; it holds the rows before "
            f"that one, the {len(ordered)} measured are printed",
            swept,
        ) from unsaved
    return swept


def _progress_lines(
    items: Sequence[ThreadSettings], command: str, what: str
) -> Iterator[ThreadSettings]:
    """Yield ``items``, writing before each a line with how many are done and the time left."""
    started = time.monotonic()
    for done, item in enumerate(items):
        left = ""
        if done:
            seconds = (time.monotonic() - started) / done * (len(items) - done)
            left = (
                f"; about {seconds / 60:.0f} min left"
                if seconds >= 90
                else f"; about {seconds:.0f} s left"
            )
        print(
            f"tfthreads {command}: {done} of {len(items)} {what} measured{left}; next {item.describe()}",
            file=sys.stderr,
            flush=True,
        )
        yield item


def run_description(specs: Sequence[WorkloadSpec], options: MeasureOptions) -> dict[str, Any]:
    """Return the run that a sweep's results file describes in its header.

    A file holds one run: another run's rows are refused (see
    :class:`~tfthreads.results_file.ResultsFile`).
    """
    return {"workloads": [spec.as_dict() for spec in specs], "repeats": options.repeats}


@contextlib.contextmanager
def _results_file(
    results: str | os.PathLike[str] | ResultsFile | None,
    resume: bool,
    specs: Sequence[WorkloadSpec],
    options: MeasureOptions,
) -> Iterator[ResultsFile | None]:
    if results is None or isinstance(results, ResultsFile):  # an open file stays the caller's
        yield results
        return
    run = run_description(specs, options)
    with ResultsFile.open(results, resume=resume, run=run) as file:
        yield file


def _reusable(file: ResultsFile | None, wanted: set[str]) -> dict[str, Result]:
    """Return the measured results in ``file`` whose key is wanted; failures are retried."""
    found: dict[str, Result] = {}
    for row in [] if file is None else file.rows:
        key = row.get("key")
        if key in wanted:
            result = result_from_dict(row)
            if isinstance(result, Measurement):
                found[key] = result
    return found


def _run_one(
    specs: Sequence[WorkloadSpec], settings: ThreadSettings, options: MeasureOptions
) -> list[Result]:
    """Measure ``specs`` in one child per process; a failure is pinned on its workload.

    When the shared child fails with several workloads in it, each is measured again on
    its own, so one workload's crash never marks another's result.
    """
    if not specs:
        return []
    try:
        return list(measure_many(specs, settings, options=options))
    except WorkerError as error:
        if len(specs) > 1:
            return [result for spec in specs for result in _run_one([spec], settings, options)]
        return [Failure.of_error(specs[0], settings, options.processes, error)]
