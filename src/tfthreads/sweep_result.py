"""What a sweep returns: :class:`SweepResult`, its rows and how to read them.

:func:`tfthreads.sweep.sweep` makes one, and :func:`tfthreads.tune.tune` keeps every
measurement it made in one (:attr:`tfthreads.tune_result.TuneResult.tried`); the type is
here so that neither reaches into the other for it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfthreads._text import one_line
from tfthreads._text_table import text_table
from tfthreads.errors import SettingError
from tfthreads.options import GOAL
from tfthreads.results import Failure, Measurement, Result, score

__all__ = ["SweepResult"]

_TABLE_COLUMNS = (
    ("workload", "{}"),
    ("intra_op", "{}"),
    ("inter_op", "{}"),
    ("median_ms", "{:.3f}"),
    ("iqr_ms", "{:.3f}"),
    ("p99_ms", "{:.3f}"),
    ("throughput", "{:.1f}"),
    ("cpu_per_wall", "{:.2f}"),
    ("status", "{}"),
)
#: What a sweep's rows can and cannot tell, printed under its table.
_ONE_PROCESS_NOTE = (
    "Each row is one process per setting: iqr_ms is the spread of steps within it, not "
    "between processes, and fresh processes of one setting can differ by more than "
    "settings do on a shared machine, so rows closer than that are not ranked. To rank "
    "settings, compare them in interleaved rounds with intervals: tfthreads tune WORKLOAD "
    "--intra-op LIST --inter-op LIST (or tfthreads.compare.compare)."
)


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
    reused : int
        Results taken from that file instead of measured again.
    """

    rows: list[Result] = field(default_factory=list)
    path: Path | None = None
    reused: int = 0

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
        return max(rows, key=lambda r: score(r, goal))

    def table(self) -> str:
        """Format the rows as a fixed-width text table, and say how far to trust them.

        A sweep measures each setting in one process: the note under the table says
        that it cannot separate settings closer than the machine's swings between
        processes, and what can.
        """
        body = [
            [
                "-" if row.get(name) is None else fmt.format(row.get(name))
                for name, fmt in _TABLE_COLUMNS
            ]
            for row in (result.row() for result in self.rows)
        ]
        head = [name for name, _ in _TABLE_COLUMNS]
        formatted = text_table(head, body)
        lines = formatted[:2]
        for result, line in zip(self.rows, formatted[2:], strict=True):
            lines.append(line)
            if isinstance(result, Failure):
                # In full (JSON has it verbatim), wrapped, without terminal escape codes.
                message = f"{result.reason}: {one_line(result.error)}"
                lines += textwrap.wrap(
                    message, width=96, initial_indent="    ", subsequent_indent="      "
                )
        if len(self.ok) > len({row.workload.name for row in self.ok}):
            lines += textwrap.wrap(_ONE_PROCESS_NOTE, width=96)
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
