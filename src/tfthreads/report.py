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

TensorFlow is not imported here, so the documentation build can use this module.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tfthreads._conditions import canonical, conditions_of, differences
from tfthreads._text_table import text_table
from tfthreads.errors import SettingError
from tfthreads.options import GOALS
from tfthreads.provenance import describe_machine
from tfthreads.results import Failure, Measurement, score
from tfthreads.results_file import read_results
from tfthreads.settings import ThreadSettings
from tfthreads.stats import RatioInterval, geometric_mean, ratio_interval

__all__ = ["RATIO_MEANS", "VERDICTS", "Report", "ReportRow", "Source", "load_report", "table_cells"]


#: The verdicts of a row against its baseline.
VERDICTS = (
    "baseline",
    "better",
    "worse",
    "indistinguishable",
    "inconclusive",
    "one round: no interval",
    "no round in common with the baseline",
)


@dataclass(frozen=True)
class Source:
    """One results file and the machine it was measured on.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    machine : str
        The CPU, its budget and the software (:func:`tfthreads.provenance.describe_machine`).
    date : str
        When the measurements started (ISO 8601).
    tensorflow : str
        The TensorFlow release that ran them.
    command : str
        What wrote the file: ``"sweep"``, ``"tune"`` or a benchmark's name.
    logical_cpus : int
        The machine's logical CPUs.
    label : str
        How the report names the file: its name, or the path as given when two files of
        one report share a name (empty: the name).
    """

    path: Path
    machine: str
    date: str
    tensorflow: str
    command: str
    logical_cpus: int
    label: str = ""

    @property
    def name(self) -> str:
        """Return the file's label in this report, its name unless another file shares it."""
        return self.label or self.path.name

    def describe(self) -> str:
        """One line: file, machine, date and TensorFlow release."""
        return f"{self.name}: {self.machine}; measured {self.date} by {self.command}"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {**asdict(self), "path": str(self.path)}


@dataclass(frozen=True)
class ReportRow:
    """One setting of one scenario, against the scenario's baseline.

    Attributes
    ----------
    source : str
        The results file's name.
    scenario, title : str
        The scenario's key and what it compares.
    workload : str
        The workload and its parameters, such as ``"mlp_latency (batch=1, width=512)"``.
    goal : str
        ``"latency"`` (the score is steps per second of the median step) or
        ``"throughput"`` (items per second, all processes together).
    setting : str
        The setting's label; ``intra_op``/``inter_op`` are its thread counts.
    processes : int
        Worker processes running at once in each measurement.
    rounds : int
        Rounds the setting was measured in; ``failed`` rounds it failed in.
    median_ms, throughput : float
        Geometric means over rounds of each round's median step time (ms) and
        throughput, as :meth:`tfthreads.compare.Comparison.table_rows` gives them.
    unit : str
        The throughput's unit, such as ``"inferences/s"``.
    baseline : str
        The label of the setting it is compared with.
    best_is_baseline : bool
        Whether the baseline was chosen as the best score (then the others' ratios lean
        slightly against them: the winner's curse).
    ratio, low, high : float or None
        How many times better than the baseline (above 1 better): this setting's score
        over the baseline's, from the per-round ratios, and its 95 % interval
        (:func:`tfthreads.stats.ratio_interval`; ``None`` for the baseline itself, and
        ``low``/``high`` ``None`` with a single paired round).
    paired : int
        Rounds in which both this setting and the baseline were measured.
    verdict : str
        One of :data:`VERDICTS`.
    """

    source: str
    scenario: str
    title: str
    workload: str
    goal: str
    setting: str
    intra_op: int
    inter_op: int
    processes: int
    rounds: int
    failed: int
    median_ms: float
    throughput: float
    unit: str
    baseline: str
    best_is_baseline: bool
    ratio: float | None
    low: float | None
    high: float | None
    paired: int
    verdict: str
    conditions: str = ""

    @property
    def group(self) -> tuple[str, str, str, str, str]:
        """The key of this row's table (source, scenario, workload, goal and conditions)."""
        return (self.source, self.scenario, self.workload, self.goal, self.conditions)

    def ratio_text(self) -> str:
        """Write the ratio as ``"1.15 [1.01, 1.31]"``; ``"baseline"`` for the baseline."""
        if self.setting == self.baseline:
            return "baseline"
        if self.ratio is None:
            return "-"
        if self.low is None or self.high is None:
            return f"{self.ratio:.2f}"
        return RatioInterval(self.ratio, self.low, self.high, self.paired).describe()

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


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
                lines += ["", *_group_heading(rows[0]), *_text_table(rows)]
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


