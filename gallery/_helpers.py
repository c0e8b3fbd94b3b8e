"""What the gallery examples share: the machine they ran on, tables, and noise checks.

The examples import this module as ``_helpers`` (sphinx-gallery's local-module pattern):
sphinx-gallery puts the examples' folder on ``sys.path`` while it runs them, and Python
does the same for ``python plot_NN_name.py``. The gallery's header offers it for download
next to the examples.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tfthreads.provenance import describe_machine
from tfthreads.report import load_report, table_cells

#: Results files committed from other machines (rendered on the site's results page too).
RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"

__all__ = [
    "Table",
    "compare",
    "machine",
    "overlaps",
    "pair",
    "pool_bars",
    "pools",
    "show",
    "spread",
    "timing",
]


class Table:
    """Rows under a header: an HTML table on a page or in a notebook, aligned text elsewhere.

    Parameters
    ----------
    header : sequence of str
        The column names.
    rows : iterable of sequences
        One value per column. Floats are written with ``digits`` decimals (2 unless
        ``digits`` names the column), ``None`` as ``-``; columns of numbers align right.
    note : str
        Text under the table, such as what its columns mean.
    digits : mapping of str to int or str, optional
        Decimals by column name, or a format spec such as ``"g"``.

    Examples
    --------
    >>> print(Table(["pool", "threads"], [["intra-op", 4], ["inter-op", 2.5]], note="n"))
    pool      threads
    -----------------
    intra-op     4
    inter-op     2.50
    n
    """

    def __init__(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        note: str = "",
        digits: Mapping[str, int | str] | None = None,
    ) -> None:
        self.header = list(header)
        self.rows = [list(row) for row in rows]
        self.note = note
        self.digits = dict(digits or {})

    def _cells(self) -> list[list[str]]:
        def cell(value: Any, column: str) -> str:
            if value is None:
                return "-"
            if isinstance(value, float):
                spec = self.digits.get(column, 2)
                return format(value, spec if isinstance(spec, str) else f".{spec}f")
            return str(value)

        return [[cell(v, c) for v, c in zip(row, self.header, strict=True)] for row in self.rows]

    def _numeric(self) -> list[bool]:
        """Which columns hold only numbers (they align right)."""
        columns = zip(*self.rows, strict=True) if self.rows else [()] * len(self.header)
        return [
            bool(values) and all(isinstance(v, int | float) or v is None for v in values)
            for values in columns
        ]

    def __str__(self) -> str:
        cells = self._cells()
        widths = [max(len(x) for x in column) for column in zip(self.header, *cells, strict=True)]
        numeric = self._numeric()

        def line(values: Sequence[str]) -> str:
            parts = [
                v.rjust(w) if right else v.ljust(w)
                for v, w, right in zip(values, widths, numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        return "\n".join([line(self.header), rule, *map(line, cells), *self.note.splitlines()])

    __repr__ = __str__

    @classmethod
    def of(cls, records: Iterable[Mapping[str, Any]], **options: Any) -> Table:
        """Build a table from dicts that share their keys: the keys are the header."""
        records = list(records)
        header = list(records[0]) if records else []
        return cls(header, [[record[key] for key in header] for record in records], **options)

    def _repr_html_(self) -> str:
        numeric = self._numeric()

        def row(tag: str, values: Sequence[str]) -> str:
            items = (
                f'<{tag} class="{"text-right" if right else "text-left"}">{html.escape(v)}</{tag}>'
                for v, right in zip(values, numeric, strict=True)
            )
            return f"<tr>{''.join(items)}</tr>"

        body = "".join(row("td", values) for values in self._cells())
        table = (
            '<table class="docutils align-default">'
            f"<thead>{row('th', self.header)}</thead><tbody>{body}</tbody></table>"
        )
        note = "<br>".join(html.escape(line) for line in self.note.splitlines())
        return table + (f"<p>{note}</p>" if note else "")


def show(table: Table) -> Table | None:
    """Return ``table`` where the page or notebook renders it as HTML; print it elsewhere.

    Make ``show(...)`` the last line of a cell: sphinx-gallery and Jupyter display the
    value of a cell's last expression, a script run with ``python`` does not.
    """
    if "sphinx_gallery" in sys.modules or "ipykernel" in sys.modules:
        return table
    print(table)
    return None


def observe_all(observe: Callable[[Any], Any], cases: Iterable[Any]) -> list[Any]:
    """Run ``observe(case)`` for every case, two at a time where the machine has two CPUs.

    Only for observations that time nothing (which threads start, what a call raises):
    each case still runs in its own fresh process, and running two at once only overlaps
    their TensorFlow imports. Timed measurements always run one at a time.
    """
    workers = max(1, min(2, len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(observe, cases))


def committed(scenario: str, file: str = "many_core.jsonl") -> list[Table]:
    """Tables of one scenario of a results file committed from another machine.

    Nothing runs: the rows are read from ``docs/results/<file>`` with the statistics of
    ``tfthreads report``, and each table's note names the machine, the date and the
    TensorFlow release they were measured with, so they are never read as this machine's.
    """
    report = load_report([RESULTS / file])
    source = report.sources[0]
    tables = []
    for (_, key, workload, goal), rows in report.groups().items():
        if key != scenario:
            continue
        head, body = table_cells(rows)
        quantity = "median step time" if goal == "latency" else "throughput, all processes"
        note = (
            f"Not this machine: {source.machine}; measured {source.date}.\n"
            f"{rows[0].title}: {workload}, {rows[0].processes} process(es); ratio = "
            f"{quantity} / that of {rows[0].baseline}, 95 % interval over interleaved rounds."
        )
        tables.append(Table(head, body, note=note))
    if not tables:
        raise ValueError(f"{file}: no scenario {scenario!r}")
    return tables


def machine() -> Table:
    """Describe the machine this runs on: CPU, CPUs and budget, software."""
    parts = describe_machine(sep="\n").splitlines()
    return Table(["", "measured on"], zip(["CPU", "CPUs", "software"], parts, strict=True))


def overlaps(a: Any, b: Any) -> bool:
    """Whether the interquartile ranges of two measurements' step times overlap.

    ``a`` and ``b`` are :class:`~tfthreads.measure.Measurement` objects or their rows
    (dicts with ``"wall": {"q1": ..., "q3": ...}``).
    """
    (a1, a3), (b1, b3) = _quartiles(a), _quartiles(b)
    return a1 <= b3 and b1 <= a3


def compare(a: Any, b: Any) -> str:
    """Say how ``a``'s median step time compares with ``b``'s, given the noise."""
    if overlaps(a, b):
        return "within the noise of"
    return "slower than" if a.wall.median > b.wall.median else "faster than"


def timing(m: Any, base: Any = None) -> dict[str, Any]:
    """Columns that describe one measurement's step time, and its speed-up over ``base``."""
    speedup = {} if base is None else {"speedup": base.wall.median / m.wall.median}
    return {
        "median ms": m.wall.median * 1e3,
        "IQR ms": m.wall.iqr * 1e3,
        "p99 ms": m.wall.p99 * 1e3,
        **speedup,
        "CPU/wall": m.cpu.median / m.wall.median,
        "busy thr": m.row()["threads_active"],
    }


