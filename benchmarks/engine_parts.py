"""Parts (a), (b), (e) and (f) of the engine benchmark, one function each."""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _results import append_round
from engine_plan import DEFAULTS, Plan, goal_of, label

from tfthreads.compare import Comparison, compare, compare_many
from tfthreads.errors import UnsupportedPlatformError
from tfthreads.measure import measure, turns_for
from tfthreads.quota import cpu_quota
from tfthreads.recommend import recommend
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings
from tfthreads.stats import TIE, RatioInterval, ratio_interval
from tfthreads.sweep import grid
from tfthreads.topology import CgroupQuota, topology
from tfthreads.tune import distinct_pools
from tfthreads.workloads import BUILTIN_WORKLOADS

#: The self-comparison's target: the interval within ±3 % of 1.
SELF_TARGET = 0.03


def interval_dict(interval: RatioInterval | None) -> dict[str, Any] | None:
    """Return an interval as the summary holds it, or ``None`` where there is none."""
    return None if interval is None else interval.as_dict()


def _recorder(
    results: ResultsFile, scenario: str, labels: list[str]
) -> Callable[[Comparison], None]:
    """Return a compare ``on_round`` that appends each round's measurements to ``results``."""

    def record(comparison: Comparison) -> None:
        append_round(results, scenario, labels, [comparison], len(comparison.rounds) - 1)

    return record


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def overhead(plan: Plan) -> dict[str, float]:
    """Compare one measure() call with a bare script doing the same work (a)."""
    trials = plan.overhead_trials
    steps = plan.options.repeats + plan.options.warmup
    work = (
        "import tensorflow as tf\n"
        "a = tf.random.stateless_normal((512, 512), seed=(1, 2))\n"
        f"for _ in range({steps}): tf.linalg.matmul(a, a).numpy()\n"
    )
    imports = [_wall([sys.executable, "-c", "import tensorflow"]) for _ in range(trials)]
    bare = [_wall([sys.executable, "-c", work]) for _ in range(trials)]
    engine, loop = [], []
    for _ in range(trials):
        start = time.perf_counter()
        result = measure("matmul", options=plan.options)
        engine.append(time.perf_counter() - start)
        loop.append(result.processes[0].elapsed)
    return {
        "tensorflow_import_s": statistics.median(imports),
        "bare_script_s": statistics.median(bare),
        "measure_call_s": statistics.median(engine),
        "timed_loop_s": statistics.median(loop),
        "overhead_vs_bare_s": statistics.median(engine) - statistics.median(bare),
    }


def self_scenario(plan: Plan, repeats: int) -> str:
    """Name the results file's scenario of the self-comparison of loops of ``repeats`` steps."""
    return "self" if repeats == plan.options.repeats else f"self {repeats} steps"


def self_comparison(
    plan: Plan, results: ResultsFile, repeats: tuple[int, ...] | None = None
) -> list[dict[str, Any]]:
    """Compare TensorFlow's defaults with themselves on every built-in workload (b).

    Once per loop length of ``repeats`` (by default the plan's ``self_repeats``). Both
    settings' processes are alive at once in every round and take turns chunk by chunk,
    as :func:`tfthreads.compare.compare` measures by default, with its default number of
    turns for the loop; one process per setting and round runs all six workloads
    (:func:`tfthreads.compare.compare_many`). The rounds are fixed: stopping once the
    interval looked narrow enough would favour the rounds that happened to agree. Each
    round goes to ``results`` (scenario :func:`self_scenario`).
    """
    names = list(BUILTIN_WORKLOADS)
    labels = ["A (defaults)", "A' (defaults)"]
    runs = []
    for steps in plan.self_repeats if repeats is None else repeats:
        options = plan.options.replace(repeats=steps)
        scenario = self_scenario(plan, steps)
        start = time.monotonic()

        def record(made: list[Comparison], scenario: str = scenario) -> None:
            append_round(results, scenario, labels, made, len(made[0].rounds) - 1)

        measured = compare_many(
            names,
            [DEFAULTS, DEFAULTS],
            options=options,
            min_rounds=plan.self_rounds,
            max_rounds=plan.self_rounds,
            on_round=record,
        )
        rows = []
        for name, made in zip(names, measured, strict=True):
            scored = Comparison(made.workload, goal_of(name), made.settings, made.rounds)
            interval = scored.interval(1, 0)
            rows.append(
                {
                    "workload": name,
                    "goal": scored.goal,
                    "rounds": len(scored.rounds),
                    "self": interval_dict(interval),
                    "within_target": interval is not None
                    and interval.low >= 1 - SELF_TARGET
                    and interval.high <= 1 + SELF_TARGET,
                    "scores": [scored.scores(0), scored.scores(1)],
                }
            )
        runs.append(
            {
                "repeats": steps,
                "chunks": turns_for(options),
                "target": SELF_TARGET,
                "seconds": time.monotonic() - start,
                "rows": rows,
            }
        )
    return runs


