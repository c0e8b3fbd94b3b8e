"""Measure thread settings on a many-core machine in interleaved rounds of fresh processes.

This collects the evidence asked for in issue 13 ("Advice that holds beyond two cores")
with the library's public API as it is: every row is one call of
:func:`tfthreads.measure.measure` (or :func:`~tfthreads.measure.measure_many`), so one
fresh set of worker processes per row, and it keeps the raw per-iteration times. Within a
scenario the settings are measured in rounds, A B C, then C A B, ... (each round rotated by
one), so drift on the machine hits every setting alike.

Scenarios, in priority order (the lower ones get fewer rounds, or are skipped, when the
time budget runs short):

1. ``self``: TensorFlow's defaults measured under two labels, A and A', on a batch-256,
   1024-wide MLP in one process: the noise floor of a comparison.
2. ``procs``: the same MLP in ``P`` processes at once (4 by default): TensorFlow's
   defaults, ``recommend("throughput", processes=P)``, ``c``/1, ``c/2``/2 and 1/1, where
   ``c`` is the CPUs per process; total throughput.
3. ``latency``: the built-in ``mlp_latency`` (batch 1) and the same at batch 32, in one
   child per setting, intra-op 1, 2, 4, ... up to the CPU count, inter-op as
   ``recommend("latency")`` says; median latency and CPU time per step.
4. ``grid``: the built-in ``mlp_throughput`` (goal throughput) and ``branches`` (goal
   latency), in one child per setting, over intra-op {1, 2, 4, ...} x inter-op {1, 2, 4}
   plus TensorFlow's defaults: the ground truth a tuner should find.
5. ``single``: the scenario-2 MLP in one process at the per-process settings of scenario 2,
   to compare wall and CPU time per step with scenario 2 (``cpu_per_wall`` well under
   the thread count shows serial gaps that other processes can fill).

The results are a tfthreads results file (:mod:`tfthreads.results_file`), which
``tfthreads report`` and the documentation's results page read: the header's ``run``
holds the machine's provenance (:func:`tfthreads.provenance.provenance`,
``os.cpu_count()``, facts from ``/proc/cpuinfo`` and ``/sys``), the recommendations and
the plan (the scenarios, their goals and baselines); then one JSON line per measurement
(the measurement's fields plus ``scenario``, ``round``, ``position``, ``label``,
``started_s`` and ``call_s``), written and flushed as soon as it is taken, so a run
stopped by a time limit keeps what it measured; other records are ``{"event": ...}``
lines. ``convert_many_core.py`` converts a file of the first version of this script. A Markdown report (per setting, its ratio to the
scenario's baseline with the 95 % interval that ``tfthreads report`` and the site give) is
generated from that file alone.

Run it with the project importable (``PYTHONPATH=src`` or an installed tfthreads)::

    python benchmarks/bench_many_core.py --out docs/results/many_core.jsonl
    python benchmarks/bench_many_core.py --quick --out /tmp/quick.jsonl   # smoke test
    python benchmarks/bench_many_core.py --report docs/results/many_core.jsonl

``--budget SECONDS`` bounds the measuring time (default 420 s); the report is written
to ``benchmarks/results/<name>.md`` unless ``--md`` names another file. Committed under
``docs/results/``, the results are rendered on the site's "Results from other machines"
page (with ratios and t-intervals from :mod:`tfthreads.report`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tfthreads.measure import measure_many
from tfthreads.options import MeasureOptions
from tfthreads.provenance import describe_machine, provenance
from tfthreads.recommend import recommend
from tfthreads.report import load_report, table_cells
from tfthreads.results_file import FORMAT, FORMAT_VERSION
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import WorkloadSpec, parse_workload

RESULTS = Path(__file__).parent / "results"
DOCS_RESULTS = Path(__file__).parents[1] / "docs" / "results"
#: The fields a measurement line holds beside the measurement's own.
ROW_FIELDS = (
    "scenario",
    "round",
    "position",
    "label",
    "intra_op",
    "inter_op",
    "started_s",
    "call_s",
)
#: Of those, the ones a measurement does not hold itself (it has its settings).
ROW_ONLY = frozenset(ROW_FIELDS) - {"intra_op", "inter_op"}


@dataclass
class Scenario:
    """Settings measured against each other in interleaved rounds."""

    key: str
    title: str
    workloads: list[WorkloadSpec]
    settings: list[tuple[str, ThreadSettings]]  # (label, settings); the first is the baseline
    processes: int
    repeats: int
    warmup: int
    target_rounds: int
    min_rounds: int
    # per workload name: "latency" (median seconds per step, lower is better) or
    # "throughput" (items/s of all processes together, higher is better)
    goals: dict[str, str] = field(default_factory=dict)
    baseline: str = "first"  # "first" setting, or "best" (for the grid)


def _label(settings: ThreadSettings) -> str:
    return f"{settings.intra_op}/{settings.inter_op}"


def _unique(pairs: Sequence[tuple[str, ThreadSettings]]) -> list[tuple[str, ThreadSettings]]:
    """Keep the first of settings that are equal (a recommendation may equal a fixed one)."""
    seen: dict[ThreadSettings, str] = {}
    out = []
    for label, settings in pairs:
        if settings in seen:
            continue
        seen[settings] = label
        out.append((label, settings))
    return out


def _powers(limit: int) -> list[int]:
    values, value = [], 1
    while value <= limit:
        values.append(value)
        value *= 2
    if values[-1] != limit:
        values.append(limit)
    return values


def plan(cpus: int, processes: int, *, quick: bool) -> tuple[list[Scenario], dict[str, Any]]:
    """Build the scenarios for a machine with ``cpus`` CPUs."""
    if quick:
        big = parse_workload("mlp_throughput", batch=32, width=64)
        lat = [
            parse_workload("mlp_latency", width=64),
            parse_workload("mlp_latency", batch=8, width=64),
        ]
        grid_w = [
            parse_workload("mlp_throughput", batch=64, width=64),
            parse_workload("branches", n=32),
        ]
        rep_big, rep_lat, rep_grid, rounds = 5, 10, 5, (2, 2, 2, 1, 1)
    else:
        big = parse_workload("mlp_throughput", batch=256, width=1024)
        lat = [parse_workload("mlp_latency"), parse_workload("mlp_latency", batch=32)]
        grid_w = [parse_workload("mlp_throughput"), parse_workload("branches")]
        rep_big, rep_lat, rep_grid, rounds = 40, 200, 30, (5, 4, 3, 2, 2)
    rec_tp = recommend("throughput", processes=processes).settings
    rec_lat = recommend("latency").settings
    rec_tp1 = recommend("throughput").settings
    per = max(1, cpus // processes)
    default = ThreadSettings()
    scenarios = [
        Scenario(
            "self",
            "Self-comparison: TensorFlow's defaults against themselves, one process",
            [big],
            [("A (0/0)", default), ("A' (0/0)", default)],
            1,
            rep_big,
            5,
            rounds[0],
            3,
            {big.name: "latency"},
        ),
        Scenario(
            "procs",
            f"Throughput of {processes} processes at once",
            [big],
            _unique(
                [
                    ("defaults 0/0", default),
                    (f"recommend {_label(rec_tp)}", rec_tp),
                    (f"{per}/1", ThreadSettings(per, 1)),
                    (f"{max(1, per // 2)}/2", ThreadSettings(max(1, per // 2), 2)),
                    ("1/1", ThreadSettings(1, 1)),
                ]
            ),
            processes,
            rep_big,
            5,
            rounds[1],
            2,
            {big.name: "throughput"},
        ),
        Scenario(
            "latency",
            "Small-model latency against intra-op threads, one process",
            lat,
            _unique(
                [
                    (f"{n}/{rec_lat.inter_op}", ThreadSettings(n, rec_lat.inter_op))
                    for n in _powers(cpus)
                ]
            ),
            1,
            rep_lat,
            20,
            rounds[2],
            2,
            {w.name: "latency" for w in lat},
        ),
        Scenario(
            "grid",
            "Full grid, one process: the tuner's ground truth",
            grid_w,
            _unique(
                [
                    *[(f"{i}/{j}", ThreadSettings(i, j)) for i in _powers(cpus) for j in (1, 2, 4)],
                    ("defaults 0/0", default),
                ]
            ),
            1,
            rep_grid,
            3,
            rounds[3],
            1,
            {grid_w[0].name: "throughput", grid_w[1].name: "latency"},
            baseline="best",
        ),
        Scenario(
            "single",
            "The scenario-2 MLP in one process at scenario 2's per-process settings",
            [big],
            _unique(
                [
                    (f"{per}/1", ThreadSettings(per, 1)),
                    (f"recommend {_label(rec_tp)}", rec_tp),
                    ("1/1", ThreadSettings(1, 1)),
                    (f"recommend(1 process) {_label(rec_tp1)}", rec_tp1),
                ]
            ),
            1,
            rep_big,
            5,
            rounds[4],
            1,
            {big.name: "throughput"},
        ),
    ]
    recs = {
        "throughput_processes": recommend("throughput", processes=processes).as_dict(),
        "latency": recommend("latency").as_dict(),
        "throughput": recommend("throughput").as_dict(),
    }
    return scenarios, recs


def machine_facts() -> dict[str, Any]:
    """Collect what ``lscpu`` would say, from /proc and /sys (no TensorFlow)."""
    facts: dict[str, Any] = {
        "os_cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
    }
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    cores, sockets = set(), set()
    for block in blocks:
        entry = {
            k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.splitlines())
        }
        sockets.add(entry.get("physical id"))
        cores.add((entry.get("physical id"), entry.get("core id")))
        facts.setdefault("model_name", entry.get("model name"))
        facts.setdefault("cpu_mhz", entry.get("cpu MHz"))
        facts.setdefault("cache_size", entry.get("cache size"))
        facts.setdefault("siblings", entry.get("siblings"))
        facts.setdefault("cpu_cores", entry.get("cpu cores"))
        flags = set(entry.get("flags", "").split())
        facts.setdefault(
            "simd_flags", sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))
        )
    facts["processors_in_cpuinfo"] = len(blocks)
    facts["sockets_in_cpuinfo"] = len(sockets)
    facts["cores_in_cpuinfo"] = len(cores)
    facts["smt"] = len(cores) < len(blocks) if blocks else None
    nodes = sorted(p.name for p in Path("/sys/devices/system/node").glob("node[0-9]*"))
    facts["numa_nodes_sysfs"] = nodes or None
    for name, path in (
        ("cgroup_cpu_max", "/sys/fs/cgroup/cpu.max"),
        ("cgroup_cpuset", "/sys/fs/cgroup/cpuset.cpus.effective"),
        ("kernel", "/proc/sys/kernel/osrelease"),
    ):
        try:
            facts[name] = Path(path).read_text().strip()
        except OSError:
            facts[name] = None
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        facts["mem_total"] = next(
            line.split(":", 1)[1].strip() for line in meminfo if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        facts["mem_total"] = None
    try:
        facts["lscpu"] = subprocess.run(
            ["lscpu"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        facts["lscpu"] = None
    facts["thread_env"] = {
        k: v for k, v in os.environ.items() if k.startswith(("TF_", "OMP_", "KMP_", "MKL_"))
    }
    facts["python_executable"] = sys.executable
    facts["machine"] = platform.machine()
    return facts


def _import_seconds() -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "import tensorflow"], capture_output=True, check=False, timeout=300
    )
    if done.returncode != 0:
        sys.exit(f"cannot import TensorFlow here:\n{done.stderr.decode(errors='replace')[-3000:]}")
    return time.perf_counter() - start


class Writer:
    """Append JSON lines to a file, flushed after each one."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle: TextIO = path.open("w")

    def write(self, record: dict[str, Any]) -> None:
        """Write one record (in the results file's form) and flush it to disk."""
        kind = record["type"]
        rest = {key: value for key, value in record.items() if key != "type"}
        if kind == "header":
            rest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "tfthreads": rest["provenance"]["tfthreads_version"],
                "created": rest["provenance"]["date"],
                "run": rest,
            }
        elif kind == "row":
            rest = {**rest.pop("measurement"), **rest}
        else:
            rest = {"event": kind, **rest}
        self.handle.write(json.dumps(rest) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())