def spread(measurements: Iterable[Any], f: Any = None) -> tuple[list[float], list[Any]]:
    """Medians of step times and error bars from the first to the third quartile.

    ``f`` turns seconds into what the axis shows: milliseconds unless given, or a rate
    or a speed-up (which turn the quartiles round). Returns ``(centres, yerr)`` for
    ``errorbar``, ``bar`` or ``barh``.
    """
    f = f or (lambda seconds: seconds * 1e3)
    centres, low, high = [], [], []
    for m in measurements:
        q1, q3 = sorted((f(m.wall.q1), f(m.wall.q3)))
        centres.append(f(m.wall.median))
        low.append(centres[-1] - q1)
        high.append(q3 - centres[-1])
    return centres, [low, high]


def _quartiles(measured: Any) -> tuple[float, float]:
    if isinstance(measured, Mapping):
        return measured["wall"]["q1"], measured["wall"]["q3"]
    return measured.wall.q1, measured.wall.q3


def pair(a: object, b: object) -> str:
    """Write two values as ``"a / b"`` (intra-op / inter-op, in every table here)."""
    return f"{a} / {b}"


def pools(m: Any) -> str:
    """Write the intra-op / inter-op pool threads that a measurement's runtime created."""
    return pair(m.observed_pools["intra_op"], m.observed_pools["inter_op"])


def pool_bars(
    ax: Any,
    labels: Sequence[str],
    observed: Sequence[tuple[int, int]],
    expected: Sequence[tuple[int, int]],
    *,
    bar_label: str = "{} observed",
    tick_label: str = "expected",
) -> None:
    """Bars of intra-op and inter-op threads per label, with black ticks at ``expected``."""
    import numpy as np

    x = np.arange(len(labels))
    for index, (offset, pool) in enumerate(((-0.2, "intra-op"), (0.2, "inter-op"))):
        ax.bar(x + offset, [o[index] for o in observed], 0.4, label=bar_label.format(pool))
        ax.scatter(x + offset, [e[index] for e in expected], marker="_", s=350, c="k", zorder=3)
    ax.scatter([], [], marker="_", s=200, c="k", label=tick_label)
    ax.set_xticks(x, labels, rotation=15, ha="right")
    ax.set_ylabel("threads")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", fontsize="small")
