"""Compare, per scenario, workload and goal, every setting with its baseline, in rounds.

The rows of each table are :class:`~tfthreads.report.ReportRow`: per setting its
rounds, the geometric means of its medians and throughputs, and its ratio to the
baseline with a 95 % interval paired by round (:func:`tfthreads.stats.ratio_interval`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tfthreads._conditions import canonical, differences
from tfthreads.options import GOALS
from tfthreads.report.rows import VERDICTS, ReportRow
from tfthreads.report.source import Entry, Source, problem
from tfthreads.results import Failure, Measurement, score
from tfthreads.stats import geometric_mean, ratio_interval


def _workload(result: Measurement | Failure) -> str:
    params = ", ".join(f"{key}={value}" for key, value in result.workload.params.items())
    return f"{result.workload.name} ({params})" if params else result.workload.name


def compare_scenarios(
    path: str | os.PathLike[str], source: Source, run: Mapping[str, Any], entries: list[Entry]
) -> list[ReportRow]:
    """Return the rows of one file: a table per scenario, workload, goal and conditions."""
    specs = {str(s.get("key")): s for s in run.get("scenarios") or [] if isinstance(s, Mapping)}
    groups: dict[tuple[str, str, str, str], list[Entry]] = {}
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
            raise problem(path, f"scenario {entry.scenario!r}: goal {goal!r} is unknown")
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
    members: list[Entry],
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
            raise problem(
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
