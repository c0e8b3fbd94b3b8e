"""Measure thread settings on a many-core machine in interleaved rounds, with tfthreads.compare.

The evidence asked for in issue 13 ("Advice that holds beyond two cores"), measured with
the library: each scenario is a :func:`tfthreads.compare.compare` (one workload) or
:func:`~tfthreads.compare.compare_many` (two workloads in the same processes), whose
rounds measure every setting once, in an order that alternates (A B C, then C B A), the
settings' live processes taking turns chunk by chunk. Scenarios, in priority order, each
with a share of the time budget in proportion to the work it plans:

1. ``self``: TensorFlow's defaults against themselves (A and A') on a batch-256,
   1024-wide MLP in one process: the noise floor of a comparison.
2. ``procs``: the same MLP in ``P`` processes at once (4 by default): the defaults,
   ``recommend("throughput", processes=P)``, ``c``/1, ``c/2``/2 and 1/1, ``c`` the CPUs
   per process; total throughput.
3. ``latency``: ``mlp_latency`` at batch 1 and 32, intra-op 1, 2, 4, ... up to the CPU
   count, inter-op as ``recommend("latency")`` says.
4. ``grid``: ``mlp_throughput`` (goal throughput) and ``branches`` (goal latency) over
   intra-op {1, 2, 4, ...} x inter-op {1, 2, 4} and the defaults: a tuner's ground truth.
5. ``single``: the scenario-2 MLP in one process at scenario 2's per-process settings
   (``cpu_per_wall`` well under the thread count shows gaps other processes can fill).

The results are a results file written by :class:`tfthreads.results_file.ResultsFile`
through :mod:`_results` (as ``bench_engine.py`` writes its own), which ``tfthreads report`` and the site's "Results from other machines" page read: the
header's ``run`` holds the provenance (:func:`tfthreads.provenance.provenance`), the
recommendations and the scenarios (goals, baselines, settings); then one line per
measurement (its own fields plus ``scenario``, ``round``, ``position`` and ``label``),
appended as each round ends, so a run stopped by a time limit keeps what it measured;
other records are ``{"event": ...}`` lines. The Markdown report, with the tables of
:mod:`tfthreads.report`, is computed from that file alone; it also reads the files of the
first version of this script (``docs/results/many_core.jsonl``)::

    python benchmarks/bench_many_core.py --out docs/results/many_core.jsonl
    python benchmarks/bench_many_core.py --quick   # smoke test, into the temporary folder
    python benchmarks/bench_many_core.py --report docs/results/many_core.jsonl

``--budget SECONDS`` bounds the measuring time (420 s); the report goes to
``benchmarks/results/<name>.md`` (with ``--quick``, beside the results) or to ``--md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _results import append_round, run_header
from many_core_report import report

from tfthreads.compare import Comparison, compare, compare_many
from tfthreads.options import MeasureOptions
from tfthreads.provenance import describe_machine, provenance
from tfthreads.recommend import recommend
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings
from tfthreads.topology import topology
from tfthreads.workloads import WorkloadSpec, parse_workload

RESULTS = Path(__file__).parent / "results"
DOCS_RESULTS = Path(__file__).parents[1] / "docs" / "results"

#: What each scenario compares (the report's headings).
TITLES = {
    "self": "Self-comparison: TensorFlow's defaults against themselves, one process",
    "procs": "Throughput of {processes} processes at once",
    "latency": "Small-model latency against intra-op threads, one process",
    "grid": "Full grid, one process: the tuner's ground truth",
    "single": "The scenario-2 MLP in one process at scenario 2's per-process settings",
}


@dataclass
class Scenario:
    """Settings measured against each other in interleaved rounds."""

    key: str
    workloads: list[WorkloadSpec]
    settings: list[tuple[str, ThreadSettings]]  # (label, settings); the first is the baseline
    # per workload name: "latency" (median seconds per step, lower is better) or
    # "throughput" (items/s of all processes together, higher is better)
    goals: dict[str, str]
    processes: int
    repeats: int
    warmup: int
    rounds: int
    baseline: str = "first"  # "first" setting, or "best" (for the grid)

    @property
    def title(self) -> str:
        """What the scenario compares, from :data:`TITLES`."""
        return TITLES[self.key].format(processes=self.processes)

    @property
    def work(self) -> float:
        """The planned work, in setting-rounds, for sharing the time budget out."""
        more = (1 + 0.1 * (self.processes - 1)) * (1 + 0.3 * (len(self.workloads) - 1))
        return self.rounds * len(self.settings) * more

    def as_dict(self) -> dict[str, Any]:
        """Return the scenario as the header's ``run.scenarios`` holds it (see tfthreads.report)."""
        plain = ("key", "title", "processes", "repeats", "warmup", "goals", "baseline")
        return {
            **{name: getattr(self, name) for name in plain},
            "workloads": [w.as_dict() for w in self.workloads],
            "settings": [[label, s.intra_op, s.inter_op] for label, s in self.settings],
            "target_rounds": self.rounds,
        }


