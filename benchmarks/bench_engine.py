"""Measure the measurement engine and the advice on this machine, and write the results.

Run it with ``python benchmarks/bench_engine.py`` (about an hour on 2 cores;
``--quick`` checks the script in a few minutes with numbers that mean nothing). It writes
``benchmarks/results/engine.json`` and ``engine.md`` with the machine's description and
prints the Markdown. Every measurement of the comparisons (b, c, e, f) also goes, as each
round ends, into the results file ``benchmarks/results/engine.jsonl`` (with ``--only``,
``engine-<part>.jsonl``; with ``--quick``, ``engine-quick.jsonl`` in the temporary
folder), written as ``bench_many_core.py`` writes its own (:mod:`_results`) and read by
``tfthreads report``; ``engine.json`` is the summary beside it.

Every comparison is a ratio with its 95 % interval, from settings measured in paired
rounds as :func:`tfthreads.compare.compare` measures by default: in each round the
settings' processes are alive at once and take turns, chunk by chunk, so that every
setting meets the same state of a machine whose speed changes within seconds. A ratio
whose interval contains 1, or that is within 5 % of 1 (:data:`tfthreads.stats.TIE`), is a
tie. ``benchmarks/results/engine-whole-processes.md`` holds the run before chunked rounds
were the default (each setting a whole process, one after the other), which the Markdown
quotes beside this run's.

What it measures:

a. the cost of one isolated measurement against a bare ``python -c`` that imports
   TensorFlow and does the same work;
b. TensorFlow's defaults against themselves on every built-in workload (target: the
   interval within ±3 %);
c. every built-in workload on a grid of at least 12 settings (intra-op 1, 2, 3, 4 by
   inter-op 1, 2, 4 on 2 CPUs), with the defaults and ``recommend``'s advice: the best of
   a screening of the grid, then ``recommend``, the defaults and tune's pick against it
   until every interval is within ±5 % (:mod:`engine_grid`);
d. ``tune`` with its default budget, the grid as its candidates (target: the best or tied
   with it, in at most half the grid's measurements);
e. two worker processes sharing the CPUs (throughput);
f. a CPU quota below the visible CPUs (tail latency; a temporary cgroup, where the
   machine allows).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _results import run_header
from engine_grid import grid_and_tune
from engine_parts import (
    overhead,
    quota_advice,
    self_comparison,
    self_scenario,
    several_processes,
    under_quota,
)
from engine_plan import FULL, QUICK, Plan, goal_of, label
from engine_report import markdown

from tfthreads.provenance import describe_machine, provenance
from tfthreads.recommend import recommend
from tfthreads.results_file import ResultsFile
from tfthreads.workloads import BUILTIN_WORKLOADS

RESULTS = Path(__file__).parent / "results"
#: What each scenario of the results file compares (``tfthreads report``'s headings).
TITLES = {
    "grid": "The grid's screening, every built-in workload (defaults measured again last)",
    "self": "TensorFlow's defaults against themselves, live processes taking turns",
    "procs": "Two worker processes sharing the CPUs (mlp_throughput)",
    "quota": "Under a CPU quota below the visible CPUs (matmul), whole processes",
}


def scenarios(plan: Plan) -> list[dict[str, Any]]:
    """Return the scenarios as the results file's header holds them (see tfthreads.report).

    Their settings are not listed: the rows name them, in the order of each first round.
    """
    every = {name: goal_of(name) for name in BUILTIN_WORKLOADS}
    goals = {"grid": every, "self": every, "procs": {"mlp_throughput": "throughput"}}
    goals["quota"] = {"matmul": "latency"}
    listed = [
        # The grid's question is each setting against the best; the others' against the
        # first setting (the defaults, or in a precise comparison the grid's best).
        {
            "key": key,
            "title": title,
            "goals": goals[key],
            "baseline": "best" if key == "grid" else "first",
        }
        for key, title in TITLES.items()
    ]
    for steps in plan.self_repeats:
        if self_scenario(plan, steps) != "self":
            listed.append(
                {
                    "key": self_scenario(plan, steps),
                    "title": f"{TITLES['self']}, loops of {steps} steps",
                    "goals": every,
                    "baseline": "first",
                }
            )
    for name in plan.tuned:
        listed.append(
            {
                "key": f"precise {name}",
                "title": f"The grid's best against recommend, the defaults and tune ({name})",
                "goals": {name: goal_of(name)},
                "baseline": "first",
            }
        )
    return listed


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
    parser.add_argument(
        "--self-repeats",
        type=int,
        nargs="+",
        metavar="STEPS",
        help="with --only self: measure loops of these lengths alone, keeping the others'",
    )
    args = parser.parse_args(argv)
    if args.self_repeats and args.only != "self":
        parser.error("--self-repeats: goes with --only self")
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
        several["recommend_now"] = label(now)
        if "skipped" not in data["quota"]:
            data["quota"]["recommend_now"] = label(quota_advice(data["quota"]["quota_cpus"]))
        save()
        _write(data, args.quick)
        return
    # The measurements go beside the summary: engine.jsonl (engine-<part>.jsonl with
    # --only; engine-self-<steps>.jsonl with --self-repeats, so that the files of loop
    # lengths measured apart are all kept).
    suffix = f"-{args.only}" if args.only else ""
    if args.self_repeats:
        suffix += "".join(f"-{steps}" for steps in args.self_repeats)
    out = target.with_name(f"{target.stem}{suffix}.jsonl")
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
        with ResultsFile.open(out, resume=False, run=header) as results:
            if args.only == "self":
                key = "self_comparison"
                steps = tuple(args.self_repeats or plan.self_repeats)
                kept = [run for run in data.get(key, []) if run["repeats"] not in steps]
                fresh = self_comparison(plan, results, steps)
                for run in fresh:
                    run["results_file"] = out.name
                measured: Any = kept + fresh
                measured.sort(key=lambda run: run["repeats"])
            else:
                key, measured = "quota", under_quota(plan, results)
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
    save(results_file=results.path.name, plan=plan.as_dict())
    seconds: dict[str, float] = {}
    for key, part in (
        ("self_comparison", lambda: self_comparison(plan, results)),
        ("strategies", lambda: grid_and_tune(plan, results, save)),  # saves its own steps
        ("several_processes", lambda: several_processes(plan, results)),
        ("quota", lambda: under_quota(plan, results)),
        ("overhead", lambda: overhead(plan)),
    ):
        start = time.monotonic()
        measured = part()
        seconds[key] = time.monotonic() - start
        save(**({} if measured is None else {key: measured}), seconds=dict(seconds))


def _write(data: dict[str, Any], quick: bool) -> None:
    text = markdown(data)
    if not quick:
        (RESULTS / "engine.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
