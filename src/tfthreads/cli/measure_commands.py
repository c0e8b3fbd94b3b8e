"""The measuring commands of the CLI: ``recommend``, ``sweep``, ``tune`` and ``report``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from tfthreads.cli._arguments import EXIT_FAILURE, EXIT_OK, argument, thread_list
from tfthreads.measure import CHUNKS
from tfthreads.options import PROCESSES, REPEATS, TIMEOUT, WARMUP, MeasureOptions
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings
from tfthreads.stats import TIE
from tfthreads.tune import BUDGET

_EXAMPLES = {
    "recommend": """examples:
  tfthreads recommend                          # one process, lowest latency
  tfthreads recommend --goal throughput --processes 4 --json""",
    "sweep": """examples:
  tfthreads sweep matmul --intra-op 1,2,4 --inter-op 1,2
  tfthreads sweep mlp_latency conv2d --intra-op 1,2 --output sweep.jsonl
  tfthreads sweep model.keras --input-shape 1,28,28 --intra-op 1,2

built-in workloads: branches, conv2d, data_map, matmul, mlp_latency, mlp_throughput;
also 'package.module:function' (returns a step callable) or a saved Keras model.""",
    "tune": """examples:
  tfthreads tune mlp_latency
  tfthreads tune model.keras --input-shape 1,224,224,3 --goal throughput --budget 30

Each measurement is a fresh TensorFlow process (a few seconds each): --budget is how
many there may be in all. The best setting is named with its gain over TensorFlow's
defaults and a 95 % interval, and with every setting that cannot be told apart from it.""",
    "report": f"""examples:
  tfthreads report sweep.jsonl
  tfthreads report docs/results/many_core.jsonl --json

Per file: its machine, date and TensorFlow release; per scenario, workload and goal:
each setting's rounds, median step time, throughput, and its ratio to the baseline with
a 95 % interval (paired by round); 'better' or 'worse' when the interval excludes 1 and
the ratio is not within {TIE * 100:g} % of 1, else a tie: 'indistinguishable', or
'inconclusive' when the interval is too wide to decide.""",
}


def _add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument("--json", action="store_true", help="print JSON instead of text")
    command.add_argument(
        "--processes",
        type=argument(PROCESSES, "processes"),
        default=1,
        metavar="P",
        help="worker processes sharing the CPUs (default 1)",
    )


def _add_measuring(command: argparse.ArgumentParser, output_help: str) -> None:
    command.add_argument(
        "--input-shape", metavar="SHAPE", help="input shape of a Keras model, e.g. 1,28,28"
    )
    defaults = MeasureOptions()
    command.add_argument(
        "--repeats", type=argument(REPEATS, "repeats"), default=defaults.repeats, metavar="N"
    )
    command.add_argument(
        "--warmup", type=argument(WARMUP, "warmup"), default=defaults.warmup, metavar="N"
    )
    command.add_argument(
        "--timeout",
        type=argument(TIMEOUT, "seconds"),
        default=defaults.timeout,
        metavar="S",
        help="per setting",
    )
    command.add_argument("--output", metavar="FILE", help=output_help)


def add_commands(commands: Any) -> None:
    """Add ``recommend``, ``sweep``, ``tune`` and ``report`` to the CLI's sub-parsers."""
    formatter = argparse.RawDescriptionHelpFormatter
    recommend = commands.add_parser(
        "recommend",
        help="thread settings from rules, with the reasons",
        description="Recommend intra/inter-op threads for this machine's real CPU budget: "
        "each rule names the measurement it rests on, the advice states its confidence, "
        "and where the rule cannot know (model size and shape matter) it names the "
        "'tfthreads tune' command to run instead.",
        epilog=_EXAMPLES["recommend"],
        formatter_class=formatter,
    )
    recommend.add_argument("--goal", choices=("latency", "throughput"), default="latency")
    _add_common(recommend)

    sweep = commands.add_parser(
        "sweep",
        help="measure workloads over a grid of settings",
        description="Measure workloads under every intra/inter-op combination, one fresh "
        "TensorFlow process per setting.",
        epilog=_EXAMPLES["sweep"],
        formatter_class=formatter,
    )
    sweep.add_argument("workloads", nargs="+", metavar="WORKLOAD")
    sweep.add_argument("--intra-op", type=thread_list(1), default=[1], metavar="LIST")
    sweep.add_argument("--inter-op", type=thread_list(1), default=[1], metavar="LIST")
    sweep.add_argument("--no-resume", action="store_true", help="start the output file afresh")
    _add_common(sweep)
    _add_measuring(
        sweep,
        "write each result to this JSON-lines file as it is measured; the same sweep run "
        "again resumes it, reusing the rows measured under the same conditions",
    )

    tune = commands.add_parser(
        "tune",
        help="search for the best settings by measurement",
        description="Screen TensorFlow's defaults, the recommendation and a coarse grid "
        "(successive halving), then compare the finalists in interleaved rounds, and print "
        "the best settings with their gain over the defaults and its interval.",
        epilog=_EXAMPLES["tune"],
        formatter_class=formatter,
    )
    tune.add_argument("workload", metavar="WORKLOAD")
    tune.add_argument("--goal", choices=("latency", "throughput"), default="latency")
    tune.add_argument("--no-resume", action="store_true", help="start the output file afresh")
    tune.add_argument(
        "--budget",
        type=argument(BUDGET, "budget"),
        default=40,
        metavar="N",
        help="most measurements, each in a process of its own (default 40)",
    )
    tune.add_argument(
        "--intra-op",
        type=thread_list(1),
        metavar="LIST",
        help="intra-op sizes to search (with --inter-op; default: a coarse grid for this machine)",
    )
    tune.add_argument(
        "--inter-op",
        type=thread_list(1),
        metavar="LIST",
        help="inter-op sizes to search (with --intra-op)",
    )
    tune.add_argument(
        "--chunks",
        type=argument(CHUNKS, "chunks"),
        default=None,
        metavar="N",
        help="final rounds: run the finalists at once, taking N turns each (default: 6, "
        "or --repeats if fewer); 1 measures them one after the other in fresh processes",
    )
    _add_common(tune)
    _add_measuring(
        tune,
        "write each measurement to this JSON-lines file as it is made; the file holds one "
        "tune, and the same tune run again resumes it where it stopped",
    )

    report = commands.add_parser(
        "report",
        help="compare the settings in results files, with intervals",
        description="Read results files (from sweep or tune --output, or another "
        "machine) and print each setting against its scenario's baseline.",
        epilog=_EXAMPLES["report"],
        formatter_class=formatter,
    )
    report.add_argument("files", nargs="+", metavar="FILE")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")