#: The ratio of each goal in words, the same orientation for both.
RATIO_MEANS = {
    "latency": "the baseline's median step time over this setting's",
    "throughput": "this setting's items per second over the baseline's",
}

_COLORS = {
    "baseline": "0.3",
    "better": "tab:green",
    "worse": "tab:red",
    "indistinguishable": "tab:blue",
    "inconclusive": "0.6",
    "one round: no interval": "0.6",
    "no round in common with the baseline": "0.6",
}


def _group_heading(row: ReportRow) -> list[str]:
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


def _text_table(rows: Sequence[ReportRow]) -> list[str]:
    head, body = table_cells(rows)
    return text_table(head, body, left=[0, 5], indent="  ")


# ---------------------------------------------------------------- reading


@dataclass
class _Entry:
    """One result line, placed in its scenario."""

    line: int
    scenario: str
    label: str
    round: int | None
    goal: str | None
    result: Measurement | Failure
    conditions: dict[str, Any]


def _problem(path: str | os.PathLike[str], text: str) -> SettingError:
    return SettingError(f"{os.fspath(path)!r}: {text}")


def _check_run(path: str | os.PathLike[str], run: object) -> None:
    """Refuse a header whose run description is not shaped as tfthreads writes it."""
    if not isinstance(run, Mapping):
        raise _problem(path, f"its header's run is {run!r}; expected an object")
    scenarios = run.get("scenarios")
    if scenarios is None:
        return
    if not isinstance(scenarios, list) or not all(isinstance(s, Mapping) for s in scenarios):
        raise _problem(
            path, f"its header's scenarios are {scenarios!r}; expected a list of objects"
        )
    for spec in scenarios:
        key = spec.get("key")
        goals, settings = spec.get("goals"), spec.get("settings")
        if goals is not None and not (
            isinstance(goals, Mapping) and all(isinstance(g, str) for g in goals.values())
        ):
            raise _problem(
                path, f"scenario {key!r}: goals are {goals!r}; expected workload names to goals"
            )
        if settings is not None and not (
            isinstance(settings, list)
            and all(isinstance(s, list) and len(s) == 3 and s[0] for s in settings)
        ):
            raise _problem(
                path,
                f"scenario {key!r}: settings are {settings!r}; expected [label, intra_op, "
                "inter_op] lists",
            )


def _read_source(path: str | os.PathLike[str]) -> tuple[Source, dict[str, Any], list[_Entry]]:
    """Read and check one results file: its source, its header's ``run`` and its results.

    Raises
    ------
    SettingError
        One line naming the file and what is wrong with it.
    """
    header, lines = read_results(path, name="")
    run: dict[str, Any] = header.get("run") or {}
    _check_run(path, run)
    entries: list[_Entry] = []
    provenance: Mapping[str, Any] | None = run.get("provenance")
    for number, row in lines:
        if "event" in row or (row.get("stage") not in (None, "final")):
            continue  # a benchmark's notes; a tune's screening runs (not paired in rounds)
        result = _result(path, number, row)
        entries.append(_entry(path, number, row, result, run))
        if provenance is None and isinstance(result, Measurement):
            provenance = result.provenance
    if not entries:
        raise _problem(path, "holds no measurements")
    if provenance is None:
        raise _problem(path, "no measurement in it says which machine it ran on")
    try:
        machine = describe_machine(dict(provenance))
        source = Source(
            path=Path(path),
            machine=machine,
            date=str(provenance["date"]),
            tensorflow=str(provenance["tensorflow_version"]),
            command=str(run.get("command") or run.get("benchmark") or "sweep"),
            logical_cpus=int(provenance["topology"]["logical_cpus"]),
        )
    except KeyError as error:
        raise _problem(path, f"its provenance lacks {error}") from None
    except (TypeError, ValueError):
        raise _problem(
            path, "its provenance is not an object with date, tensorflow_version and topology"
        ) from None
    return source, run, entries