def _compare_report(comparison: Comparison, labels: dict[int, str]) -> dict[str, Any]:
    best = comparison.best
    rows = comparison.table_rows()
    for index, row in enumerate(rows):
        row["label"] = labels.get(index, comparison.label(index))
        row["vs_best"] = interval_dict(comparison.interval(index, best)) if index != best else None
    return {
        "stopped": comparison.stopped,
        "method": comparison.method,
        "seconds": comparison.seconds,
        "best": rows[best]["label"],
        "rows": rows,
    }


def several_processes(plan: Plan, results: ResultsFile, processes: int = 2) -> dict[str, Any]:
    """Throughput of two worker processes sharing the CPUs: defaults, advice, a grid (e).

    Each round's measurements go to ``results`` (scenario ``procs``).
    """
    cpus = topology().affinity_cpus
    advice = recommend("throughput", processes=processes)
    sizes = sorted({1, max(1, cpus // 2), cpus})
    settings = distinct_pools([DEFAULTS, advice.settings, *grid(sizes, sizes)], cpus)
    advised = settings.index(advice.settings) if advice.settings in settings else 0
    labels = [label(s) for s in settings]
    labels[advised] = f"recommend {labels[advised]}"
    comparison = compare(
        "mlp_throughput",
        settings,
        goal="throughput",
        options=plan.options.replace(processes=processes),
        min_rounds=plan.min_rounds,
        max_rounds=plan.max_rounds,
        precision=TIE,
        on_round=_recorder(results, "procs", labels),
    )
    data = _compare_report(comparison, {advised: f"recommend {comparison.label(advised)}"})
    ties = comparison.indistinguishable_from_best()
    data.update(
        processes=processes,
        recommend=comparison.label(advised),
        recommend_confidence=advice.confidence,
        recommend_tied_or_best=advised in ties,
    )
    return data


def quota_advice(quota: float) -> ThreadSettings:
    """Return what ``recommend`` gives for latency here under a quota of ``quota`` CPUs."""
    limited = dataclasses.replace(
        topology(),
        quota=CgroupQuota(
            version=1, path="(benchmark)", quota_us=int(quota * 1e5), period_us=100_000
        ),
    )
    return recommend("latency", topology=limited).settings


def under_quota(plan: Plan, results: ResultsFile, quota: float = 1.0) -> dict[str, Any]:
    """Tail latency inside a CPU quota below the visible CPUs: defaults against advice (f).

    Whole processes, one after the other: the processes of one cgroup share its quota,
    so a setting taking its turn would be throttled for what the other spent. Each
    round's measurements go to ``results`` (scenario ``quota``).
    """
    advice = quota_advice(quota)
    try:
        with cpu_quota(quota) as group:
            comparison = compare(
                "matmul",
                [DEFAULTS, advice],
                options=plan.options.replace(repeats=plan.options.repeats * 3, cgroup=group),
                min_rounds=plan.min_rounds,
                max_rounds=plan.min_rounds,
                chunks=1,
                on_round=_recorder(results, "quota", ["defaults", f"recommend {label(advice)}"]),
            )
    except UnsupportedPlatformError as error:
        return {"skipped": str(error)}
    p99 = [[1.0 / m.wall.p99 for m in comparison.measured(i)] for i in (0, 1)]
    throughput = [[m.throughput for m in comparison.measured(i)] for i in (0, 1)]
    return {
        "quota_cpus": quota,
        "recommend": comparison.label(1),
        "rounds": len(comparison.rounds),
        "seconds": comparison.seconds,
        "median_recommend_vs_defaults": interval_dict(comparison.interval(1, 0)),
        "p99_recommend_vs_defaults": interval_dict(ratio_interval(p99[0], p99[1])),
        "throughput_recommend_vs_defaults": interval_dict(
            ratio_interval(throughput[0], throughput[1])
        ),
    }