def _workload_params(args: argparse.Namespace) -> dict[str, Any]:
    return {"input_shape": args.input_shape} if args.input_shape else {}


def _note(line: str) -> None:
    print(f"tfthreads: {line}", file=sys.stderr)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


def _tune_report(found: Any) -> str:
    """Write tune's report: the final comparison, the verdict with its interval, how to apply it."""
    best, speedup, ties, comparison = (
        found.best,
        found.speedup,
        found.indistinguishable,
        found.comparison,
    )
    failed = comparison.failed(0)
    baseline = comparison.settings.index(best) if failed else 0
    rounds = len(comparison.rounds)
    lines = [
        comparison.table(baseline),
        "",
        f"final comparison: {rounds} round(s)"
        + (f", {comparison.method}" if comparison.method else "")
        + "; "
        + _stopped(found)
        + f"; {found.seconds:.0f} s in all, {len(found.tried.rows)} measurements",
    ]
    conclusion = found.conclusion
    if conclusion == "defaults failed":
        lines.append(
            f"TensorFlow's defaults failed here ({failed.reason}: {failed.error}): do not keep "
            f"them. Best for {found.goal} of the settings that ran: {best.describe()}."
        )
    elif conclusion == "defaults best":
        lines.append(f"best for {found.goal}: TensorFlow's defaults: nothing to set.")
    elif conclusion == "inconclusive":
        named = "TensorFlow's defaults" if best == ThreadSettings() else best.describe()
        against = "against TensorFlow's defaults" if speedup else "against the runner-up"
        lines.append(
            f"best for {found.goal}: {named}, but inconclusive after {rounds} round(s) "
            f"{against} ({found.closest.describe()}, too wide to decide): raise --budget, "
            "or --repeats for longer turns."
        )
    elif conclusion == "indistinguishable":
        lines.append(
            f"best for {found.goal}: {best.describe()}, but indistinguishable from "
            f"TensorFlow's defaults ({speedup.describe()} times better): keeping the "
            "defaults is as good."
        )
    else:
        lines.append(
            f"best for {found.goal}: {best.describe()}, {speedup.describe()} times better "
            "than TensorFlow's defaults"
        )
    if ties:
        told = "nor told apart from" if conclusion == "inconclusive" else "indistinguishable from"
        lines.append(f"{told} it: " + "; ".join(s.describe() for s in ties))
    advice = found.recommendation
    chosen = "TensorFlow's defaults" if advice.keeps_defaults else advice.settings.describe()
    lines.append(f"(the rules recommended {chosen}, confidence {advice.confidence})")
    if conclusion in ("better", "defaults failed"):
        variables = " ".join(f"{name}={value}" for name, value in best.to_env().items())
        lines += [
            "set it before TensorFlow starts, in one of these ways:",
            (
                f"  Python:      tf.config.threading.set_intra_op_parallelism_threads("
                f"{best.intra_op}) and set_inter_op_parallelism_threads({best.inter_op}) "
                "before the first op"
            ),
            f"  environment: {variables}",
            f"  TF Serving:  {' '.join(best.to_serving_args())}",
        ]
    return "\n".join(lines)


