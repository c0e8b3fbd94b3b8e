"""The Markdown report of a results file of ``bench_many_core.py``, from that file alone.

Its tables are those of ``tfthreads report`` and of the site's "Results from other
machines" page (:func:`tfthreads.report.load_report`, :func:`~tfthreads.report.table_cells`),
one per scenario, workload and goal; around them, the machine (from the provenance record),
the recommendations, how the rounds were measured, CPU against wall time per step, and how
the run went. It reads the files of this script and those of its first version, which
measured each setting in fresh processes in an order rotated by one each round
(``docs/results/many_core.jsonl``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfthreads.provenance import describe_machine
from tfthreads.report import RATIO_MEANS, load_report, table_cells
from tfthreads.results_file import read_results
from tfthreads.stats import INCONCLUSIVE, TIE

__all__ = ["report"]

#: How the rounds were measured, by the header's ``measured_with`` (absent in the files
#: of the first version of this script).
METHODS = {
    "measure_many": (
        "Method: within a scenario every setting is measured once per round, in an order "
        "rotated by one each round, each time in fresh worker processes "
        "(`tfthreads.measure.measure_many`)."
    ),
    "compare": (
        "Method: within a scenario every setting is measured once per round, in an order "
        "that alternates (A B C, then C B A), the settings' live processes taking turns "
        "chunk by chunk (`tfthreads.compare.compare` and `compare_many`; the Run section "
        "says how each scenario's rounds ran)."
    ),
}
#: How the tables are computed, after the method.
STATISTICS = (
    " The tables are those of `tfthreads report` and of the site "
    "(`tfthreads.stats.ratio_interval`): from six rounds on, the ratio to the baseline is "
    "the Hodges-Lehmann estimate of the per-round ratios with Wilcoxon's signed-rank "
    "interval; with fewer, as in every scenario here, the geometric mean of the per-round "
    "ratios with Student's t on their logarithms, which stays honest with few rounds; "
    '"better" and "worse" need a 95 % interval that excludes 1 and a ratio not within '
    f"{TIE * 100:g} % of 1 (`tfthreads.stats.TIE`); anything else is a tie, "
    f'"inconclusive" when its interval reaches {INCONCLUSIVE:g} times better or worse, '
    'else "indistinguishable". In the grid the baseline is chosen as the best, so the '
    "others' ratios lean slightly against them (the winner's curse). Scenarios `latency` "
    "and `grid` time two workloads in each child, the second after the first."
)


def _markdown_table(head: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(cells) + " |" for cells in body),
        "",
    ]


def _sections(path: Path) -> list[str]:
    """One table per scenario and workload: those of ``tfthreads report`` and the site."""
    lines = []
    for rows in load_report([path]).groups().values():
        first = rows[0]
        best = " (chosen as the best)" if first.best_is_baseline else ""
        lines += [
            f"## {first.scenario}: {first.title}",
            "",
            (
                f"**{first.workload}**, {first.processes} process(es), goal {first.goal}: ratio = "
                f"times better than **{first.baseline}**{best}, {RATIO_MEANS[first.goal]}; "
                "above 1 is better."
            ),
            "",
            *_markdown_table(*table_cells(rows)),
        ]
    return lines


def _cpu_section(run: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Per process, CPU time over wall time of the first scenario's MLP, in each scenario."""
    big = run["scenarios"][0]["workloads"][0]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["spec"] == big and r["status"] == "ok":
            groups.setdefault((r["scenario"], r["label"]), []).append(r)
    if not groups:
        return []
    body = []
    for (scenario, label), ms in groups.items():
        median = {key: statistics.median(m[key] for m in ms) for key in _CPU_FIELDS}
        procs, cpw = ms[0]["processes"], median["cpu_per_wall"]
        body.append([scenario, label, str(procs), str(len(ms))])
        body[-1] += [f"{median['median_ms']:.3f}", f"{median['cpu_ms']:.3f}", f"{cpw:.2f}"]
        body[-1] += [f"{cpw * procs:.1f}", f"{median['throughput']:.0f}"]
        body[-1].append(str(max(m["threads_active"] for m in ms)))
    head = "scenario|setting|processes|rounds|wall ms/step|cpu ms/step|cpu/wall|CPUs busy|"
    return [
        "## Wall against CPU time per step (scenarios self, procs and single)",
        "",
        (
            f"For the batch-{big['params']['batch']} MLP: per process, the CPU time of a step over "
            "its wall time (`cpu/wall`, all threads of the process). A value well under the "
            "intra-op thread count means the threads wait for part of each step (Python "
            "dispatch, the `.numpy()` copy, small ops): CPUs that other processes can use. "
            "`CPUs busy` = cpu/wall x processes, out of the CPUs in the affinity mask."
        ),
        "",
        *_markdown_table(f"{head}inferences/s (all)|threads active".split("|"), body),
    ]


