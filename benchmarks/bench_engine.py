"""Measure the measurement engine itself on this machine, and write the results.

Run it with ``python benchmarks/bench_engine.py`` (a few minutes on 2 cores). It writes
``benchmarks/results/engine.json`` and ``engine.md`` with the machine's description, and
prints the Markdown. Everything is compared as ratios within one run, because a shared
machine's absolute speed drifts between runs.

What it measures:

a. the cost of one isolated measurement against a bare ``python -c`` that imports
   TensorFlow and does the same work (target: overhead per setting at most TensorFlow's
   import time + 0.5 s);
b. the spread of repeated measurements of one setting;
c. for each built-in workload, TensorFlow's defaults, ``recommend`` and ``tune`` against
   the best of the full grid (targets: ``tune`` within 3 % of best-of-grid, ``recommend``
   no worse than the defaults beyond noise);
d. the same where the defaults oversubscribe: two worker processes sharing the CPUs;
e. and a CPU quota below the visible CPUs (a temporary cgroup, where the machine allows).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tfthreads.measure import measure, measure_many
from tfthreads.options import MeasureOptions
from tfthreads.provenance import describe_machine, provenance
from tfthreads.recommend import recommend
from tfthreads.settings import ThreadSettings
from tfthreads.sweep import grid
from tfthreads.topology import topology
from tfthreads.tune import tune
from tfthreads.workloads import BUILTIN_WORKLOADS

RESULTS = Path(__file__).parent / "results"
LATENCY_WORKLOADS = {"matmul", "branches", "mlp_latency", "conv2d"}
REPEATS, WARMUP = 30, 3
OPTIONS = MeasureOptions(repeats=REPEATS, warmup=WARMUP)


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def overhead(trials: int = 3) -> dict[str, float]:
    """Compare one measure() call with a bare script doing the same work (a)."""
    work = (
        "import tensorflow as tf\n"
        "a = tf.random.stateless_normal((512, 512), seed=(1, 2))\n"
        f"for _ in range({REPEATS + WARMUP}): tf.linalg.matmul(a, a).numpy()\n"
    )
    imports = [_wall([sys.executable, "-c", "import tensorflow"]) for _ in range(trials)]
    bare = [_wall([sys.executable, "-c", work]) for _ in range(trials)]
    engine, loop = [], []
    for _ in range(trials):
        start = time.perf_counter()
        result = measure("matmul", options=OPTIONS)
        engine.append(time.perf_counter() - start)
        loop.append(result.processes[0].elapsed)
    return {
        "tensorflow_import_s": statistics.median(imports),
        "bare_script_s": statistics.median(bare),
        "measure_call_s": statistics.median(engine),
        "timed_loop_s": statistics.median(loop),
        "overhead_vs_bare_s": statistics.median(engine) - statistics.median(bare),
        "overhead_per_setting_s": statistics.median(engine) - statistics.median(loop),
    }


def spread(trials: int = 5) -> dict[str, object]:
    """Measure the same setting in several fresh processes (b)."""
    medians = [measure("matmul", options=OPTIONS).wall.median for _ in range(trials)]
    middle = statistics.median(medians)
    return {
        "medians_ms": [m * 1e3 for m in medians],
        "relative_range": (max(medians) - min(medians)) / middle,
    }


def _score(row: dict[str, object], goal: str) -> float:
    return float(row["median_ms"]) if goal == "latency" else float(row["throughput"])


def _ratio(row: dict[str, object], best: dict[str, object], goal: str) -> float:
    """How far a row is from the best: 1.0 is the best, 1.10 is 10 % worse."""
    if goal == "latency":
        return _score(row, goal) / _score(best, goal)
    return _score(best, goal) / _score(row, goal)


def strategies() -> list[dict[str, object]]:
    """Compare defaults, recommend and tune with the best of the full grid (c)."""
    cpus = topology().affinity_cpus
    sizes = sorted({1, max(1, cpus // 2), cpus})
    settings = [ThreadSettings(), *grid(sizes, sizes)]
    names = list(BUILTIN_WORKLOADS)
    rows: dict[tuple[str, ThreadSettings], dict[str, object]] = {}
    for setting in settings:  # one child per setting runs every workload
        for m in measure_many(names, setting, options=OPTIONS):
            rows[(m.workload.name, setting)] = m.row()
    report = []
    for name in names:
        goal = "latency" if name in LATENCY_WORKLOADS else "throughput"
        advice = recommend(goal).settings
        grid_rows = [rows[(name, s)] for s in settings if s != ThreadSettings()]
        best = min(grid_rows, key=lambda r: _score(r, goal) * (1 if goal == "latency" else -1))
        found = tune(name, goal, budget=6, options=OPTIONS)
        default_row = rows[(name, ThreadSettings())]
        advice_row = rows.get((name, advice)) or measure(name, advice, options=OPTIONS).row()
        report.append(
            {
                "workload": name,
                "goal": goal,
                "best_of_grid": f"{best['intra_op']}/{best['inter_op']}",
                "recommend": f"{advice.intra_op}/{advice.inter_op}",
                "tune": f"{found.best.intra_op}/{found.best.inter_op}",
                "defaults_vs_best": _ratio(default_row, best, goal),
                "recommend_vs_best": _ratio(advice_row, best, goal),
                "tune_vs_best": _ratio(found.best_measurement.row(), best, goal),
                "tune_measurements": len(found.tried.rows),
                "grid_measurements": len(grid_rows),
            }
        )
    return report


def oversubscribed(processes: int = 2) -> dict[str, object]:
    """Compare defaults with the per-process recommendation for several workers (d)."""
    advice = recommend("throughput", processes=processes).settings
    together = OPTIONS.replace(processes=processes)
    default = measure("mlp_throughput", options=together)
    advised = measure("mlp_throughput", advice, options=together)
    return {
        "processes": processes,
        "recommend": f"{advice.intra_op}/{advice.inter_op}",
        "defaults_throughput": default.throughput,
        "recommend_throughput": advised.throughput,
        "recommend_over_defaults": advised.throughput / default.throughput,
        "defaults_p99_ms": default.wall.p99 * 1e3,
        "recommend_p99_ms": advised.wall.p99 * 1e3,
        "defaults_cpu_ms": default.cpu.median * 1e3,
        "recommend_cpu_ms": advised.cpu.median * 1e3,
    }


def under_quota(quota: float = 1.0) -> dict[str, object]:
    """Compare defaults with recommend() inside a CPU quota below the visible CPUs (e)."""
    import dataclasses

    from tfthreads.errors import UnsupportedPlatformError
    from tfthreads.quota import cpu_quota
    from tfthreads.topology import CgroupQuota

    here = topology()
    limited = dataclasses.replace(
        here,
        quota=CgroupQuota(
            version=1, path="(benchmark)", quota_us=int(quota * 1e5), period_us=100_000
        ),
    )
    advice = recommend("latency", topology=limited).settings
    try:
        with cpu_quota(quota) as group:
            quota_options = OPTIONS.replace(repeats=REPEATS * 3, cgroup=group)
            default = measure("matmul", options=quota_options)
            advised = measure("matmul", advice, options=quota_options)
    except UnsupportedPlatformError as error:
        return {"skipped": str(error)}
    return {
        "quota_cpus": quota,
        "recommend": f"{advice.intra_op}/{advice.inter_op}",
        "defaults_median_ms": default.wall.median * 1e3,
        "recommend_median_ms": advised.wall.median * 1e3,
        "defaults_p99_ms": default.wall.p99 * 1e3,
        "recommend_p99_ms": advised.wall.p99 * 1e3,
        "p99_defaults_over_recommend": default.wall.p99 / advised.wall.p99,
    }


def _markdown(data: dict[str, object]) -> str:
    o, s = data["overhead"], data["spread"]
    lines = [
        "# Engine benchmark",
        "",
        f"Machine: {data['machine']}",
        f"Date: {data['provenance']['date']}",
        "",
        "## (a) Cost of one isolated measurement (matmul 512, 30 + 3 iterations)",
        "",
        "| quantity | seconds |",
        "|---|---|",
        *(f"| {key} | {value:.3f} |" for key, value in o.items()),
        "",
        (
            f"Target: overhead per setting <= TensorFlow import + 0.5 s = "
            f"{o['tensorflow_import_s'] + 0.5:.3f} s; measured {o['overhead_per_setting_s']:.3f} s."
        ),
        "",
        "## (b) Spread of 5 fresh-process measurements of the same setting",
        "",
        (
            f"Medians (ms): {', '.join(f'{m:.3f}' for m in s['medians_ms'])}; "
            f"range / median = {s['relative_range']:.1%}."
        ),
        "",
        "## (c) Strategies against the best of the full grid (1.00 = best; above is worse)",
        "",
        (
            "| workload | goal | best of grid | recommend | tune | defaults/best | recommend/best "
            "| tune/best | tune runs | grid runs |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["strategies"]:
        lines.append(
            f"| {r['workload']} | {r['goal']} | {r['best_of_grid']} | {r['recommend']} | "
            f"{r['tune']} | {r['defaults_vs_best']:.3f} | {r['recommend_vs_best']:.3f} | "
            f"{r['tune_vs_best']:.3f} | {r['tune_measurements']} | {r['grid_measurements']} |"
        )
    d = data["oversubscribed"]
    lines += [
        "",
        f"## (d) {d['processes']} worker processes sharing the CPUs (mlp_throughput)",
        "",
        "| settings | throughput (inferences/s) | p99 (ms) | CPU per step (ms) |",
        "|---|---|---|---|",
        (
            f"| defaults 0/0 | {d['defaults_throughput']:.1f} | {d['defaults_p99_ms']:.2f} | "
            f"{d['defaults_cpu_ms']:.2f} |"
        ),
        (
            f"| recommend {d['recommend']} | {d['recommend_throughput']:.1f} | "
            f"{d['recommend_p99_ms']:.2f} | {d['recommend_cpu_ms']:.2f} |"
        ),
        "",
        f"recommend / defaults throughput: {d['recommend_over_defaults']:.3f}",
    ]
    q = data["quota"]
    if "skipped" in q:
        lines += ["", f"## (e) CPU quota: not measured here ({q['skipped']})"]
    else:
        lines += [
            "",
            f"## (e) A {q['quota_cpus']:g}-CPU quota on this machine (matmul 512)",
            "",
            "| settings | median (ms) | p99 (ms) |",
            "|---|---|---|",
            f"| defaults 0/0 | {q['defaults_median_ms']:.2f} | {q['defaults_p99_ms']:.2f} |",
            (
                f"| recommend {q['recommend']} | {q['recommend_median_ms']:.2f} | "
                f"{q['recommend_p99_ms']:.2f} |"
            ),
            "",
            f"defaults p99 / recommend p99: {q['p99_defaults_over_recommend']:.2f}",
        ]
    lines += [
        "",
        (
            "Intra/inter settings are written intra/inter. Tuning and grid rows come from "
            "separate processes, so ratios near 1.00 are within the spread shown in (b)."
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run every part and write the results next to this script."""
    data = {
        "machine": describe_machine(),
        "provenance": provenance(),
        "overhead": overhead(),
        "spread": spread(),
        "strategies": strategies(),
        "oversubscribed": oversubscribed(),
        "quota": under_quota(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(data, indent=2) + "\n")
    text = _markdown(data)
    (RESULTS / "engine.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