def _stopped(found: Any) -> str:
    """Say why the final rounds stopped, and whether they reached the precision target."""
    target = f"±{found.precision * 100:g} %"
    if found.precise:
        return f"every interval within {target}"
    why = {"budget": "the --budget was spent", "rounds": "the --budget was spent"}.get(
        found.comparison.stopped, "they stopped"
    )
    return f"stopped because {why} before every interval was within {target}"


@contextlib.contextmanager
def _output(args: argparse.Namespace, run: Mapping[str, Any]) -> Iterator[ResultsFile | None]:
    """Open ``--output`` once, for the whole command, before anything is measured.

    A path that cannot take a results file, a file of another run or one another run
    is writing is refused here, in one line. A new file still without a row when the
    command stops short (a usage error found later, Ctrl-C) is removed: a command that
    measured nothing leaves no file behind.
    """
    if args.output is None:
        yield None
        return
    created = not os.path.lexists(args.output)
    resume = not args.no_resume
    with ResultsFile.open(args.output, name="--output", resume=resume, run=run) as output:
        try:
            yield output
        except BaseException:
            if created and not output.rows:
                output.path.unlink(missing_ok=True)
            raise


def run(args: argparse.Namespace) -> int:
    """Run ``recommend``, ``sweep``, ``tune`` or ``report``; return the exit code."""
    if args.command == "report":
        from tfthreads.report import load_report

        report = load_report(args.files)
        _emit(args, report.as_dict(), report.table().rstrip("\n"))
        return EXIT_OK

    from tfthreads.recommend import recommend

    if args.command == "recommend":
        advice = recommend(args.goal, processes=args.processes)
        _emit(args, advice.as_dict(), advice.describe())
        return EXIT_OK

    from tfthreads.errors import NotSavedError
    from tfthreads.sweep import grid, sweep
    from tfthreads.sweep import run_description as sweep_run
    from tfthreads.sweep_result import SweepResult
    from tfthreads.tune import run_description as tune_run
    from tfthreads.tune import tune
    from tfthreads.workloads import parse_workload

    options = MeasureOptions(
        repeats=args.repeats, warmup=args.warmup, processes=args.processes, timeout=args.timeout
    )
    if args.command == "sweep":
        specs = [parse_workload(w, **_workload_params(args)) for w in args.workloads]
        try:
            with _output(args, sweep_run(specs, options)) as output:
                result = sweep(
                    specs,
                    grid(args.intra_op, args.inter_op),
                    options=options,
                    results=output,
                    progress=True,  # a bar on a terminal, else a line per setting, time left
                )
        except NotSavedError as error:  # print what was measured, then say what was lost
            partial: SweepResult = error.result
            _emit(args, [row.as_dict() for row in partial.rows], partial.table())
            raise
        _emit(args, [row.as_dict() for row in result.rows], result.table())
        if result.reused:
            _note(f"reused {result.reused} of {len(result.rows)} results from {args.output}")
        if result.failed:
            _note(f"{len(result.failed)} of {len(result.rows)} measurements failed")
            return EXIT_FAILURE
        return EXIT_OK
    spec = parse_workload(args.workload, **_workload_params(args))
    searched = None
    if args.intra_op or args.inter_op:
        # One list alone searches it against the other pool's default size.
        searched = grid(args.intra_op or [0], args.inter_op or [0])
    with _output(args, tune_run(spec, args.goal, options)) as output:
        found = tune(
            spec,
            args.goal,
            budget=args.budget,
            options=options,
            results=output,
            progress=True,  # a line per measurement on stderr, with the total and time left
            grid=searched,
            chunks=args.chunks,
        )
    if found.tried.reused:
        _note(f"reused {found.tried.reused} measurements from {args.output}")
    _emit(args, found.as_dict(), _tune_report(found))
    if found.tried.failed:
        _note(f"{len(found.tried.failed)} of {len(found.tried.rows)} measurements failed")
        return EXIT_FAILURE
    return EXIT_OK