#: The fields of a measurement whose medians over rounds :func:`_cpu_section` shows.
_CPU_FIELDS = ("median_ms", "cpu_ms", "cpu_per_wall", "throughput")


def _run_section(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[str]:
    """How the run went: rows, failures, how each scenario was measured, what was skipped."""
    failed = [r for r in rows if r["status"] == "failed"]
    kind = {name: [e for e in events if e["event"] == name] for name in _EVENTS}
    end = kind["end"]
    done = (
        f"finished in {end[0]['elapsed_s']:.0f} s" if end else "stopped before the end (time limit)"
    )
    return [
        "## Run",
        "",
        f"{len(rows)} rows; {len(failed) + len(kind['error'])} failed measurements; {done}.",
        *(f"- {e['scenario']}: {e['rounds']} rounds, {e['method']}" for e in kind["scenario"]),
        *(
            f"- failed: {r['scenario']} {r['label']} round {r['round']}: {r['error']}"
            for r in failed
        ),
        *(f"- error: {e['scenario']} {e.get('label', '')}: {e['error']}" for e in kind["error"]),
        *(
            f"- skipped: {e['scenario']} {e.get('round', '')} ({e['reason']})"
            for e in kind["skipped"]
        ),
        "",
    ]


#: The events a results file of this script may hold, besides its measurements.
_EVENTS = ("scenario", "error", "skipped", "end")


def report(path: Path) -> str:
    """Build the Markdown report from a results file alone."""
    header, lines = read_results(path)
    run = header["run"]
    record, topo = run["provenance"], run["provenance"]["topology"]
    rows = [row for _, row in lines if "event" not in row]
    imports = run["tensorflow_import_s"]
    recs = "; ".join(
        f"{key}: {rec['intra_op_parallelism_threads']}/{rec['inter_op_parallelism_threads']}"
        for key, rec in run["recommendations"].items()
    )
    text = [
        "# Many-core evidence: interleaved rounds of fresh processes",
        "",
        (
            f"Generated by `benchmarks/bench_many_core.py --report` from `{path.name}`; every "
            "number below is computed from that file."
        ),
        "",
        "## Machine",
        "",
        f"- {describe_machine(record, sep=chr(10) + '- ')}",
        (
            f"- {topo['physical_cores']} physical cores, {topo['sockets']} socket(s), SMT "
            f"{topo['smt']}, {topo['numa_nodes']} NUMA node(s); oneDNN CPU flags "
            f"{record['onednn_cpu_flags']}"
        ),
        (
            f"- TensorFlow import: first {imports['first']:.1f} s (compiling bytecode), then "
            f"{imports['second']:.1f} s"
        ),
        (
            f"- date {record['date']}; tfthreads {record['tfthreads_version']}; budget "
            f"{run['budget_s']} s; quick {run['quick']}"
        ),
        "",
        (
            f"Recommendations on this machine: {recs} (`throughput_processes` is for "
            f"{run['processes']} processes, per process)."
        ),
        "",
        METHODS[run.get("measured_with", "measure_many")] + STATISTICS,
        "",
        *_sections(path),
        *_cpu_section(run, rows),
        *_run_section(rows, [row for _, row in lines if "event" in row]),
    ]
    return "\n".join(text)
