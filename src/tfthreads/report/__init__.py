"""Turn results files into one table: each setting against its scenario's baseline.

A results file (:mod:`tfthreads.results_file`) written by ``tfthreads sweep``,
``tfthreads tune`` or ``benchmarks/bench_many_core.py``, on this machine or another, is
read with :func:`load_report`, which checks it and refuses, in one line naming the file,
anything that is not such a file. Its measurements are grouped by *scenario* (settings
compared with each other), workload and goal; per setting the report gives the rounds,
the geometric mean over rounds of the median step time and of the throughput, and how
many times better than the scenario's baseline it is, with its 95 % interval paired by
round, and a verdict. It is the comparison model of :class:`tfthreads.compare.Comparison`:
each round's :func:`~tfthreads.results.score` (higher is better), the ratio and interval
of :func:`tfthreads.stats.ratio_interval`, and
:attr:`~tfthreads.stats.RatioInterval.verdict`; above 1 is better for latency and
throughput alike, so ``tfthreads tune`` and ``tfthreads report`` print the same numbers
for the same rounds.

Rows may say where they belong: ``scenario`` (a key), ``round`` (from 1), ``label``
(the setting's name) and ``goal``. A ``run.scenarios`` list in the header may give each
scenario a ``title``, ``goals`` (workload name to goal), a ``baseline`` (``"first"``
setting of its ``settings`` list, or the ``"best"``) and the order of its ``settings``.
Rows that say nothing (a ``sweep`` or a ``tune``) form one scenario per file, named after
the command; the n-th measurement of a setting is its round n; the baseline is
TensorFlow's defaults where measured; the goal is the header's ``run.goal``, else
latency. Of a ``tune``, only the final comparison is shown (its screening runs are not
paired in rounds).

TensorFlow is not imported by this package, so the documentation build can use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tfthreads.errors import SettingError
from tfthreads.report import rows as _rows
from tfthreads.report import table as _table
from tfthreads.report.rows import ReportRow
from tfthreads.report.scenarios import compare_scenarios
from tfthreads.report.source import Source, read_source
from tfthreads.report.table import group_heading, table_cells, table_lines

__all__ = ["RATIO_MEANS", "VERDICTS", "Report", "ReportRow", "Source", "load_report", "table_cells"]


# Defined where the rows and tables use them; documented here, where autodoc finds their
# ``#:`` comments.

#: The verdicts of a row against its baseline.
VERDICTS = _rows.VERDICTS
#: The ratio of each goal in words, the same orientation for both.
RATIO_MEANS = _table.RATIO_MEANS

_COLORS = {
    "baseline": "0.3",
    "better": "tab:green",
    "worse": "tab:red",
    "indistinguishable": "tab:blue",
    "inconclusive": "0.6",
    "one round: no interval": "0.6",
    "no round in common with the baseline": "0.6",
}


@dataclass(frozen=True)
class Report:
    """The table of one or more results files.

    Attributes
    ----------
    sources : tuple of Source
        The files, in the order given.
    rows : tuple of ReportRow
        Per file, scenario, workload and goal, one row per setting, baseline first.
    """

    sources: tuple[Source, ...]
    rows: tuple[ReportRow, ...]

    def groups(self) -> dict[tuple[str, str, str, str, str], list[ReportRow]]:
        """Return the rows per table (source, scenario, workload, goal, conditions), in order."""
        out: dict[tuple[str, str, str, str, str], list[ReportRow]] = {}
        for row in self.rows:
            out.setdefault(row.group, []).append(row)
        return out

    def table(self) -> str:
        """Return the report as text: per file its machine, then one table per group."""
        lines: list[str] = []
        for source in self.sources:
            lines.append(source.describe())
            for (name, *_), rows in self.groups().items():
                if name != source.name:
                    continue
                lines += ["", *group_heading(rows[0]), *table_lines(rows)]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary: ``sources`` and ``rows``."""
        return {
            "sources": [source.as_dict() for source in self.sources],
            "rows": [row.as_dict() for row in self.rows],
        }

    def plot(self, group: tuple[str, str, str, str, str] | None = None, ax: Any = None) -> Any:
        """Draw each setting's ratio with its interval, for one group of rows.

        ``group`` is one key of :meth:`groups` (the first by default); ``ax`` is the
        matplotlib Axes to draw on (a new figure by default). Returns the matplotlib
        Figure.
        """
        import matplotlib.pyplot as plt

        groups = self.groups()
        if not groups:
            raise SettingError("no rows to plot")
        rows = groups[group if group is not None else next(iter(groups))]
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.4))
        labels = [row.setting for row in rows]
        ratios = [1.0 if row.ratio is None else row.ratio for row in rows]
        errors = [
            [
                r - (row.low if row.low is not None else r)
                for r, row in zip(ratios, rows, strict=True)
            ],
            [
                (row.high if row.high is not None else r) - r
                for r, row in zip(ratios, rows, strict=True)
            ],
        ]
        positions = list(range(len(rows)))
        colors = [_COLORS[row.verdict] for row in rows]
        ax.errorbar(ratios, positions, xerr=errors, fmt="none", ecolor="0.4", capsize=3)
        ax.scatter(ratios, positions, c=colors, zorder=3)
        ax.axvline(1.0, color="0.6", linestyle="--", linewidth=1)
        ax.set_xscale("log")  # ratios: 0.5 and 2 lie as far from 1
        for verdict in dict.fromkeys(row.verdict for row in rows):
            ax.scatter([], [], c=_COLORS[verdict], label=verdict)
        ax.legend(fontsize="small", loc="best")
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        first = rows[0]
        ax.set_xlabel(f"times better than {first.baseline}, {first.goal} (95 % interval)")
        ax.set_title(f"{first.scenario}: {first.workload}", fontsize="medium")
        ax.figure.tight_layout()
        return ax.figure


def load_report(paths: Iterable[str | os.PathLike[str]]) -> Report:
    """Read results files and compare, per scenario, every setting with its baseline.

    Parameters
    ----------
    paths : iterable of path-like
        Results files, such as those ``tfthreads sweep --output`` writes.

    Returns
    -------
    Report
        The files' machines and the rows of the table.

    Raises
    ------
    SettingError
        One line naming the first file that is not a valid results file, and why.
    """
    sources: list[Source] = []
    rows: list[ReportRow] = []
    paths = list(paths)
    if not paths:
        raise SettingError("got no results files; expected at least one")
    # The same file given twice is read once; files that share a name are told apart
    # by their paths as given, so their rows never land in one table.
    seen: set[Path] = set()
    unique = []
    for path in paths:
        if Path(path).resolve() not in seen:
            seen.add(Path(path).resolve())
            unique.append(path)
    names = [Path(p).name for p in unique]
    for path in unique:
        source, run, entries = read_source(path)
        if names.count(Path(path).name) > 1:
            source = replace(source, label=os.fspath(path))
        sources.append(source)
        rows += compare_scenarios(path, source, run, entries)
    return Report(sources=tuple(sources), rows=tuple(rows))
