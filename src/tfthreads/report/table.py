"""The text of a report's tables: each group's heading and cells, as text and the site show them."""

from __future__ import annotations

from collections.abc import Sequence

from tfthreads._text_table import text_table
from tfthreads.report.rows import ReportRow

# The ratio of each goal in words, the same orientation for both; documented where
# tfthreads.report re-exports it as RATIO_MEANS.
RATIO_MEANS = {
    "latency": "the baseline's median step time over this setting's",
    "throughput": "this setting's items per second over the baseline's",
}


def group_heading(row: ReportRow) -> list[str]:
    """Return the heading of the table ``row`` belongs to: scenario, conditions, ratio."""
    under = (
        [f"  measured under: {row.conditions} (compared only with rows measured under the same)"]
        if row.conditions
        else []
    )
    return [
        f"{row.scenario}: {row.title}",
        *under,
        f"  {row.workload}, {row.processes} process(es), goal {row.goal}: "
        f"ratio = times better than {row.baseline}"
        + (" (the best)" if row.best_is_baseline else "")
        + f", {RATIO_MEANS[row.goal]}; above 1 is better",
    ]


def table_cells(rows: Sequence[ReportRow]) -> tuple[list[str], list[list[str]]]:
    """Return the head and the cells of one group's table, as text and the site show it.

    Examples
    --------
    >>> table_cells([])[0]
    ['setting', 'rounds', 'median ms', 'items/s', 'ratio [95 % CI]', 'verdict']
    """
    unit = rows[0].unit if rows else "items/s"
    head = ["setting", "rounds", "median ms", unit, "ratio [95 % CI]", "verdict"]
    body = [
        [
            row.setting,
            str(row.rounds) + (f" ({row.failed} failed)" if row.failed else ""),
            f"{row.median_ms:.4g}",
            f"{row.throughput:.4g}",
            row.ratio_text(),
            "" if row.verdict == "baseline" else row.verdict,
        ]
        for row in rows
    ]
    return head, body


def table_lines(rows: Sequence[ReportRow]) -> list[str]:
    """Return one group's table as lines of text, indented under its heading."""
    head, body = table_cells(rows)
    return text_table(head, body, left=[0, 5], indent="  ")
