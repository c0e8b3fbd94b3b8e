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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfthreads.errors import SettingError
from tfthreads.isolation import WorkerError
from tfthreads.measure import measure_many
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


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["workload"], row["intra_op"], row["inter_op"], row.get("processes", 1))


@dataclass
class SweepResult:
    """The rows of a sweep: one per workload and setting, measured or failed.

    Attributes
    ----------
    rows : list of dict
        Flat rows (see :meth:`tfthreads.measure.Measurement.row`) with a ``status`` of
        ``"ok"`` or ``"failed"``; failed rows have ``reason`` and ``error``.
    path : Path or None
        The JSON-lines file the rows were written to.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None

    @property
    def ok(self) -> list[dict[str, Any]]:
        """The rows that were measured."""
        return [row for row in self.rows if row["status"] == "ok"]

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The rows whose child failed."""
        return [row for row in self.rows if row["status"] == "failed"]

    def best(self, goal: str = "latency", workload: str | None = None) -> dict[str, Any]:
        """Return the best measured row: lowest median time, or highest throughput.

        Raises
        ------
        SettingError
            For an unknown goal, or when no row was measured.
        """
        rows = [r for r in self.ok if workload is None or r["workload"] == workload]
        if not rows:
            raise SettingError("best: no measured rows to choose from")
        if goal == "latency":
            return min(rows, key=lambda r: r["median_ms"])
        if goal == "throughput":
            return max(rows, key=lambda r: r["throughput"])
        raise SettingError(f"goal: got {goal!r}; expected 'latency' or 'throughput'")

    def table(self) -> str:
        """Format the rows as a fixed-width text table."""
        header = "".join(f"{name:>{width}} " for name, _, width in _TABLE_COLUMNS)
        lines = [header.rstrip(), "-" * len(header.rstrip())]
        for row in self.rows:
            cells = []
            for name, fmt, width in _TABLE_COLUMNS:
                value = row.get(name)
                text = "-" if value is None else fmt.format(value)
                cells.append(f"{text[:width]:>{width}} ")
            line = "".join(cells).rstrip()
            if row["status"] == "failed":
                line += f"  {row['reason']}: {row['error'][:60]}"
            lines.append(line)
        return "\n".join(lines)

    def to_dataframe(self) -> Any:
        """Return the rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def plot(
        self, ax: Any = None, *, metric: str = "median_ms", workload: str | None = None
    ) -> Any:
        """Plot ``metric`` against intra-op threads, one line per inter-op size.

        Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        rows = [r for r in self.ok if workload is None or r["workload"] == workload]
        for inter in sorted({r["inter_op"] for r in rows}):
            points = sorted((r["intra_op"], r[metric]) for r in rows if r["inter_op"] == inter)
            ax.plot(*zip(*points, strict=True), marker="o", label=f"inter_op={inter}")
        ax.set_xlabel("intra_op threads")
        ax.set_ylabel(metric)
        ax.legend()
        return ax


def _load(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open() as lines:
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill mid-write; that setting runs again
            if isinstance(row, dict) and "status" in row:
                rows.append(row)
    return rows


def _append(path: Path, row: Mapping[str, Any]) -> None:
    with path.open("a") as out:
        out.write(json.dumps(row) + "\n")
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
    results: str | os.PathLike[str] | None = None,
    resume: bool = True,
    repeats: int = 20,
    warmup: int = 3,
    processes: int = 1,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    timeout: float = 300.0,
    progress: bool | None = None,
) -> SweepResult:
    """Measure workloads under every setting of a grid, one fresh process per setting.

    Parameters
    ----------
    workload : str, WorkloadSpec or sequence
        What to measure; several workloads share one child per setting.
    settings_grid : iterable of ThreadSettings
        The settings to try (see :func:`grid`).
    results : path-like, optional
        JSON-lines file that receives each row as soon as it is known.
    resume : bool
        Keep the rows already in ``results`` and skip their settings.
    repeats, warmup, processes, env, cpus, timeout
        As for :func:`tfthreads.measure.measure`.
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.

    Returns
    -------
    SweepResult
        Every row, old and new, in grid order.
    """
    workloads: Sequence[str | WorkloadSpec] = (
        workload if isinstance(workload, list | tuple) else [workload]  # type: ignore[list-item]
    )
    specs = [parse_workload(w) for w in workloads]
    settings_list = list(settings_grid)
    if not settings_list:
        raise SettingError("settings_grid: got no settings; expected at least one")
    if not all(isinstance(s, ThreadSettings) for s in settings_list):
        raise SettingError(
            "settings_grid: expected ThreadSettings values (see tfthreads.sweep.grid)"
        )
    path = _open_results(results, resume)
    done = {_key(row): row for row in (_load(path) if path else [])}
    show = sys.stderr.isatty() if progress is None else progress
    todo: Iterable[ThreadSettings] = settings_list
    if show:
        from tqdm import tqdm  # only on a terminal: captured output stays clean

        todo = tqdm(settings_list, desc="settings", file=sys.stderr)
    for settings in todo:
        keys = [_key({"workload": s.name, **_settings_row(settings, processes)}) for s in specs]
        if all(key in done for key in keys):
            continue
        for row in _run_one(specs, settings, repeats, warmup, processes, env, cpus, timeout):
            done[_key(row)] = row
            if path:
                _append(path, row)
    ordered = [
        done[key]
        for settings in settings_list
        for spec in specs
        if (key := _key({"workload": spec.name, **_settings_row(settings, processes)})) in done
    ]
    return SweepResult(rows=ordered, path=path)


def _settings_row(settings: ThreadSettings, processes: int) -> dict[str, int]:
    return {"intra_op": settings.intra_op, "inter_op": settings.inter_op, "processes": processes}


def _run_one(
    specs: Sequence[WorkloadSpec],
    settings: ThreadSettings,
    repeats: int,
    warmup: int,
    processes: int,
    env: Mapping[str, str | None] | None,
    cpus: Iterable[int] | None,
    timeout: float,
) -> list[dict[str, Any]]:
    try:
        measurements = measure_many(
            specs,
            settings,
            repeats=repeats,
            warmup=warmup,
            processes=processes,
            env=env,
            cpus=cpus,
            timeout=timeout,
        )
    except WorkerError as error:
        return [
            {
                "workload": spec.name,
                **_settings_row(settings, processes),
                "status": "failed",
                "reason": error.reason,
                "error": str(error),
            }
            for spec in specs
        ]
    return [{**m.as_dict(), "status": "ok"} for m in measurements]
