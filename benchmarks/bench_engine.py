"""Measure the measurement engine and the advice on this machine, and write the results.

Run it with ``python benchmarks/bench_engine.py`` (about half an hour on 2 cores;
``--quick`` checks the script in a few minutes with numbers that mean nothing). It writes
``benchmarks/results/engine.json`` and ``engine.md`` with the machine's description and
prints the Markdown. Every measurement of the comparisons (b, c, e, f) also goes, as each
round ends, into the results file ``benchmarks/results/engine.jsonl`` (with ``--only``,
``engine-<part>.jsonl``; with ``--quick``, ``engine-quick.jsonl`` in the temporary
folder), written as ``bench_many_core.py`` writes its own (:mod:`_results`) and read by
``tfthreads report``; ``engine.json`` is the summary beside it.

Every comparison is a ratio with its 95 % interval, from settings measured in interleaved
rounds of fresh processes (the order reversed every other round, so drift on a shared
machine hits every setting alike), with the statistics of
:class:`tfthreads.compare.Comparison`. A ratio whose interval contains 1, or that is within
5 % of 1 (:data:`tfthreads.stats.TIE`), is a tie.

What it measures:

a. the cost of one isolated measurement against a bare ``python -c`` that imports
   TensorFlow and does the same work;
b. TensorFlow's defaults against themselves, measured twice in every round, with whole
   processes one after the other and with live processes taking turns chunk by chunk
   (target: the interval within ±5 %);
c. every built-in workload on a grid of at least 12 settings (intra-op 1, 2, 3, 4 by
   inter-op 1, 2, 4 on 2 CPUs), with the defaults and ``recommend``'s advice: the best of
   the grid, and ``recommend`` and the defaults against it;
d. ``tune`` on that grid with half the grid's runs (target: within the noise of the
   grid's best);
e. two worker processes sharing the CPUs (throughput);
f. a CPU quota below the visible CPUs (tail latency; a temporary cgroup, where the
   machine allows).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _results import append_round, run_header
from engine_report import markdown

from tfthreads.compare import Comparison, compare
from tfthreads.errors import UnsupportedPlatformError
from tfthreads.measure import measure, measure_many
from tfthreads.options import MeasureOptions
from tfthreads.provenance import describe_machine, provenance
from tfthreads.quota import cpu_quota
from tfthreads.recommend import recommend
from tfthreads.results import Measurement
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.stats import RatioInterval, ratio_interval
from tfthreads.sweep import grid
from tfthreads.topology import CgroupQuota, topology
from tfthreads.tune import distinct_pools, tune
from tfthreads.workloads import BUILTIN_WORKLOADS, parse_workload

RESULTS = Path(__file__).parent / "results"
LATENCY_WORKLOADS = {"matmul", "branches", "mlp_latency", "conv2d"}
DEFAULTS = ThreadSettings()
#: Turns per setting in the self-comparison's chunk-by-chunk rounds (part b).
SELF_CHUNKS = 6
#: Workloads that ``tune`` is run on, against the grid's ground truth.
TUNED = ("branches", "mlp_throughput")
#: What each scenario of the results file compares (``tfthreads report``'s headings).
TITLES = {
    "grid": "The grid, every built-in workload (defaults measured again last in each round)",
    "self": "TensorFlow's defaults against themselves, whole processes one after the other",
    "self_chunks": "TensorFlow's defaults against themselves, live processes taking turns",
    "procs": "Two worker processes sharing the CPUs (mlp_throughput)",
    "quota": "Under a CPU quota below the visible CPUs (matmul)",
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much to measure: the full run, or a quick check of the script."""

    options: MeasureOptions
    intra_op: tuple[int, ...]
    inter_op: tuple[int, ...]
    min_rounds: int
    max_rounds: int
    grid_seconds: float
    compare_rounds: int
    self_rounds: int
    #: Workloads of the self-comparison (b), and timings of each kind in the overhead (a).
    self_workloads: tuple[str, ...] = ("matmul", "mlp_throughput")
    overhead_trials: int = 3

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as the results file's header holds it."""
        plain = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        options = {f.name: getattr(self.options, f.name) for f in dataclasses.fields(self.options)}
        # The options' env is a read-only mapping, which neither JSON nor asdict takes.
        return {**plain, "options": {**options, "env": dict(self.options.env)}}


FULL = Plan(MeasureOptions(repeats=30, warmup=3), (1, 2, 3, 4), (1, 2, 4), 4, 6, 1200.0, 6, 30)
# A few minutes on 2 CPUs (CI runs it): one self-comparison workload, one overhead trial.
QUICK = Plan(MeasureOptions(repeats=3, warmup=1), (1, 2), (1, 2), 2, 2, 60.0, 2, 2, ("matmul",), 1)


