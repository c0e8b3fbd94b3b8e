"""Render the summary that ``bench_engine.py`` writes (``engine.json``) as Markdown.

The tables of ``benchmarks/results/engine.md``: one section per part (a) to (f) of the
benchmark, every ratio with its 95 % interval, from the summary alone, so ``--render``
can write them again from a committed ``engine.json`` without measuring. Where the run
before chunked rounds were the default (``engine-whole-processes.json``) measured the
same thing, its result and wall time stand beside this run's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tfthreads.stats import TIE

#: The run that compared whole processes, one after the other (the method before).
WHOLE_PROCESSES = Path(__file__).parent / "results" / "engine-whole-processes.json"


def _ci(data: dict[str, Any] | None) -> str:
    if data is None:
        return "-"
    return f"{data['ratio']:.3f} [{data['low']:.3f}, {data['high']:.3f}]"


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _seconds(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:.0f}"


def _against(entry: dict[str, Any]) -> str:
    return "the best itself" if entry["vs_best"] is None else _ci(entry["vs_best"])


def _before() -> dict[str, Any]:
    return json.loads(WHOLE_PROCESSES.read_text()) if WHOLE_PROCESSES.exists() else {}


def _old_self(before: dict[str, Any], workload: str) -> str:
    rows = [
        r
        for r in before.get("self_comparison", [])
        if r["workload"] == workload and r.get("chunks", 1) == 1
    ]
    return _ci(rows[0]["self"]) if rows else "-"


def _header(data: dict[str, Any]) -> list[str]:
    return [
        "# Engine benchmark",
        "",
        f"Machine: {data['machine']}",
        f"Date: {data['provenance']['date']}",
        "",
        "Every ratio is *how many times better* (above 1 is better: faster steps for latency,",
        "more items per second for throughput), with its 95 % interval over paired rounds.",
        "In every round the settings' processes are alive at once and take turns, chunk by",
        "chunk (`tfthreads.compare.compare`'s default), except where a part says otherwise.",
        f"A ratio whose interval contains 1, or that is within {TIE * 100:g} % of 1",
        "(`tfthreads.stats.TIE`), is a tie. From 6 rounds on the ratio is the Hodges-Lehmann",
        "estimate of the per-round ratios and the interval Wilcoxon's signed-rank interval;",
        "below, the geometric mean and Student's t, both on logarithms",
        "(`tfthreads.stats.ratio_interval`).",
        "*Whole processes (before)* quotes `engine-whole-processes.md`: the same parts",
        "measured before chunked rounds were the default, each setting a fresh process, one",
        "after the other, on the machine that file names.",
    ]


def _wall_times(data: dict[str, Any], before: dict[str, Any]) -> list[str]:
    seconds = data.get("seconds", {})
    old_grid = before.get("grid_seconds")
    rows = [
        *(
            (f"(b) defaults against themselves, {run['repeats']} steps", run["seconds"], None)
            for run in data.get("self_comparison", [])
        ),
        ("(c, d) grid, tune and precise comparisons", seconds.get("strategies"), old_grid),
        ("(e) two worker processes", seconds.get("several_processes"), None),
        ("(f) a CPU quota", seconds.get("quota"), None),
        ("(a) cost of one measurement", seconds.get("overhead"), None),
    ]
    lines = [
        "## Wall time of each part",
        "",
        "| part | this run (s) | whole processes, before (s) |",
        "|---|---|---|",
        *(f"| {title} | {_seconds(took)} | {_seconds(old)} |" for title, took, old in rows),
    ]
    if old_grid is not None:
        lines += [
            "",
            (
                f"Before, the grid's {before['grid_rounds']} rounds of whole processes took "
                f"{old_grid:.0f} s and tune ran apart from it; no other part's time was "
                "recorded."
            ),
        ]
    return lines


def _self_part(data: dict[str, Any], before: dict[str, Any]) -> list[str]:
    runs = data["self_comparison"]
    target = runs[0]["target"] * 100
    lines = [
        "## (b) TensorFlow's defaults against themselves",
        "",
        *_remeasured(data, "self_comparison"),
        (
            f"Target: the interval within ±{target:g} % of 1, after a fixed number of rounds "
            "(no early stop). Both processes of a round take turns on every workload, as "
            "many as `compare` takes by default for the loop's length; one process per "
            "setting and round runs all six workloads (`compare_many`)."
        ),
        "",
    ]
    for run in runs:
        lines += [
            (
                f"**Loops of {run['repeats']} steps**, {run['chunks']} turns each: "
                f"{run['rows'][0]['rounds']} rounds in {run['seconds']:.0f} s."
            ),
            "",
            (
                f"| workload | goal | rounds | defaults / defaults | within ±{target:g} % "
                "| whole processes of 30 steps, before (30 rounds) |"
            ),
            "|---|---|---|---|---|---|",
            *(
                f"| {r['workload']} | {r['goal']} | {r['rounds']} | {_ci(r['self'])} | "
                f"{_yes(r['within_target'])} | {_old_self(before, r['workload'])} |"
                for r in run["rows"]
            ),
            "",
        ]
    return lines[:-1]


def _grid_part(data: dict[str, Any], before: dict[str, Any]) -> list[str]:
    old = {r["workload"]: r for r in before.get("strategies", [])}
    lines = [
        f"## (c) The grid: {data['grid_points']} settings, every built-in workload",
        "",
        (
            f"**Screening.** {data['grid_rounds']} rounds in {data['grid_seconds']:.0f} s; in "
            f"each, one process per setting runs all six workloads, and for each workload "
            f"the processes take {data['grid_chunks']} turns each. `ends` is TensorFlow's "
            "defaults measured a second time, in the last place of every round, against "
            "the first: the noise of the screening's ratios. Settings are written intra/inter."
        ),
        "",
        "| workload | goal | ends | best of the screening | tied with it in the screening |",
        "|---|---|---|---|---|",
    ]
    for r in data["strategies"]:
        lines.append(
            f"| {r['workload']} | {r['goal']} | {_ci(r['screening_ends'])} | "
            f"{r['screening_best']} | {', '.join(r['screening_tied_with_best']) or '-'} |"
        )
    lines += [
        "",
        (
            "**Precise comparisons.** Per workload, the best of the screening against "
            "`recommend`'s advice, the defaults and tune's pick (d), in rounds until every "
            f"interval is within ±{TIE * 100:g} % or the most rounds are done (`stopped`). "
            "*Within noise* is a tie with the best, or better than it."
        ),
        "",
        (
            "| workload | best | recommend | rounds | stopped | recommend / best | "
            f"within ±{TIE * 100:g} % | within noise | defaults / best "
            "| whole processes, before: recommend / best |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["strategies"]:
        precise = r["precise"] or {"rounds": "-", "stopped": "-"}
        earlier = old.get(r["workload"])
        then = "-" if earlier is None else _ci(earlier.get("recommend_vs_best"))
        if earlier is not None and earlier["recommend"] == earlier["best"]:
            then = "the best itself"
        lines.append(
            f"| {r['workload']} | {r['screening_best']} | {r['recommend']} "
            f"({r['recommend_confidence']}) | {precise['rounds']} | {precise['stopped']} | "
            f"{_against(r['recommend_vs_best'])} | "
            f"{_yes(r['recommend_vs_best']['within_5_percent'])} | "
            f"{_yes(r['recommend_vs_best']['tied_or_better'])} "
            f"| {_against(r['defaults_vs_best'])} | {then} |"
        )
    return lines


def _tune_part(data: dict[str, Any], before: dict[str, Any]) -> list[str]:
    old = {r["workload"]: r for r in before.get("tune", [])}
    lines = [
        "## (d) tune with its default budget, the grid as its candidates",
        "",
        (
            "`grid measurements`: the screening's and the precise comparison's "
            "measurements of that workload (one setting in one round); tune may use at "
            "most half. `pick / best` is from the precise comparison of (c)."
        ),
        "",
        (
            "| workload | goal | tune's measurements | grid measurements | at most half "
            f"| tune's pick | pick / best | within ±{TIE * 100:g} % | within noise | tune (s) "
            "| whole processes, before |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["strategies"]:
        t = r["tune"]
        earlier = old.get(r["workload"])
        then = (
            "-"
            if earlier is None
            else (
                f"{earlier['tune_runs']} runs, pick {earlier['tune_pick']}, "
                f"{_ci(earlier['pick_vs_best'])}"
            )
        )
        lines.append(
            f"| {r['workload']} | {r['goal']} | {t['runs']} | {r['grid_measurements']} | "
            f"{_yes(2 * t['runs'] <= r['grid_measurements'])} | {t['pick']} | {_against(t)} | "
            f"{_yes(t['within_5_percent'])} | {_yes(t['tied_or_better'])} | {t['seconds']:.0f} | {then} |"
        )
    return lines


def _remeasured(data: dict[str, Any], key: str) -> list[str]:
    """Say when a part was measured again on its own (``--only``), after the rest."""
    date = data.get(f"{key}_date")
    return [f"Measured again on its own, {date}.", ""] if date else []


def _processes_part(data: dict[str, Any]) -> list[str]:
    d = data["several_processes"]
    lines = [
        f"## (e) {d['processes']} worker processes sharing the CPUs (mlp_throughput)",
        "",
        f"{d['method'] or 'Whole processes'}; stopped on: {d['stopped']}.",
        "",
        "| settings | rounds | throughput (all processes, items/s) | vs best |",
        "|---|---|---|---|",
    ]
    for row in d["rows"]:
        lines.append(
            f"| {row['label']} | {row['rounds']} | {row['throughput']:.0f} | "
            f"{_ci(row['vs_best']) if row['vs_best'] else 'best'} |"
        )
    lines += [
        "",
        (
            f"recommend ({d['recommend']}, confidence {d['recommend_confidence']}) within "
            f"the noise of the best: {_yes(d['recommend_tied_or_best'])}."
        ),
    ]
    if d.get("recommend_now", d["recommend"]) != d["recommend"]:
        lines += [
            "",
            (
                f"The rule changed after this run: `tfthreads recommend --goal throughput "
                f"--processes {d['processes']}` now gives {d['recommend_now']} here; its "
                "reasons say why."
            ),
        ]
    return lines


def _quota_part(data: dict[str, Any]) -> list[str]:
    q = data["quota"]
    if "skipped" in q:
        return [f"## (f) CPU quota: not measured here ({q['skipped']})"]
    lines = [
        f"## (f) A {q['quota_cpus']:g}-CPU quota (matmul 512), {q['rounds']} rounds",
        "",
        *_remeasured(data, "quota"),
        (
            "Whole processes, one after the other: the processes of one cgroup share its "
            "quota, so one taking its turn would be throttled for what the other spent."
        ),
        "",
        f"recommend {q['recommend']} against the defaults:",
        f"- median step: {_ci(q['median_recommend_vs_defaults'])}",
        f"- p99 step: {_ci(q['p99_recommend_vs_defaults'])}",
        (
            "- throughput (steps per second over the whole loop): "
            + _ci(q.get("throughput_recommend_vs_defaults"))
        ),
    ]
    if q.get("recommend_now", q["recommend"]) != q["recommend"]:
        lines += [
            "",
            (
                f"The rule changed after this run: `tfthreads recommend` now gives "
                f"{q['recommend_now']} under this quota; its reasons say why."
            ),
        ]
    return lines


def markdown(data: dict[str, Any]) -> str:
    """Return ``engine.md``: the Markdown of a summary ``bench_engine.py`` wrote."""
    before = _before()
    o = data["overhead"]
    parts = [
        _header(data),
        _wall_times(data, before),
        [
            "## (a) Cost of one isolated measurement (matmul 512)",
            "",
            "| quantity | seconds |",
            "|---|---|",
            *(f"| {key} | {value:.3f} |" for key, value in o.items()),
        ],
        _self_part(data, before),
        _grid_part(data, before),
        _tune_part(data, before),
        _processes_part(data),
        _quota_part(data),
    ]
    return "\n\n".join("\n".join(lines) for lines in parts) + "\n"