def _result(
    path: str | os.PathLike[str], number: int, row: dict[str, Any]
) -> Measurement | Failure:
    status = row.get("status")
    kind: type[Measurement | Failure]
    if status == "ok":
        kind = Measurement
    elif status == "failed":
        kind = Failure
    else:
        raise _problem(
            path, f"line {number} is no result (its status is {status!r}, not 'ok' or 'failed')"
        )
    provenance = row.get("provenance")
    if provenance is not None and not isinstance(provenance, Mapping):
        raise _problem(path, f"line {number}: its provenance is {provenance!r}; expected an object")
    try:
        result = kind.from_dict(row)
    except KeyError as error:
        raise _problem(path, f"line {number} lacks the field {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise _problem(path, f"line {number} is not a valid result: {error}") from None
    if isinstance(result, Measurement) and not all(p.wall_seconds for p in result.processes):
        raise _problem(path, f"line {number} has a process without timings")
    if isinstance(result, Measurement) and not result.processes:
        raise _problem(path, f"line {number} has no process timings")
    return result


def _entry(
    path: str | os.PathLike[str],
    number: int,
    row: dict[str, Any],
    result: Measurement | Failure,
    run: Mapping[str, Any],
) -> _Entry:
    round_ = row.get("round")
    if round_ is not None and (not isinstance(round_, int) or round_ < 1):
        raise _problem(path, f"line {number}: round {round_!r} is not a whole number from 1")
    goal = row.get("goal")
    if goal is not None and goal not in GOALS:
        raise _problem(path, f"line {number}: goal {goal!r} is not 'latency' or 'throughput'")
    label = row.get("label")
    return _Entry(
        line=number,
        scenario=str(row.get("scenario") or run.get("command") or "sweep"),
        label=str(label) if label is not None else _label(result.settings),
        round=round_,
        goal=goal,
        result=result,
        conditions=conditions_of(row),
    )


def _label(settings: ThreadSettings) -> str:
    return (
        "defaults" if settings == ThreadSettings() else f"{settings.intra_op}/{settings.inter_op}"
    )


def _workload(result: Measurement | Failure) -> str:
    params = ", ".join(f"{key}={value}" for key, value in result.workload.params.items())
    return f"{result.workload.name} ({params})" if params else result.workload.name


# ---------------------------------------------------------------- computing


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
        source, run, entries = _read_source(path)
        if names.count(Path(path).name) > 1:
            source = replace(source, label=os.fspath(path))
        sources.append(source)
        rows += _rows(path, source, run, entries)
    return Report(sources=tuple(sources), rows=tuple(rows))


def _rows(
    path: str | os.PathLike[str], source: Source, run: Mapping[str, Any], entries: list[_Entry]
) -> list[ReportRow]:
    specs = {str(s.get("key")): s for s in run.get("scenarios") or [] if isinstance(s, Mapping)}
    groups: dict[tuple[str, str, str, str], list[_Entry]] = {}
    sets = {canonical(entry.conditions): entry.conditions for entry in entries}
    for entry in entries:
        spec = specs.get(entry.scenario, {})
        goal = (
            entry.goal
            or (spec.get("goals") or {}).get(entry.result.workload.name)
            or run.get("goal")
            or "latency"
        )
        if goal not in GOALS:
            raise _problem(path, f"scenario {entry.scenario!r}: goal {goal!r} is unknown")
        group = (entry.scenario, _workload(entry.result), goal, canonical(entry.conditions))
        groups.setdefault(group, []).append(entry)
    rows: list[ReportRow] = []
    for (scenario, workload, goal, conditions), members in groups.items():
        spec = specs.get(scenario, {})
        # Rows measured under other conditions (a resumed sweep without its taskset, say)
        # are their own table: pairing them in rounds would mix two machines.
        under = differences(sets[conditions], list(sets.values())) if len(sets) > 1 else ""
        compared = _compare(path, source, scenario, workload, goal, spec, members)
        rows += [replace(row, conditions=under) for row in compared]
    return rows


def _compare(
    path: str | os.PathLike[str],
    source: Source,
    scenario: str,
    workload: str,
    goal: str,
    spec: Mapping[str, Any],
    members: list[_Entry],
) -> list[ReportRow]:
    """Return the rows of one table: per setting, rounds, medians and ratio to the baseline."""
    per: dict[str, dict[int, Measurement | Failure]] = {}
    for entry in members:
        by_round = per.setdefault(entry.label, {})
        number = entry.round if entry.round is not None else len(by_round) + 1
        if entry.round is None and isinstance(entry.result, Measurement):
            # A setting that failed and was measured again on resume: the retry takes
            # the failed measurement's round, so it pairs with the baseline's.
            failed = [n for n, r in by_round.items() if isinstance(r, Failure)]
            if failed:
                number = failed[0]
                del by_round[number]
        if number in by_round:
            raise _problem(
                path,
                f"line {entry.line} measures {entry.label!r} of scenario {scenario!r} "
                f"({workload}) a second time in round {number}",
            )
        by_round[number] = entry.result
    order = [str(s[0]) for s in spec.get("settings") or [] if s and str(s[0]) in per]
    labels = order + [label for label in per if label not in order]
    values = {
        label: {
            number: score(result, goal)
            for number, result in by_round.items()
            if isinstance(result, Measurement)
        }
        for label, by_round in per.items()
    }
    measured = [label for label in labels if values[label]]
    if not measured:
        return []
    base = _baseline(spec, measured, values)
    first = next(r for r in members if isinstance(r.result, Measurement)).result
    assert isinstance(first, Measurement)
    out = []
    for label in [base, *(x for x in measured if x != base)]:
        results = [r for r in per[label].values() if isinstance(r, Measurement)]
        ratio, low, high, paired, verdict = _against(values[label], values[base])
        settings = results[0].settings
        out.append(
            ReportRow(
                source=source.name,
                scenario=scenario,
                title=str(spec.get("title") or _default_title(scenario)),
                workload=workload,
                goal=goal,
                setting=label,
                intra_op=settings.intra_op,
                inter_op=settings.inter_op,
                processes=len(results[0].processes),
                rounds=len(results),
                failed=len(per[label]) - len(results),
                median_ms=geometric_mean([m.wall.median * 1e3 for m in results]),
                throughput=geometric_mean([m.throughput for m in results]),
                unit=f"{first.unit}/s",
                baseline=base,
                best_is_baseline=spec.get("baseline") == "best",
                ratio=None if label == base else ratio,
                low=None if label == base else low,
                high=None if label == base else high,
                paired=paired,
                verdict="baseline" if label == base else verdict,
            )
        )
    return out


def _default_title(scenario: str) -> str:
    return {
        "tune": "tune's final comparison, in interleaved rounds",
        "sweep": "a sweep over settings (one round each unless repeated)",
    }.get(scenario, scenario)


def _baseline(
    spec: Mapping[str, Any], labels: list[str], values: Mapping[str, Mapping[int, float]]
) -> str:
    if spec.get("baseline") == "best":
        return max(labels, key=lambda label: geometric_mean(list(values[label].values())))
    if not spec and "defaults" in labels:
        return "defaults"
    return labels[0]


def _against(
    candidate: Mapping[int, float], baseline: Mapping[int, float]
) -> tuple[float | None, float | None, float | None, int, str]:
    """Ratio, interval, paired rounds and verdict of ``candidate``'s scores over ``baseline``'s."""
    common = sorted(set(candidate) & set(baseline))
    if not common:
        return None, None, None, 0, VERDICTS[-1]
    if len(common) == 1:
        (only,) = common
        return candidate[only] / baseline[only], None, None, 1, VERDICTS[-2]
    interval = ratio_interval([baseline[r] for r in common], [candidate[r] for r in common])
    return interval.ratio, interval.low, interval.high, len(common), interval.verdict
