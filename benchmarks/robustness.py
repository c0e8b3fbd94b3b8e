#!/usr/bin/env python3
"""Robustness run: the site's decisions, observed again and again on a quiet and a hostile machine.

The site is rebuilt on machines nobody here saw. This script observes every decision the
documentation build makes from this machine's data -- each value a catalog fact expects of
a probe (:func:`tfthreads.catalog.observe.check`), and whether the build would fail --
and, with ``--gallery``, every verdict a gallery example renders from its measurements
(the word its paired interval picks: better, worse or indistinguishable on this machine,
and every claim it checks), several times under each of four conditions:

``as is``
    nothing else started;
``busy neighbour``
    a process burning one CPU beside it for the whole run;
``taskset -c 0``
    the affinity mask narrowed to one CPU;
``quota 1 CPU``
    inside a cgroup with a one-CPU CFS quota (:func:`tfthreads.quota.cpu_quota`; needs
    root and a writable cgroup file system, else the condition is reported as skipped).

Each run observes afresh in a new process (no cache). It then reports, per condition, every
decision that differed between runs -- *flipped* where two runs decided it two ways,
*decided in some runs only* where the others said "not decided on this machine" -- and
every claim a run contradicted or left undecided. A flip fails the run; an undecided run
is listed, as the page of that build shows it. A value that legitimately depends on the CPU count differs *between*
conditions (the catalog conditions those claims on it), never *within* one.

Usage::

    python3 benchmarks/robustness.py --runs 5            # about 20 minutes on 2 CPUs
    python3 benchmarks/robustness.py --runs 2 --gallery  # the gallery too: hours
    python3 benchmarks/robustness.py --runs 1 --quick    # one probe

Results go to ``benchmarks/results/robustness.json`` and ``robustness.md``, with the
machine they ran on (``python3 -m nox -s robustness`` runs it with ``--runs 5``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tfthreads.catalog.facts import UNDECIDED
from tfthreads.errors import UnsupportedPlatformError
from tfthreads.process import run_function, run_snippet
from tfthreads.provenance import describe_machine
from tfthreads.quota import cpu_quota

RESULTS = Path(__file__).resolve().parent / "results"
CONDITIONS = ("as is", "busy neighbour", "taskset -c 0", "quota 1 CPU")


def observe_once(probes: list[str] | None = None) -> dict[str, Any]:
    """Check the catalog against fresh observations (run in a child process of its own).

    Returns the decisions (every probe data key a fact expects), the problems a build
    would fail on and the claims left undecided. It is sent to its process as source, so
    it imports what it uses and reads no global of this script.
    """
    import dataclasses

    from tfthreads import catalog
    from tfthreads.catalog.facts import Observed
    from tfthreads.catalog.observe import check

    entries = [
        dataclasses.replace(
            s,
            facts=tuple(
                f
                for f in s.facts
                if not isinstance(f, Observed) or probes is None or f.probe in probes
            ),
        )
        for s in catalog.CATALOG
    ]
    checked = check(entries)
    decisions = {
        f"{fact.probe}.{key}": checked.observations[fact.probe].get(key)
        for setting in entries
        for fact in setting.facts
        if isinstance(fact, Observed)
        for key, _ in fact.expect
    }
    return {
        "cpus": checked.observations[next(iter(checked.observations))]["cpus"],
        "decisions": decisions,
        "problems": checked.problems,
        "undecided": checked.undecided,
    }


@contextlib.contextmanager
def condition(name: str) -> Iterator[dict[str, Any]]:
    """Keyword arguments for :func:`tfthreads.process.run_function` under one condition."""
    if name == "as is":
        yield {}
    elif name == "busy neighbour":
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            yield {}
        finally:
            burner.kill()
            burner.wait()
    elif name == "taskset -c 0":
        yield {"cpus": [min(os.sched_getaffinity(0))]}
    elif name == "quota 1 CPU":
        with cpu_quota(1.0) as group:
            yield {"cgroup": group}
    else:
        raise ValueError(f"condition: got {name!r}; expected one of {CONDITIONS}")


GALLERY = Path(__file__).resolve().parent.parent / "gallery"


def gallery_once(where: dict[str, Any], scripts: Sequence[Path]) -> dict[str, Any]:
    """Run the gallery scripts once under one condition; return the verdicts they rendered.

    Each script runs in a fresh worker process (:func:`tfthreads.process.run_snippet`,
    with the condition's CPUs or cgroup) with ``TFTHREADS_VERDICTS`` naming a file that
    the gallery's verdict helpers append one JSON line to per verdict and claim.
    """
    decisions: dict[str, Any] = {}
    problems = []
    for script in scripts:
        with tempfile.TemporaryDirectory() as folder:
            record = Path(folder) / "verdicts.jsonl"
            code = (
                "import runpy, sys\n"
                f"sys.path.insert(0, {str(script.parent)!r})\n"
                f"sys.argv = [{str(script)!r}]\n"
                "import matplotlib\nmatplotlib.use('Agg')\n"
                f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
            )
            done = run_snippet(
                code,
                env={"TFTHREADS_VERDICTS": str(record), "MPLBACKEND": "Agg"},
                timeout=1800,
                **where,
            )
            if done.returncode != 0:
                problems.append(
                    f"{script.name} exited with {done.returncode}: {done.stderr[-300:]}"
                )
            lines = record.read_text().splitlines() if record.exists() else []
            named = [(script.stem, json.loads(line)) for line in lines]
            decisions |= _by_name([(stem, item["what"], item["decision"]) for stem, item in named])
    return {"decisions": decisions, "problems": problems}


def run(
    conditions: Sequence[str], runs: int, probes: list[str] | None, gallery: bool = False
) -> dict[str, Any]:
    """Observe ``runs`` times under each condition; return every run's decisions."""
    out: dict[str, Any] = {"machine": describe_machine(), "runs": runs, "conditions": {}}
    for name in conditions:
        started = time.perf_counter()
        try:
            with condition(name) as where:
                results = []
                for number in range(runs):
                    print(f"{name}: run {number + 1} of {runs}", file=sys.stderr, flush=True)
                    result = run_function(observe_once, {"probes": probes}, timeout=1800, **where)
                    if gallery:
                        scripts = sorted(GALLERY.glob("plot_*.py"))
                        shown = gallery_once(where, scripts)
                        result["decisions"].update(shown["decisions"])
                        result["problems"] += shown["problems"]
                    results.append(result)
        except UnsupportedPlatformError as error:
            out["conditions"][name] = {"skipped": str(error)}
            continue
        out["conditions"][name] = {
            "seconds": round(time.perf_counter() - started, 1),
            "runs": results,
        }
    return out


#: The value of a decision that a run did not render (a verdict a page prints only in some runs).
ABSENT = "(not rendered)"


def _by_name(verdicts: Sequence[tuple[str, str, Any]]) -> dict[str, Any]:
    """Name each ``(script, what, decision)``: the script, what it decided, and which time.

    Not by its position among the script's verdicts: a verdict a script renders in some
    runs only (a comparison it prints when two settings differ) would shift the others.
    """
    named: dict[str, Any] = {}
    for script, what, decision in verdicts:
        name, time = f"{script}: {what}", 1
        while name in named:
            time += 1
            name = f"{script}: {what} ({time})"
        named[name] = decision
    return named


_NUMBERED = re.compile(r"^(plot_\w+) #\d+ (.*)$")


def _stable(decisions: dict[str, Any]) -> dict[str, Any]:
    """Return the decisions of a run, gallery verdicts named by :func:`_by_name`.

    Results written before verdicts were named so (``plot_02_... #3 what``) are renamed.
    """
    kept = {key: value for key, value in decisions.items() if not _NUMBERED.match(key)}
    numbered = [
        (m[1], m[2], value) for key, value in decisions.items() if (m := _NUMBERED.match(key))
    ]
    return kept | _by_name(numbered)


def undecided(value: Any) -> bool:
    """Whether a decision's value is "not decided on this machine", a catalog's or a verdict's.

    A gallery verdict whose interval is too wide records ``"inconclusive"``; a catalog fact
    records a value starting with :data:`~tfthreads.catalog.facts.UNDECIDED`.
    """
    return value == "inconclusive" or str(value).startswith(UNDECIDED)


def differences(results: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Decision name to the distinct values it took, for each decision that differed.

    A decision that some runs rendered and others did not differed too: it takes
    :data:`ABSENT` in the runs without it.
    """
    runs = [_stable(result["decisions"]) for result in results]
    names = list(dict.fromkeys(key for decisions in runs for key in decisions))
    seen: dict[str, list[Any]] = {}
    for decisions in runs:
        for key in names:
            value = decisions.get(key, ABSENT)
            if value not in seen.setdefault(key, []):
                seen[key].append(value)
    return {key: values for key, values in seen.items() if len(values) > 1}


def flips(results: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Return the differences in which two runs decided one thing two ways: the flips.

    A run that could not decide (:func:`undecided`) contradicts no run that did: the
    page says so in that build, and the difference is listed as *decided in some runs only*
    (see :func:`render`) rather than counted here.
    """
    return {
        key: values
        for key, values in differences(results).items()
        if len([v for v in values if not undecided(v)]) > 1
    }


def render(data: dict[str, Any]) -> str:
    """Write the Markdown report: per condition, runs, time, flips, problems, undecided claims."""
    lines = [
        "# Robustness run: the build's decisions under four conditions",
        "",
        f"Machine: {data['machine']}.",
        (
            f"Each condition observed every catalog decision afresh {data['runs']} times"
            + (
                ", and ran every gallery example to record its verdicts"
                if data.get("gallery")
                else ""
            )
            + " (`benchmarks/robustness.py`)."
        ),
        "",
        (
            "| condition | CPUs seen | runs | minutes | decisions | flipped between runs | "
            "decided in some runs only | contradicted | undecided claims |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for name, part in data["conditions"].items():
        if "skipped" in part:
            lines.append(f"| {name} | - | 0 | - | - | skipped: {part['skipped']} | - | - | - |")
            continue
        runs = part["runs"]
        differed, flipped = differences(runs), flips(runs)
        problems = sorted({p for r in runs for p in r["problems"]})
        open_claims = sorted({u for r in runs for u in r["undecided"]})
        cpus = sorted({r["cpus"] for r in runs})
        lines.append(
            f"| {name} | {', '.join(map(str, cpus))} | {len(runs)} | "
            f"{part['seconds'] / 60:.1f} | {len(runs[0]['decisions'])} | {len(flipped)} | "
            f"{len(differed) - len(flipped)} | {len(problems)} | {len(open_claims)} |"
        )
        for key, values in differed.items():
            kind = "flipped" if key in flipped else "decided in some runs only"
            took = ", ".join(repr(v) for v in values)
            details.append(f"- {name}: {kind}: `{key}` took {took}")
        details += [f"- {name}: contradicted: {p}" for p in problems]
        details += [f"- {name}: not decided: {u}" for u in open_claims]
    lines += ["", "## Every difference, contradiction and undecided claim", ""]
    lines += details or ["None: every decision was the same in every run of each condition."]
    undecided_values = sum(
        1
        for part in data["conditions"].values()
        for r in part.get("runs", [])
        for v in r["decisions"].values()
        if undecided(v)
    )
    lines += ["", f"Decisions that came out as not decided, over all runs: {undecided_values}."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the conditions, write ``robustness.json`` and ``.md``, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per condition (default 5)")
    parser.add_argument(
        "--condition",
        action="append",
        choices=CONDITIONS,
        help="only these conditions (repeatable; default: all four)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one probe (data_pipeline), to check the script"
    )
    parser.add_argument(
        "--gallery", action="store_true", help="the gallery's verdicts too (runs every example)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "robustness")
    parser.add_argument(
        "--render", action="store_true", help="write the .md again from the .json; measure nothing"
    )
    args = parser.parse_args(argv)
    if args.render:
        report = render(json.loads(args.output.with_suffix(".json").read_text()))
        args.output.with_suffix(".md").write_text(report)
        print(report)
        return 0
    if args.runs < 1:
        parser.error(f"--runs: got {args.runs}; expected 1 or more")
    probes = ["data_pipeline"] if args.quick else None
    data: dict[str, Any] = {}
    # One condition at a time, written after each: a run stopped part way (it takes hours
    # with the gallery) keeps the conditions it finished.
    for name in args.condition or CONDITIONS:
        part = run([name], args.runs, probes, gallery=args.gallery)
        if data:
            data["conditions"].update(part["conditions"])
        else:
            data = part
        data["gallery"] = args.gallery
        report = render(data)
        if not args.quick:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
            args.output.with_suffix(".md").write_text(report)
    print(report)
    flipped = any(flips(p["runs"]) for p in data["conditions"].values() if "runs" in p)
    failed = any(r["problems"] for p in data["conditions"].values() for r in p.get("runs", []))
    return 1 if flipped or failed else 0


if __name__ == "__main__":
    sys.exit(main())
