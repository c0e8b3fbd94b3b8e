"""What the gallery examples share: the machine they ran on, tables, and verdicts.

The examples import this module as ``_helpers`` (sphinx-gallery's local-module pattern):
sphinx-gallery puts the examples' folder on ``sys.path`` while it runs them, and Python
does the same for ``python plot_NN_name.py``. The gallery's header offers it for download
next to the examples.
"""

from __future__ import annotations

import contextvars
import html
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tfthreads.compare import Comparison
from tfthreads.provenance import describe_machine
from tfthreads.report import load_report, table_cells
from tfthreads.results import Measurement
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.stats import TIE, RatioInterval, geometric_mean
from tfthreads.topology import topology

#: Results files committed from other machines (rendered on the site's results page too).
RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"

__all__ = [
    "ClaimError",
    "Table",
    "claim",
    "committed",
    "committed_rows",
    "interval",
    "machine",
    "observe_all",
    "pair",
    "pool_bars",
    "pools",
    "ratio",
    "show",
    "timing",
    "typical",
    "verdict",
    "verdict_sentence",
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
    intra-op        4
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
    their TensorFlow imports. Timed measurements always run one at a time. Each call
    sees this thread's context, so an open :func:`tfthreads.process.importing_once`
    block (the site's build opens one) serves the cases it can.
    """
    workers = max(1, min(2, len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        calls = [pool.submit(contextvars.copy_context().run, observe, case) for case in cases]
        return [call.result() for call in calls]


def committed_rows(scenario: str, file: str = "many_core.jsonl") -> list[list[Any]]:
    """Return the rows of one scenario of a results file committed from another machine.

    One list of :class:`~tfthreads.report.ReportRow` per workload and goal, in the order
    of :func:`committed`'s tables, so that an example can check what its prose says
    about them.
    """
    report = load_report([RESULTS / file])
    groups = [rows for (_, key, *_), rows in report.groups().items() if key == scenario]
    if not groups:
        raise ValueError(f"{file}: no scenario {scenario!r}")
    return groups


def committed(scenario: str, file: str = "many_core.jsonl") -> list[Table]:
    """Tables of one scenario of a results file committed from another machine.

    Nothing runs: the rows are read from ``docs/results/<file>`` with the statistics of
    ``tfthreads report``, and each table's note names the machine, the date and the
    TensorFlow release they were measured with, so they are never read as this machine's.
    """
    source = load_report([RESULTS / file]).sources[0]
    tables = []
    for rows in committed_rows(scenario, file):
        head, body = table_cells(rows)
        quantity = "median step time" if rows[0].goal == "latency" else "throughput, all processes"
        note = (
            f"Not this machine: {source.machine}; measured {source.date}.\n"
            f"{rows[0].title}: {rows[0].workload}, {rows[0].processes} process(es); ratio = "
            f"{quantity} / that of {rows[0].baseline}, 95 % interval over interleaved rounds."
        )
        tables.append(Table(head, body, note=note))
    return tables


def machine() -> Table:
    """Describe the machine this runs on: CPU, CPUs and budget, software."""
    parts = describe_machine(sep="\n").splitlines()
    return Table(["", "measured on"], zip(["CPU", "CPUs", "software"], parts, strict=True))


def interval(comparison: Comparison, candidate: int, baseline: int = 0) -> RatioInterval:
    """Return :meth:`Comparison.interval` of two settings that must both have been measured.

    Raises
    ------
    RuntimeError
        When either setting failed or fewer than 2 rounds ran (there is no interval).
    """
    found = comparison.interval(candidate, baseline)
    if found is None:
        raise RuntimeError(
            f"no interval of setting {candidate} over {baseline}: one failed or too few rounds ran"
        )
    return found


def ratio(interval: RatioInterval | None) -> str | None:
    """Write a ratio and its 95 % interval for a table cell: ``"1.23 [1.10, 1.38]"``.

    ``None`` (a cell written ``-``) where there is no interval: a failed measurement.

    Examples
    --------
    >>> ratio(RatioInterval(1.234, 1.1, 1.38, 4))
    '1.23 [1.10, 1.38]'
    """
    return None if interval is None else interval.describe()


def verdict(
    comparison: Comparison,
    candidate: int,
    baseline: int = 0,
    *,
    of: Callable[[Measurement], float] | None = None,
    names: Sequence[str] | None = None,
    one_sided: bool = False,
    **words: str,
) -> str:
    """Say in one sentence how ``candidate`` compares with ``baseline`` in a comparison.

    The interval is :meth:`~tfthreads.compare.Comparison.interval`'s, paired by round
    (above 1 favours ``candidate``); :func:`verdict_sentence` words it.

    Parameters
    ----------
    comparison : Comparison
        Settings measured in the same rounds.
    candidate, baseline : int
        Indexes of the two settings in ``comparison``.
    of : callable, optional
        The score compared, higher is better (``lambda m: 1 / m.wall.p99`` for the tail);
        the goal's score by default.
    names : sequence of str, optional
        Names of the settings, by index; :meth:`~tfthreads.compare.Comparison.label` by default.
    one_sided : bool
        Ask only whether ``candidate`` is better (see :func:`verdict_sentence`).
    **words : str
        ``quantity``, ``better``, ``worse`` and ``above``, as :func:`verdict_sentence` takes them.

    Returns
    -------
    str
        For example ``"The median step time is shorter with 2/1 than with defaults: ratio
        1.98 [1.79, 2.20] over 4 paired rounds (above 1 favours 2/1)."``
    """
    name = names[candidate] if names else comparison.label(candidate)
    base = names[baseline] if names else comparison.label(baseline)
    found = comparison.interval(candidate, baseline, of=of)
    return verdict_sentence(found, name, base, one_sided=one_sided, **words)


def verdict_sentence(
    interval: RatioInterval | None,
    name: str,
    base: str,
    *,
    quantity: str = "the median step time",
    better: str = "shorter",
    worse: str = "longer",
    above: str = "above 1 favours {name}",
    one_sided: bool = False,
) -> str:
    """Word a paired ratio of ``name`` to ``base`` as a verdict: its interval picks the word.

    The word is :attr:`~tfthreads.stats.RatioInterval.settled_verdict`'s: ``better`` when
    all of the 95 % interval is above 1 and the ratio is 5 % or more above it
    (:data:`tfthreads.stats.TIE`), ``worse`` likewise below, *indistinguishable on this
    machine* for a tie whose interval rules out a difference of 10 % or more
    (:data:`tfthreads.stats.SETTLED`), and *not decided on this machine* otherwise. ``above`` says what a ratio above 1 means (``{name}`` and
    ``{base}`` are filled in).

    ``one_sided`` asks only whether ``name`` is better, the question a page asks where it
    shows that something does not help (one thread more than the CPUs): ``better`` as
    above; *not* ``better`` when the whole interval lies below ``1 + TIE``, so that a gain
    of 5 % or more is ruled out (a tie and ``worse`` alike, and a cost near 5 % cannot
    flip it); *not decided on this machine* otherwise, where the interval still allows a
    gain that matters (``1.19 [1.00, 1.40]`` is not "not higher"). The two answers are
    apart by the interval's width, so a ratio near the threshold is not decided rather
    than decided one way in one build and the other way in the next.

    Examples
    --------
    >>> verdict_sentence(RatioInterval(0.97, 0.94, 0.99, 12), "3", "2", one_sided=True)
    'The median step time is not shorter with 3 than with 2: ratio 0.97 [0.94, 0.99] over 12 paired rounds (above 1 favours 3).'
    >>> verdict_sentence(RatioInterval(1.19, 1.00, 1.40, 6), "1", "2", one_sided=True)
    'The median step time is not decided on this machine between 1 and 2: ratio 1.19 [1.00, 1.40] over 6 paired rounds (above 1 favours 1), an interval that allows a gain of 5 % or more.'
    """
    lead = quantity[:1].upper() + quantity[1:]
    what = f"{quantity}: {name} against {base}"
    if interval is None:
        _record(what, "no verdict")
        return f"{lead}: no verdict for {name} against {base}, a measurement failed."
    meaning = above.format(name=name, base=base)
    detail = f"ratio {interval.describe()} over {interval.rounds} paired rounds ({meaning})"
    decided = interval.settled_verdict
    if one_sided and decided != "better":
        if interval.high < 1.0 + TIE:
            _record(what, f"not {better}")
            return f"{lead} is not {better} with {name} than with {base}: {detail}."
        _record(what, "inconclusive")
        return (
            f"{lead} is not decided on this machine between {name} and {base}: "
            f"{detail}, an interval that allows a gain of {TIE * 100:g} % or more."
        )
    _record(what, {"better": better, "worse": worse}.get(decided, decided))
    if decided == "inconclusive":
        return (
            f"{lead} is not decided on this machine between {name} and {base}: "
            f"{detail}, an interval too wide to tell them apart."
        )
    if decided == "indistinguishable":
        small = "" if interval.includes_one else f", a difference under {TIE * 100:g} %"
        return (
            f"{lead} is indistinguishable on this machine between {name} and {base}: "
            f"{detail}{small}."
        )
    word = better if decided == "better" else worse
    return f"{lead} is {word} with {name} than with {base}: {detail}."


def _record(what: str, decision: object) -> None:
    """Append a verdict or a claim to the file ``TFTHREADS_VERDICTS`` names, if it is set.

    ``benchmarks/robustness.py`` runs the examples again and again under hostile
    conditions and compares what they decided; a normal run writes nothing.
    """
    target = os.environ.get("TFTHREADS_VERDICTS")
    if target:
        with open(target, "a", encoding="utf-8") as record:  # noqa: PTH123 - one line
            record.write(json.dumps({"what": what, "decision": decision}) + "\n")


class ClaimError(AssertionError):
    """A sentence of a page that this build's measurement contradicts."""


def claim(text: str, holds: bool) -> None:
    """Stop the example when a sentence its page states is contradicted by its data.

    Static prose may state what a measurement must show (a pool size, an order of
    events); the example checks it with this, so a page can never show the sentence next
    to data that says otherwise. The build fails with one line naming the sentence.

    Examples
    --------
    >>> claim("2 is larger than 1", 2 > 1)
    >>> claim("1 is larger than 2", 1 > 2)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ClaimError: the page says "1 is larger than 2", and this build's measurement contradicts it
    """
    _record(f"claim: {text}", bool(holds))
    if not holds:
        raise ClaimError(f'the page says "{text}", and this build\'s measurement contradicts it')


def typical(comparison: Comparison, index: int, of: Callable[[Measurement], float]) -> float:
    """Return a setting's typical value of a statistic: its geometric mean over the rounds."""
    return geometric_mean([of(m) for m in comparison.measured(index)])


def timing(comparison: Comparison, index: int, baseline: int = 0) -> dict[str, Any]:
    """Columns that describe one setting of a comparison, and its ratio to ``baseline``.

    The times are geometric means over the rounds; the ratio is the paired interval of
    the comparison's goal (above 1 is better than ``baseline``), and its verdict.
    """
    interval = comparison.interval(index, baseline) if index != baseline else None
    return {
        "median ms": typical(comparison, index, lambda m: m.wall.median * 1e3),
        "p99 ms": typical(comparison, index, lambda m: m.wall.p99 * 1e3),
        f"vs {comparison.label(baseline)} [95 % CI]": ratio(interval),
        "verdict": "baseline"
        if index == baseline
        else comparison.verdict(index, baseline, settled=True),
        "CPU/wall": typical(comparison, index, lambda m: m.cpu.median / m.wall.median),
        "thr used CPU": max(m.row()["threads_active"] for m in comparison.measured(index)),
    }


def pair(a: object, b: object) -> str:
    """Write two values as ``"a / b"`` (intra-op / inter-op, in every table here)."""
    return f"{a} / {b}"


def pools_of(settings: ThreadSettings) -> tuple[int, int]:
    """Return the intra-op and inter-op pool sizes a setting starts on this machine.

    Two settings with equal pools here (the defaults and 2/2 on 2 CPUs) time the same
    thing, so a page compares only one of them.
    """
    affinity = topology().affinity_cpus
    resolved = resolve_pools(settings, affinity_cpus=affinity, environ={})
    return resolved.intra_op, resolved.inter_op


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