def _goal(name: str) -> str:
    return "latency" if name in LATENCY_WORKLOADS else "throughput"


def scenarios(plan: Plan) -> list[dict[str, Any]]:
    """Return the scenarios as the results file's header holds them (see tfthreads.report).

    Their settings are not listed: the rows name them, in the order of each first round.
    """
    self_goals = {name: _goal(name) for name in plan.self_workloads}
    goals = {
        "grid": {name: _goal(name) for name in BUILTIN_WORKLOADS},
        "self": self_goals,
        "self_chunks": self_goals,
        "procs": {"mlp_throughput": "throughput"},
        "quota": {"matmul": "latency"},
    }
    return [
        {
            "key": key,
            "title": title,
            "goals": goals[key],
            # The grid's question is each setting against the best; the others' against
            # the first setting (the defaults).
            "baseline": "best" if key == "grid" else "first",
        }
        for key, title in TITLES.items()
    ]


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


def _interval(interval: RatioInterval | None) -> dict[str, Any] | None:
    return None if interval is None else interval.as_dict()


def _self_interval(comparison: Comparison, again: int) -> RatioInterval | None:
    if len(comparison.rounds) < 2:
        return None
    return ratio_interval(comparison.scores(0), comparison.scores(again))


def grid_rounds(plan: Plan, results: ResultsFile) -> tuple[dict[str, Comparison], int, float]:
    """Measure every workload under every setting of the grid, in interleaved rounds (b, c).

    Each round starts one child per setting that runs all the built-in workloads, so one
    round is one run of the whole grid. The defaults are measured twice per round (the
    last column is their second measurement). Rounds stop when the self-comparison of
    every workload is within ±5 %, after ``max_rounds`` or after ``grid_seconds``.
    Each round's measurements go to ``results`` (scenario ``grid``).
    """
    cpus = topology().affinity_cpus
    advice = [recommend(goal).settings for goal in ("latency", "throughput")]
    settings = distinct_pools([DEFAULTS, *advice, *grid(plan.intra_op, plan.inter_op)], cpus)
    columns = [*settings, DEFAULTS]  # the last one: the defaults again
    labels = [*map(_label, settings), f"{_label(DEFAULTS)} again"]
    names = list(BUILTIN_WORKLOADS)
    comparisons = {
        name: Comparison(parse_workload(name), _goal(name), tuple(columns)) for name in names
    }
    start = time.monotonic()
    while True:
        order = list(range(len(columns)))
        if len(comparisons[names[0]].rounds) % 2:
            order.reverse()
        row: dict[int, list[Measurement]] = {}
        for index in order:
            row[index] = measure_many(names, columns[index], options=plan.options)
        for position, name in enumerate(names):
            comparisons[name].rounds.append([row[i][position] for i in range(len(columns))])
        done = len(comparisons[names[0]].rounds)
        append_round(results, "grid", labels, list(comparisons.values()), done - 1)
        print(f"grid: round {done} done after {time.monotonic() - start:.0f} s", flush=True)
        selves = [_self_interval(c, len(columns) - 1) for c in comparisons.values()]
        precise = all(s is not None and s.half_width <= 0.05 for s in selves)
        if done >= plan.max_rounds or time.monotonic() - start > plan.grid_seconds:
            break
        if done >= plan.min_rounds and precise:
            break
    return comparisons, len(settings), time.monotonic() - start


def _without_again(comparison: Comparison) -> Comparison:
    """Return the comparison of the grid alone, without the defaults. second measurement."""
    return Comparison(
        comparison.workload,
        comparison.goal,
        comparison.settings[:-1],
        [row[:-1] for row in comparison.rounds],
    )


def strategies(comparisons: dict[str, Comparison]) -> list[dict[str, Any]]:
    """For each workload: the best of the grid, and recommend and the defaults against it."""
    report = []
    for name, full in comparisons.items():
        comparison = _without_again(full)
        best = comparison.best
        advice = recommend(comparison.goal)
        # The grid holds one setting per pair of pool sizes: find the one advice starts.
        cpus = topology().affinity_cpus
        resolved = [
            resolve_pools(s, affinity_cpus=cpus, environ={})
            for s in (advice.settings, *comparison.settings)
        ]
        sizes = [(r.intra_op, r.inter_op) for r in resolved]
        advised = sizes[1:].index(sizes[0])
        ties = comparison.indistinguishable_from_best()
        report.append(
            {
                "workload": name,
                "goal": comparison.goal,
                "rounds": len(comparison.rounds),
                "grid_points": len(comparison.settings),
                "best": comparison.label(best),
                "tied_with_best": [comparison.label(i) for i in ties if i != best],
                "self": _interval(_self_interval(full, len(full.settings) - 1)),
                "recommend": comparison.label(advised),
                "recommend_confidence": advice.confidence,
                "recommend_says_tune": advice.measure_instead is not None,
                "recommend_vs_best": _interval(comparison.interval(advised, best)),
                "recommend_tied_or_best": advised in ties,
                "defaults_vs_best": _interval(comparison.interval(0, best)),
                "defaults_tied_or_best": 0 in ties,
            }
        )
    return report