class Clock:
    """The time budget, and the cost of one call learned from the calls so far."""

    def __init__(self, budget: float, prior: float) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + budget
        self.prior = prior
        self.costs: dict[str, list[float]] = {}

    def left(self) -> float:
        """Return the seconds left."""
        return self.deadline - time.monotonic()

    def estimate(self, scenario: Scenario) -> float:
        """Return the expected seconds of one call in ``scenario``."""
        own = self.costs.get(scenario.key)
        if own:
            return statistics.mean(own)
        seen = [c for costs in self.costs.values() for c in costs]
        base = statistics.mean(seen) if seen else self.prior
        return (
            base
            * (1.0 + 0.1 * (scenario.processes - 1))
            * (1 + 0.3 * (len(scenario.workloads) - 1))
        )

    def rounds(self, scenario: Scenario, later: Sequence[Scenario]) -> int:
        """Return how many rounds of ``scenario`` fit, keeping the later ones' minimum."""
        reserve = sum(
            min(s.min_rounds, s.target_rounds) * len(s.settings) * self.estimate(s) for s in later
        )
        one_round = len(scenario.settings) * self.estimate(scenario)
        least = min(scenario.min_rounds, scenario.target_rounds)
        fits = int((self.left() - reserve) // one_round)
        if fits >= least:
            return min(scenario.target_rounds, fits)
        return max(0, min(least, int(self.left() // one_round)))


def run(args: argparse.Namespace) -> Path:
    """Measure every scenario and write the results as JSON lines."""
    out = Path(args.out)
    writer = Writer(out)
    cpus = len(os.sched_getaffinity(0))
    processes = args.processes or (2 if args.quick else 4)
    scenarios, recs = plan(cpus, processes, quick=args.quick)
    facts = machine_facts()
    print(f"machine: {describe_machine()}", flush=True)
    cold = _import_seconds()
    warm = _import_seconds()
    print(f"TensorFlow import: first {cold} s, then {warm} s", flush=True)
    clock = Clock(args.budget, prior=warm + 2.0)
    writer.write(
        {
            "type": "header",
            "benchmark": "bench_many_core",
            "argv": sys.argv,
            "quick": args.quick,
            "budget_s": args.budget,
            "processes": processes,
            "provenance": provenance(),
            "machine": facts,
            "tensorflow_import_s": {"first": cold, "second": warm},
            "recommendations": recs,
            "scenarios": [
                {
                    "key": s.key,
                    "title": s.title,
                    "workloads": [w.as_dict() for w in s.workloads],
                    "settings": [[label, st.intra_op, st.inter_op] for label, st in s.settings],
                    "processes": s.processes,
                    "repeats": s.repeats,
                    "warmup": s.warmup,
                    "target_rounds": s.target_rounds,
                    "goals": s.goals,
                    "baseline": s.baseline,
                }
                for s in scenarios
            ],
        }
    )
    for index, scenario in enumerate(scenarios):
        rounds = clock.rounds(scenario, scenarios[index + 1 :])
        print(
            f"[{scenario.key}] {rounds} round(s) of {len(scenario.settings)} settings, "
            f"{clock.left():.0f} s left",
            flush=True,
        )
        if rounds == 0:
            writer.write({"type": "skipped", "scenario": scenario.key, "reason": "time budget"})
            continue
        _run_scenario(scenario, rounds, clock, writer, stop_at_deadline=index > 0)
    writer.write({"type": "end", "elapsed_s": time.monotonic() - clock.start})
    return out


def _run_scenario(
    scenario: Scenario, rounds: int, clock: Clock, writer: Writer, *, stop_at_deadline: bool
) -> None:
    count = len(scenario.settings)
    for round_index in range(rounds):
        shift = round_index % count
        order = scenario.settings[shift:] + scenario.settings[:shift]
        for position, (label, settings) in enumerate(order):
            if stop_at_deadline and clock.left() < clock.estimate(scenario):
                writer.write(
                    {
                        "type": "skipped",
                        "scenario": scenario.key,
                        "round": round_index + 1,
                        "reason": "deadline reached inside the scenario",
                    }
                )
                return
            started = time.monotonic()
            base = {
                "scenario": scenario.key,
                "round": round_index + 1,
                "position": position,
                "label": label,
                "intra_op": settings.intra_op,
                "inter_op": settings.inter_op,
                "started_s": started - clock.start,
            }
            try:
                found = measure_many(
                    scenario.workloads,
                    settings,
                    options=MeasureOptions(
                        repeats=scenario.repeats,
                        warmup=scenario.warmup,
                        processes=scenario.processes,
                        timeout=180,
                    ),
                )
            except Exception as error:  # noqa: BLE001 - recorded, and the run goes on
                writer.write({"type": "error", **base, "error": f"{type(error).__name__}: {error}"})
                print(
                    f"  {label} round {round_index + 1}: {type(error).__name__}: {error}",
                    flush=True,
                )
                continue
            cost = time.monotonic() - started
            clock.costs.setdefault(scenario.key, []).append(cost)
            for m in found:
                writer.write({"type": "row", **base, "call_s": cost, "measurement": m.as_dict()})
            first = found[0].row()
            print(
                f"  r{round_index + 1} {label:>24}: {first['median_ms']:.3f} ms, "
                f"{first['throughput']:.1f} {first['unit']}, cpu/wall {first['cpu_per_wall']:.2f} "
                f"({cost:.1f} s)",
                flush=True,
            )


# ---------------------------------------------------------------- the report


def load(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Read a results file: the header, the rows and the other records.

    They come back as the first version of this script wrote them (``{"type": ...}``
    records, a row's measurement under ``measurement``), which the report reads.
    """
    header: dict[str, Any] = {}
    rows, other = [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("format") == FORMAT:
            header = {"type": "header", **record["run"]}
        elif "event" in record:
            other.append(
                {"type": record["event"], **{k: v for k, v in record.items() if k != "event"}}
            )
        else:
            # intra_op and inter_op are the measurement's own fields too
            base = {key: record[key] for key in ROW_FIELDS}
            measurement = {k: v for k, v in record.items() if k not in ROW_ONLY}
            rows.append({"type": "row", **base, "measurement": measurement})
    return header, rows, other


def _table(lines: list[str], head: Sequence[str], body: Sequence[Sequence[str]]) -> None:
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    lines.append("")


def _sections(lines: list[str], path: Path) -> None:
    """One table per scenario and workload, as ``tfthreads report`` and the site show them."""
    loaded = load_report([path])
    for rows in loaded.groups().values():
        first = rows[0]
        quantity = "median step time" if first.goal == "latency" else "throughput"
        lines.append(f"## {first.scenario}: {first.title}")
        lines.append("")
        lines.append(
            f"**{first.workload}**, {first.processes} process(es), goal {first.goal}: ratio = "
            f"{quantity} / that of **{first.baseline}**"
            + (" (the best median)" if first.best_is_baseline else "")
            + "."
        )
        lines.append("")
        head, body = table_cells(rows)
        _table(lines, head, body)


def _cpu_section(lines: list[str], header: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    big = header["scenarios"][0]["workloads"][0]
    mine = [r for r in rows if r["measurement"]["spec"] == big]
    if not mine:
        return
    lines.append("## Wall against CPU time per step (scenarios self, procs and single)")
    lines.append("")
    lines.append(
        "For the batch-256 MLP: per process, the CPU time of a step over its wall time "
        "(`cpu/wall`, all threads of the process). A value well under the intra-op thread "
        "count means the threads wait for part of each step (Python dispatch, the `.numpy()` "
        "copy, small ops): CPUs that other processes can use. `CPUs busy` = cpu/wall x "
        "processes, out of the CPUs in the affinity mask."
    )
    lines.append("")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in mine:
        groups.setdefault((r["scenario"], r["label"]), []).append(r["measurement"])
    body = []
    for (scenario, label), ms in groups.items():
        cpw = statistics.median(m["cpu_per_wall"] for m in ms)
        procs = ms[0]["processes"]
        body.append(
            [
                scenario,
                label,
                str(procs),
                str(len(ms)),
                f"{statistics.median(m['median_ms'] for m in ms):.3f}",
                f"{statistics.median(m['cpu_ms'] for m in ms):.3f}",
                f"{cpw:.2f}",
                f"{cpw * procs:.1f}",
                f"{statistics.median(m['throughput'] for m in ms):.0f}",
                str(max(m["threads_active"] for m in ms)),
            ]
        )
    _table(
        lines,
        [
            "scenario",
            "setting",
            "processes",
            "rounds",
            "wall ms/step",
            "cpu ms/step",
            "cpu/wall",
            "CPUs busy",
            "inferences/s (all)",
            "threads active",
        ],
        body,
    )


def report(path: Path) -> str:
    """Build the Markdown report from a results file alone."""
    header, rows, other = load(path)
    record = header["provenance"]
    facts = header["machine"]
    lines = [
        "# Many-core evidence: interleaved rounds of fresh processes",
        "",
        (
            f"Generated by `benchmarks/bench_many_core.py --report` from `{path.name}`; "
            "every number below is computed from that file."
        ),
        "",
        "## Machine",
        "",
        f"- {describe_machine(record, sep=chr(10) + '- ')}",
        (
            f"- os.cpu_count() {facts['os_cpu_count']}; /proc/cpuinfo: {facts['processors_in_cpuinfo']} "
            f"processors, {facts['cores_in_cpuinfo']} cores, {facts['sockets_in_cpuinfo']} socket(s), "
            f"SMT {facts['smt']}; NUMA nodes (sysfs) {facts['numa_nodes_sysfs']}; "
            f"cgroup cpu.max {facts['cgroup_cpu_max']!r}; memory {facts['mem_total']}"
        ),
        (
            f"- SIMD: {' '.join(facts['simd_flags'] or [])}; oneDNN CPU flags "
            f"{record['onednn_cpu_flags']}; kernel {facts['kernel']}"
        ),
        (
            f"- TensorFlow import: first {header['tensorflow_import_s']['first']:.1f} s "
            f"(compiling bytecode), then {header['tensorflow_import_s']['second']:.1f} s"
        ),
        (
            f"- date {record['date']}; tfthreads {record['tfthreads_version']}; "
            f"budget {header['budget_s']} s; quick {header['quick']}"
        ),
        "",
        "Recommendations on this machine: "
        + "; ".join(
            f"{key}: {rec['intra_op_parallelism_threads']}/{rec['inter_op_parallelism_threads']}"
            for key, rec in header["recommendations"].items()
        )
        + f" (`throughput_processes` is for {header['processes']} processes, per process).",
        "",
        (
            "Method: within a scenario every setting is measured once per round, in an order "
            "rotated by one each round, each time in fresh worker processes "
            "(`tfthreads.measure.measure_many`). The tables are those of `tfthreads report` "
            "and of the site (`tfthreads.stats.ratio_interval`): with fewer than six rounds, "
            "as in every scenario here, the ratio to the baseline is the geometric mean of the "
            "per-round ratios and its 95 % interval is Student's t on their logarithms, "
            "which stays honest with few rounds; "
            '"indistinguishable" means it contains 1. In the grid the baseline '
            "is chosen as the best median, so the others' ratios are biased slightly upwards "
            "(the winner's curse). Scenarios `latency` and `grid` time two workloads in each "
            "child, the second after the first."
        ),
        "",
    ]
    _sections(lines, path)
    _cpu_section(lines, header, rows)
    errors = [o for o in other if o["type"] == "error"]
    skipped = [o for o in other if o["type"] == "skipped"]
    end = [o for o in other if o["type"] == "end"]
    lines.append("## Run")
    lines.append("")
    lines.append(
        f"{len(rows)} rows; {len(errors)} failed measurements; "
        f"{'finished in ' + format(end[0]['elapsed_s'], '.0f') + ' s' if end else 'stopped before the end (time limit)'}."
    )
    lines.extend(
        f"- error: {e['scenario']} {e['label']} round {e['round']}: {e['error']}" for e in errors
    )
    lines.extend(
        f"- skipped: {s['scenario']} {s.get('round', '')} ({s['reason']})" for s in skipped
    )
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, measure (unless ``--report``) and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", default=str(DOCS_RESULTS / "many_core.jsonl"), help="results file (JSON lines)"
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
    parser.add_argument("--md", help="report file (default: benchmarks/results/<name>.md)")
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 240.0 if args.quick else 420.0
    source = Path(args.report) if args.report else run(args)
    text = report(source)
    target = Path(args.md) if args.md else RESULTS / source.with_suffix(".md").name
    target.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
