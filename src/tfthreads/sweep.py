"""Sweep a grid of thread settings, one fresh process per setting, and keep every result.

Each result is appended to a JSON-lines file the moment it exists, so a crash, a kill or
Ctrl-C loses at most the setting that was running, and a later call with the same file
resumes where the last one stopped. A child that crashes, is killed, runs out of memory
or hangs past its timeout is recorded as failed, with the reason, and the sweep goes on.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfthreads.errors import SettingError
from tfthreads.isolation import WorkerError
from tfthreads.measure import measure_many
from tfthreads.options import MeasureOptions
from tfthreads.recommend import GOAL
from tfthreads.results import Failure, Measurement, Result, result_from_dict
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import WorkloadSpec, parse_workload

__all__ = ["SweepResult", "grid", "sweep", "writable_file"]

_TABLE_COLUMNS = (
    ("workload", "{}", 14),
    ("intra_op", "{}", 8),
    ("inter_op", "{}", 8),
    ("median_ms", "{:.3f}", 10),
    ("iqr_ms", "{:.3f}", 8),
    ("p99_ms", "{:.3f}", 9),
    ("throughput", "{:.1f}", 11),
    ("cpu_per_wall", "{:.2f}", 12),
    ("status", "{}", 7),
)


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


_Key = tuple[str, int, int, int]


def _key(workload: WorkloadSpec, settings: ThreadSettings, processes: int) -> _Key:
    return (workload.name, settings.intra_op, settings.inter_op, processes)


def _key_of(result: Result) -> _Key:
    if isinstance(result, Failure):
        return _key(result.workload, result.settings, result.processes)
    return _key(result.workload, result.settings, len(result.processes))


@dataclass
class SweepResult:
    """The results of a sweep: one per workload and setting, measured or failed.

    Attributes
    ----------
    rows : list of tfthreads.results.Measurement or tfthreads.results.Failure
        In grid order; :meth:`Measurement.row() <tfthreads.results.Measurement.row>` and
        :meth:`Failure.row() <tfthreads.results.Failure.row>` give flat dictionaries.
    path : Path or None
        The JSON-lines file the results were written to.
    """

    rows: list[Result] = field(default_factory=list)
    path: Path | None = None

    @property
    def ok(self) -> list[Measurement]:
        """The results that were measured."""
        return [row for row in self.rows if isinstance(row, Measurement)]

    @property
    def failed(self) -> list[Failure]:
        """The results whose child failed."""
        return [row for row in self.rows if isinstance(row, Failure)]

    def best(self, goal: str = "latency", workload: str | None = None) -> Measurement:
        """Return the best measurement: lowest median time, or highest throughput.

        Raises
        ------
        SettingError
            For an unknown goal, or when nothing was measured.
        """
        GOAL.check("goal", goal)
        rows = [r for r in self.ok if workload is None or r.workload.name == workload]
        if not rows:
            raise SettingError("best: no measured rows to choose from")
        if goal == "latency":
            return min(rows, key=lambda r: r.wall.median)
        return max(rows, key=lambda r: r.throughput)

    def table(self) -> str:
        """Format the rows as a fixed-width text table."""
        header = "".join(f"{name:>{width}} " for name, _, width in _TABLE_COLUMNS)
        lines = [header.rstrip(), "-" * len(header.rstrip())]
        for result in self.rows:
            row = result.row()
            cells = []
            for name, fmt, width in _TABLE_COLUMNS:
                value = row.get(name)
                text = "-" if value is None else fmt.format(value)
                cells.append(f"{text[:width]:>{width}} ")
            line = "".join(cells).rstrip()
            if isinstance(result, Failure):
                line += f"  {result.reason}: {result.error[:60]}"
            lines.append(line)
        return "\n".join(lines)

    def to_dataframe(self) -> Any:
        """Return the flat rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([result.row() for result in self.rows])

    def plot(
        self, ax: Any = None, *, metric: str = "median_ms", workload: str | None = None
    ) -> Any:
        """Plot ``metric`` against intra-op threads, one line per inter-op size.

        Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        rows = [r.row() for r in self.ok if workload is None or r.workload.name == workload]
        for inter in sorted({r["inter_op"] for r in rows}):
            points = sorted((r["intra_op"], r[metric]) for r in rows if r["inter_op"] == inter)
            ax.plot(*zip(*points, strict=True), marker="o", label=f"inter_op={inter}")
        ax.set_xlabel("intra_op threads")
        ax.set_ylabel(metric)
        ax.legend()
        return ax


def _load(path: Path) -> list[Result]:
    results = []
    with path.open() as lines:
        for line in lines:
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill mid-write; that setting runs again
            result = result_from_dict(data)
            if result is not None:
                results.append(result)
    return results


def _append(path: Path, result: Result) -> None:
    with path.open("a") as out:
        out.write(json.dumps(result.as_dict()) + "\n")
        out.flush()
        os.fsync(out.fileno())


def writable_file(path: str | os.PathLike[str], *, name: str = "results") -> Path:
    """Create ``path`` (and its folder) if needed, or say in one line why it cannot be.

    ``name`` is what the message calls the path, such as ``"--output"`` on the CLI.
    """
    target = Path(path)
    if target.is_dir():
        raise SettingError(f"{name}: {str(path)!r} is a folder; expected a file path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    except OSError as error:
        raise SettingError(f"{name}: cannot write {str(path)!r}: {error.strerror}") from None
    return target


def _open_results(results: str | os.PathLike[str] | None, resume: bool) -> Path | None:
    if results is None:
        return None
    path = Path(results)
    if path.is_file() and not resume:
        path.unlink()
    return writable_file(path)


def sweep(
    workload: str | WorkloadSpec | Sequence[str | WorkloadSpec],
    settings_grid: Iterable[ThreadSettings],
    *,
    options: MeasureOptions | None = None,
    results: str | os.PathLike[str] | None = None,
    resume: bool = True,
    progress: bool | None = None,
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
    results : path-like, optional
        JSON-lines file that receives each result as soon as it is known.
    resume : bool
        Keep the results already in ``results`` and skip their settings.
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.

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
    path = _open_results(results, resume)
    done = {_key_of(result): result for result in (_load(path) if path else [])}
    show = sys.stderr.isatty() if progress is None else progress
    todo: Iterable[ThreadSettings] = settings_list
    if show:
        from tqdm import tqdm  # only on a terminal: captured output stays clean

        todo = tqdm(settings_list, desc="settings", file=sys.stderr)
    for settings in todo:
        if all(_key(spec, settings, options.processes) in done for spec in specs):
            continue
        for result in _run_one(specs, settings, options):
            done[_key_of(result)] = result
            if path:
                _append(path, result)
    ordered = [
        done[key]
        for settings in settings_list
        for spec in specs
        if (key := _key(spec, settings, options.processes)) in done
    ]
    return SweepResult(rows=ordered, path=path)


def _run_one(
    specs: Sequence[WorkloadSpec], settings: ThreadSettings, options: MeasureOptions
) -> list[Result]:
    try:
        return list(measure_many(specs, settings, options=options))
    except WorkerError as error:
        return [
            Failure(spec, settings, options.processes, error.reason, str(error)) for spec in specs
        ]