def _label(settings: ThreadSettings) -> str:
    return f"{settings.intra_op}/{settings.inter_op}"


def _named(*labels: str) -> list[tuple[str, ThreadSettings]]:
    """Return each label with the settings its last word names (``"recommend 4/2"``: 4/2).

    Of settings that are equal (a recommendation may equal a fixed one), the first stays.
    """
    first: dict[ThreadSettings, str] = {}
    for label in labels:
        intra, inter = label.split()[-1].strip("()").split("/")
        first.setdefault(ThreadSettings(int(intra), int(inter)), label)
    return [(label, settings) for settings, label in first.items()]


def _powers(limit: int) -> list[int]:
    """Return 1, 2, 4, ... below ``limit``, and ``limit`` itself."""
    return sorted({1, limit} | {2**k for k in range(1, 16) if 2**k < limit})


def plan(cpus: int, processes: int, *, quick: bool) -> tuple[list[Scenario], dict[str, Any]]:
    """Build the scenarios for a machine with ``cpus`` CPUs, and the recommendations."""
    if quick:
        big = parse_workload("mlp_throughput", batch=32, width=64)
        lat = [parse_workload("mlp_latency", width=64)]
        lat.append(parse_workload("mlp_latency", batch=8, width=64))
        grid = [parse_workload("mlp_throughput", batch=64, width=64)]
        grid.append(parse_workload("branches", n=32))
        rep_big, rep_lat, rep_grid, rounds = 5, 10, 5, (2, 2, 2, 2, 2)
    else:
        big = parse_workload("mlp_throughput", batch=256, width=1024)
        lat = [parse_workload("mlp_latency"), parse_workload("mlp_latency", batch=32)]
        grid = [parse_workload("mlp_throughput"), parse_workload("branches")]
        # compare_many measures rounds in pairs: even rounds for latency and grid.
        rep_big, rep_lat, rep_grid, rounds = 40, 200, 30, (5, 4, 4, 2, 2)
    recs = {
        "throughput_processes": recommend("throughput", processes=processes),
        "latency": recommend("latency"),
        "throughput": recommend("throughput"),
    }
    tp, lat_inter, tp1 = (_label(recs[key].settings) for key in recs)
    lat_inter = lat_inter.split("/")[1]
    per = max(1, cpus // processes)
    sizes = _powers(cpus)
    throughput = {big.name: "throughput"}
    procs = _named("defaults 0/0", f"recommend {tp}", f"{per}/1", f"{max(1, per // 2)}/2", "1/1")
    single = _named(f"{per}/1", f"recommend {tp}", "1/1", f"recommend(1 process) {tp1}")
    latency = _named(*(f"{n}/{lat_inter}" for n in sizes))
    grid_settings = _named(*(f"{i}/{j}" for i in sizes for j in (1, 2, 4)), "defaults 0/0")
    grid_goals = {grid[0].name: "throughput", grid[1].name: "latency"}
    self_settings = [("A (0/0)", ThreadSettings()), ("A' (0/0)", ThreadSettings())]  # equal
    lat_goals = {w.name: "latency" for w in lat}
    scenarios = [
        Scenario("self", [big], self_settings, {big.name: "latency"}, 1, rep_big, 5, rounds[0]),
        Scenario("procs", [big], procs, throughput, processes, rep_big, 5, rounds[1]),
        Scenario("latency", lat, latency, lat_goals, 1, rep_lat, 20, rounds[2]),
        Scenario("grid", grid, grid_settings, grid_goals, 1, rep_grid, 3, rounds[3], "best"),
        Scenario("single", [big], single, throughput, 1, rep_big, 5, rounds[4]),
    ]
    return scenarios, {key: rec.as_dict() for key, rec in recs.items()}


def _import_seconds() -> float:
    """Time one fresh ``import tensorflow``; stop the run, with its error, if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "import tensorflow"], capture_output=True, check=False, timeout=300
    )
    if done.returncode != 0:
        sys.exit(f"cannot import TensorFlow here:\n{done.stderr.decode(errors='replace')[-3000:]}")
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> Path:
    """Measure every scenario and write the results file."""
    cpus = topology().affinity_cpus
    processes = args.processes or (2 if args.quick else 4)
    scenarios, recs = plan(cpus, processes, quick=args.quick)
    record = provenance()
    print(f"machine: {describe_machine(record)}", flush=True)
    cold, warm = _import_seconds(), _import_seconds()
    print(f"TensorFlow import: first {cold:.1f} s, then {warm:.1f} s", flush=True)
    header = run_header(
        "bench_many_core",
        quick=args.quick,
        provenance=record,
        budget_s=args.budget,
        processes=processes,
        tensorflow_import_s={"first": cold, "second": warm},
        recommendations=recs,
        scenarios=[s.as_dict() for s in scenarios],
    )
    start = time.monotonic()
    with ResultsFile.open(args.out, resume=False, name="--out", run=header) as results:
        for index, scenario in enumerate(scenarios):
            left = args.budget - (time.monotonic() - start)
            # The later scenarios keep their part of what is left: each stops after the
            # round that crosses its share, and what it leaves goes to the next ones.
            share = left * scenario.work / sum(s.work for s in scenarios[index:])
            reason = "time budget" if left <= 0 else ""
            if len(scenario.settings) < 2:
                reason = "fewer than two settings on this machine"
            if reason:
                results.append({"event": "skipped", "scenario": scenario.key, "reason": reason})
                continue
            print(
                f"[{scenario.key}] up to {scenario.rounds} rounds of {len(scenario.settings)} "
                f"settings in {share:.0f} s ({left:.0f} s left)",
                flush=True,
            )
            try:
                done = _measure(scenario, share, results)
            except Exception as error:  # noqa: BLE001 - recorded, and the run goes on
                text = f"{type(error).__name__}: {error}"
                results.append({"event": "error", "scenario": scenario.key, "error": text})
                print(f"  {text}", flush=True)
                continue
            results.append(
                {
                    "event": "scenario",
                    "scenario": scenario.key,
                    "rounds": len(done.rounds),
                    "method": done.method or "settings at once, taking turns (compare_many)",
                    "seconds": done.seconds,
                }
            )
        results.append({"event": "end", "elapsed_s": time.monotonic() - start})
    return Path(args.out)


def _measure(scenario: Scenario, share: float, results: ResultsFile) -> Comparison:
    """Measure one scenario's rounds, appending each round's rows; return its first comparison."""
    repeats, warmup, processes = scenario.repeats, scenario.warmup, scenario.processes
    options = MeasureOptions(repeats=repeats, warmup=warmup, processes=processes, timeout=180)
    settings = [s for _, s in scenario.settings]
    labels = [label for label, _ in scenario.settings]
    goal = scenario.goals[scenario.workloads[0].name]  # the rows' goals come from the header
    if len(scenario.workloads) == 1:
        return compare(
            scenario.workloads[0],
            settings,
            goal=goal,
            options=options,
            min_rounds=scenario.rounds,
            max_rounds=scenario.rounds,
            budget_seconds=share,
            on_round=lambda c: append_round(results, scenario.key, labels, [c], len(c.rounds) - 1),
        )
    # compare_many has no budget: two rounds at a time (the order alternates within them)
    # until the rounds are done or the share is spent.
    start = time.monotonic()
    comparisons: list[Comparison] = []
    while not comparisons or (
        len(comparisons[0].rounds) < scenario.rounds and time.monotonic() - start < share
    ):
        pair = compare_many(
            scenario.workloads, settings, goal=goal, options=options, min_rounds=2, max_rounds=2
        )
        if not comparisons:
            comparisons = pair
        else:
            for comparison, more in zip(comparisons, pair, strict=True):
                comparison.rounds += more.rounds
        for number in range(len(comparisons[0].rounds) - 2, len(comparisons[0].rounds)):
            append_round(results, scenario.key, labels, comparisons, number)
    comparisons[0].seconds = time.monotonic() - start
    return comparisons[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, measure (unless ``--report``) and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        help="results file (docs/results/many_core.jsonl; with --quick, in the temporary folder)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and few rounds: a smoke test"
    )
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds of measuring (420; 240 with --quick)"
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="processes in scenario 2 (4; 2 with --quick)"
    )
    parser.add_argument(
        "--report", metavar="RESULTS", help="only write the report of an existing results file"
    )
    parser.add_argument(
        "--md", help="report file (benchmarks/results/<name>.md; with --quick, beside --out)"
    )
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 240.0 if args.quick else 420.0
    if args.out is None:
        quick = Path(tempfile.gettempdir()) / "many_core-quick.jsonl"
        args.out = str(quick if args.quick else DOCS_RESULTS / "many_core.jsonl")
    source = Path(args.report) if args.report else run(args)
    text = report(source)
    beside = args.quick and not args.report
    target = Path(
        args.md or (source.with_suffix(".md") if beside else RESULTS / f"{source.stem}.md")
    )
    target.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