def tuned(comparisons: dict[str, Comparison], plan: Plan) -> list[dict[str, Any]]:
    """Run tune on the grid with half the grid's runs; place its pick in the ground truth (d)."""
    report = []
    for name in TUNED:
        truth = _without_again(comparisons[name])
        grid_runs = len(truth.settings) * len(truth.rounds)
        found = tune(
            name,
            truth.goal,
            budget=max(4, grid_runs // 2),
            options=plan.options,
            grid=list(truth.settings[1:]),
        )
        pick = truth.settings.index(found.best)
        best = truth.best
        ties = truth.indistinguishable_from_best()
        report.append(
            {
                "workload": name,
                "goal": truth.goal,
                "grid_points": len(truth.settings),
                "grid_runs": grid_runs,
                "tune_runs": len(found.tried.rows),
                "tune_pick": truth.label(pick),
                "grid_best": truth.label(best),
                "pick_vs_best": _interval(truth.interval(pick, best)),
                "within_noise_of_best": pick in ties,
            }
        )
    return report


def _compare_report(comparison: Comparison, labels: dict[int, str]) -> dict[str, Any]:
    best = comparison.best
    rows = comparison.table_rows()
    for index, row in enumerate(rows):
        row["label"] = labels.get(index, comparison.label(index))
        row["vs_best"] = _interval(comparison.interval(index, best)) if index != best else None
    return {"stopped": comparison.stopped, "best": rows[best]["label"], "rows": rows}


def self_comparison(plan: Plan, results: ResultsFile) -> list[dict[str, Any]]:
    """Compare TensorFlow's defaults with themselves, next to each other in every round (b).

    With two settings the rounds run A B, B A, A B ..., so the two measurements of a
    round are taken one after the other: the precision a comparison can reach when the
    settings compared are measured close in time. Each round's measurements go to
    ``results`` (scenario ``self``, or ``self_chunks`` where processes take turns).
    """
    report = []
    for name, wanted in itertools.product(plan.self_workloads, (1, SELF_CHUNKS)):
        chunks = min(wanted, plan.options.repeats)
        scenario = "self" if wanted == 1 else "self_chunks"
        comparison = compare(
            name,
            [DEFAULTS, DEFAULTS],
            goal=_goal(name),
            options=plan.options,
            # A fixed number of rounds: stopping once the interval looked narrow enough
            # would favour the rounds that happened to agree.
            min_rounds=plan.self_rounds,
            max_rounds=plan.self_rounds,
            chunks=chunks,
            on_round=_recorder(results, scenario, ["A (defaults)", "A' (defaults)"]),
        )
        interval = comparison.interval(1, 0)
        report.append(
            {
                "workload": name,
                "chunks": chunks,
                "goal": comparison.goal,
                "rounds": len(comparison.rounds),
                "stopped": comparison.stopped,
                "self": _interval(interval),
                "within_5_percent": interval is not None
                and interval.low >= 0.95
                and interval.high <= 1.05,
                "scores": [comparison.scores(0), comparison.scores(1)],
            }
        )
    return report


def several_processes(plan: Plan, results: ResultsFile, processes: int = 2) -> dict[str, Any]:
    """Throughput of two worker processes sharing the CPUs: defaults, advice, a grid (e).

    Each round's measurements go to ``results`` (scenario ``procs``).
    """
    cpus = topology().affinity_cpus
    advice = recommend("throughput", processes=processes)
    sizes = sorted({1, max(1, cpus // 2), cpus})
    settings = distinct_pools([DEFAULTS, advice.settings, *grid(sizes, sizes)], cpus)
    advised = settings.index(advice.settings) if advice.settings in settings else 0
    labels = [_label(s) for s in settings]
    labels[advised] = f"recommend {labels[advised]}"
    comparison = compare(
        "mlp_throughput",
        settings,
        goal="throughput",
        options=plan.options.replace(processes=processes),
        min_rounds=min(3, plan.compare_rounds),
        max_rounds=plan.compare_rounds,
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


def _quota_advice(quota: float) -> ThreadSettings:
    """Return what ``recommend`` gives for latency here under a quota of ``quota`` CPUs."""
    limited = dataclasses.replace(
        topology(),
        quota=CgroupQuota(
            version=1, path="(benchmark)", quota_us=int(quota * 1e5), period_us=100_000
        ),
    )
    return recommend("latency", topology=limited).settings


def _label(settings: ThreadSettings) -> str:
    return "defaults" if settings == DEFAULTS else f"{settings.intra_op}/{settings.inter_op}"


def under_quota(plan: Plan, results: ResultsFile, quota: float = 1.0) -> dict[str, Any]:
    """Tail latency inside a CPU quota below the visible CPUs: defaults against advice (f).

    Each round's measurements go to ``results`` (scenario ``quota``).
    """
    advice = _quota_advice(quota)
    try:
        with cpu_quota(quota) as group:
            comparison = compare(
                "matmul",
                [DEFAULTS, advice],
                options=plan.options.replace(repeats=plan.options.repeats * 3, cgroup=group),
                min_rounds=min(3, plan.compare_rounds),
                max_rounds=plan.compare_rounds,
                on_round=_recorder(results, "quota", ["defaults", f"recommend {_label(advice)}"]),
            )
    except UnsupportedPlatformError as error:
        return {"skipped": str(error)}
    p99 = [[1.0 / m.wall.p99 for m in comparison.measured(i)] for i in (0, 1)]
    throughput = [[m.throughput for m in comparison.measured(i)] for i in (0, 1)]
    return {
        "quota_cpus": quota,
        "recommend": comparison.label(1),
        "rounds": len(comparison.rounds),
        "median_recommend_vs_defaults": _interval(comparison.interval(1, 0)),
        "p99_recommend_vs_defaults": _interval(ratio_interval(p99[0], p99[1])),
        "throughput_recommend_vs_defaults": _interval(ratio_interval(throughput[0], throughput[1])),
    }


def main(argv: list[str] | None = None) -> None:
    """Run every part and write the results next to this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="check the script; no results")
    parser.add_argument(
        "--render",
        action="store_true",
        help="write engine.md again from engine.json, with what recommend says now",
    )
    parser.add_argument(
        "--only",
        choices=("self", "quota"),
        help="measure part (b) or (f) alone and replace it in the existing results",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    quick_file = Path(tempfile.gettempdir()) / "engine-quick.json"
    target = quick_file if args.quick else RESULTS / "engine.json"
    data: dict[str, Any] = {"machine": describe_machine(), "provenance": provenance()}

    def save(**parts: Any) -> None:
        # Written after every part, so a crash or a time limit keeps what was measured.
        data.update(parts)
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n")

    if args.render:
        data = json.loads(target.read_text())
        several = data["several_processes"]
        now = recommend("throughput", processes=several["processes"]).settings
        several["recommend_now"] = _label(now)
        if "skipped" not in data["quota"]:
            data["quota"]["recommend_now"] = _label(_quota_advice(data["quota"]["quota_cpus"]))
        save()
        _write(data, args.quick)
        return
    # The measurements go beside the summary: engine.jsonl (engine-<part>.jsonl with --only).
    out = target.with_name(f"{target.stem}{f'-{args.only}' if args.only else ''}.jsonl")
    header = run_header(
        "bench_engine",
        quick=args.quick,
        provenance=data["provenance"],
        only=args.only,
        plan=plan.as_dict(),
        scenarios=scenarios(plan),
    )
    if args.only:
        data = json.loads(target.read_text())
        part: dict[str, tuple[str, Callable[[Plan, ResultsFile], Any]]] = {
            "self": ("self_comparison", self_comparison),
            "quota": ("quota", under_quota),
        }
        key, measure_part = part[args.only]
        with ResultsFile.open(out, resume=False, run=header) as results:
            measured = measure_part(plan, results)
        save(
            **{key: measured, f"{key}_date": provenance()["date"], f"{key}_results_file": out.name}
        )
        _write(data, args.quick)
        return
    with ResultsFile.open(out, resume=False, run=header) as results:
        _measure_all(plan, results, save)
    _write(data, args.quick)


def _measure_all(plan: Plan, results: ResultsFile, save: Callable[..., None]) -> None:
    """Measure parts (a) to (f), appending the comparisons' rows to ``results``; ``save`` each."""
    save(results_file=results.path.name)
    comparisons, points, seconds = grid_rounds(plan, results)
    save(
        grid_points=points,
        grid_rounds=len(next(iter(comparisons.values())).rounds),
        grid_seconds=seconds,
        strategies=strategies(comparisons),
        # Every round's score of every setting: enough to recompute any ratio above.
        scores={
            name: {
                c.label(i) + ("" if i < points else " again"): c.scores(i)
                for i in range(len(c.settings))
            }
            for name, c in comparisons.items()
        },
    )
    save(tune=tuned(comparisons, plan))
    save(several_processes=several_processes(plan, results))
    save(quota=under_quota(plan, results))
    save(overhead=overhead(plan))
    save(self_comparison=self_comparison(plan, results))


def _write(data: dict[str, Any], quick: bool) -> None:
    text = markdown(data)
    if not quick:
        (RESULTS / "engine.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
