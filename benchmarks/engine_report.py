"""Render the summary that ``bench_engine.py`` writes (``engine.json``) as Markdown.

The tables of ``benchmarks/results/engine.md``: one section per part (a) to (f) of the
benchmark, every ratio with its 95 % interval, from the summary alone, so ``--render``
can write them again from a committed ``engine.json`` without measuring.
"""

from __future__ import annotations

from typing import Any

from tfthreads.stats import TIE


def _ci(data: dict[str, Any] | None) -> str:
    if data is None:
        return "-"
    return f"{data['ratio']:.3f} [{data['low']:.3f}, {data['high']:.3f}]"


def _vs_best(label: str, row: dict[str, Any], key: str) -> str:
    return "the best itself" if label == row["best"] else _ci(row[key])


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _interleaved(chunks: int) -> str:
    return "processes" if chunks == 1 else f"chunks ({chunks} turns each)"


def _remeasured(data: dict[str, Any], key: str) -> list[str]:
    """Say when a part was measured again on its own (``--only``), after the rest."""
    date = data.get(f"{key}_date")
    return [f"Measured again on its own, {date}.", ""] if date else []


def markdown(data: dict[str, Any]) -> str:
    """Return ``engine.md``: the Markdown of a summary ``bench_engine.py`` wrote."""
    o = data["overhead"]
    lines = [
        "# Engine benchmark",
        "",
        f"Machine: {data['machine']}",
        f"Date: {data['provenance']['date']}",
        "",
        "Every ratio is *how many times better* (above 1 is better: faster steps for latency,",
        "more items per second for throughput), with its 95 % interval over interleaved rounds",
        f"of fresh processes; a ratio whose interval contains 1, or that is within {TIE * 100:g} %",
        "of 1 (`tfthreads.stats.TIE`), is a tie. From 6 rounds on the ratio is the",
        "Hodges-Lehmann estimate of the per-round ratios and the interval Wilcoxon's",
        "signed-rank interval; below, the geometric mean and Student's t, both on logarithms",
        "(`tfthreads.stats.ratio_interval`).",
        "",
        "## (a) Cost of one isolated measurement (matmul 512)",
        "",
        "| quantity | seconds |",
        "|---|---|",
        *(f"| {key} | {value:.3f} |" for key, value in o.items()),
        "",
        "## (b) TensorFlow's defaults against themselves",
        "",
        *_remeasured(data, "self_comparison"),
        "Target: the interval within ±5 % of 1, after a fixed number of rounds (no early stop).",
        "",
        (
            "`interleaved`: *processes*, each setting's fresh process one after the other; "
            "*chunks*, both settings' processes alive at once, taking turns to run chunks of "
            "their timed loops (`compare(..., chunks=N)`)."
        ),
        "",
        "| workload | goal | interleaved | rounds | defaults / defaults | within ±5 % |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['workload']} | {r['goal']} | {_interleaved(r.get('chunks', 1))} | "
            f"{r['rounds']} | {_ci(r['self'])} | {_yes(r['within_5_percent'])} |"
            for r in data.get("self_comparison", [])
        ),
        "",
        f"## (c) The grid: {data['grid_points']} settings, every built-in workload",
        "",
        (
            f"{data['grid_rounds']} rounds in {data['grid_seconds']:.0f} s; each round is one "
            "fresh process per setting running all six workloads, in an order reversed every "
            "other round. `ends` is TensorFlow's defaults measured a second time in the last "
            "place of each round, against the first: the two are a round's length apart "
            f"(about {data['grid_seconds'] / data['grid_rounds']:.0f} s), so it shows how far "
            "the machine drifts within a round, "
            "the noise every ratio below carries. Settings are written intra/inter."
        ),
        "",
        (
            "| workload | goal | ends | best of grid | tied with best | recommend | "
            "recommend / best | within noise | says tune | defaults / best |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["strategies"]:
        lines.append(
            f"| {r['workload']} | {r['goal']} | {_ci(r['self'])} | {r['best']} | "
            f"{', '.join(r['tied_with_best']) or '-'} | {r['recommend']} "
            f"({r['recommend_confidence']}) | {_vs_best(r['recommend'], r, 'recommend_vs_best')} | "
            f"{_yes(r['recommend_tied_or_best'])} | {'yes' if r['recommend_says_tune'] else 'no'} "
            f"| {_vs_best('defaults', r, 'defaults_vs_best')} |"
        )
    lines += [
        "",
        "## (d) tune on the grid, with half the grid's runs",
        "",
        (
            "| workload | goal | grid points | grid runs | tune runs | tune's pick "
            "| best of grid | pick / best | within noise |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["tune"]:
        lines.append(
            f"| {r['workload']} | {r['goal']} | {r['grid_points']} | {r['grid_runs']} | "
            f"{r['tune_runs']} | {r['tune_pick']} | {r['grid_best']} | "
            f"{'the best itself' if r['tune_pick'] == r['grid_best'] else _ci(r['pick_vs_best'])} "
            f"| {_yes(r['within_noise_of_best'])} |"
        )
    d = data["several_processes"]
    lines += [
        "",
        f"## (e) {d['processes']} worker processes sharing the CPUs (mlp_throughput)",
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
    q = data["quota"]
    if "skipped" in q:
        lines += ["", f"## (f) CPU quota: not measured here ({q['skipped']})"]
    else:
        lines += [
            "",
            f"## (f) A {q['quota_cpus']:g}-CPU quota (matmul 512), {q['rounds']} rounds",
            "",
            *_remeasured(data, "quota"),
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
    return "\n".join(lines) + "\n"
