"""tfthreads.report and ``tfthreads report``: results files into a table with intervals.

The numbers asserted here are worked out by hand from a small file, not taken from the
code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tfthreads.errors import SettingError
from tfthreads.process import run_snippet
from tfthreads.report import load_report
from tfthreads.results import Failure, Measurement, ProcessResult
from tfthreads.results_file import FORMAT, FORMAT_VERSION
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload

REPO = Path(__file__).resolve().parents[1]
PROVENANCE = {
    "cpu_model": "Test CPU",
    "topology": {
        "logical_cpus": 8,
        "affinity_cpus": 8,
        "quota_cpus": None,
        "cpu_budget": 8.0,
    },
    "tensorflow_version": "2.99.0",
    "python_version": "3.12.0",
    "platform": "Linux-test",
    "date": "2026-01-02T03:04:05+00:00",
}
# Median step times in ms, per round: B is about twice as fast as A in every round,
# C is A within noise.
TIMES = {"A": [10.0, 11.0, 10.5], "B": [5.1, 5.4, 5.3], "C": [11.0, 10.0, 10.0]}
SETTINGS = {"A": ThreadSettings(1, 1), "B": ThreadSettings(2, 1), "C": ThreadSettings(4, 1)}
T975_2DF = 4.303  # Student's t, 97.5 %, 2 degrees of freedom


def measurement(settings: ThreadSettings, ms: float) -> Measurement:
    """One process that took ``ms`` per step, three steps of one item each."""
    seconds = ms / 1e3
    return Measurement(
        workload=parse_workload("matmul", n=64),
        settings=settings,
        env={},
        unit="matmuls",
        items_per_step=1.0,
        flops_per_step=0.0,
        processes=(ProcessResult((seconds,) * 3, (seconds,) * 3, 3, 1),),
        configured={"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        observed_pools={"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        provenance=PROVENANCE,
    )


def header(run: dict | None = None) -> dict:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tfthreads": "test",
        "created": "2026-01-02T03:04:05+00:00",
        "run": run or {},
    }


def write(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def scenario_file(tmp_path: Path, goal: str = "latency") -> Path:
    """A benchmark-style file: one scenario, three settings, three rounds, A first."""
    run = {
        "scenarios": [
            {
                "key": "s",
                "title": "Three settings",
                "goals": {"matmul": goal},
                "baseline": "first",
                "settings": [[label, s.intra_op, s.inter_op] for label, s in SETTINGS.items()],
            }
        ]
    }
    rows: list = [header(run)]
    for index in range(3):
        for label in ("C", "B", "A") if index % 2 else ("A", "B", "C"):
            m = measurement(SETTINGS[label], TIMES[label][index])
            rows.append({**m.as_dict(), "scenario": "s", "round": index + 1, "label": label})
    rows.append({"event": "end", "elapsed_s": 1.0})
    return write(tmp_path / "bench.jsonl", rows)


def by_hand(baseline: list[float], candidate: list[float]) -> tuple[float, float, float]:
    logs = [math.log(c / b) for b, c in zip(baseline, candidate, strict=True)]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    margin = T975_2DF * sd / math.sqrt(len(logs))
    return math.exp(mean), math.exp(mean - margin), math.exp(mean + margin)


def test_latency_ratios_intervals_and_verdicts(tmp_path):
    report = load_report([scenario_file(tmp_path)])
    rows = {row.setting: row for row in report.rows}
    assert list(rows) == ["A", "B", "C"]  # the baseline first, then the scenario's order
    assert rows["A"].verdict == "baseline"
    assert rows["A"].ratio is None
    for label, verdict in (("B", "better"), ("C", "indistinguishable")):
        # Times better, above 1 better: the baseline's step time over the setting's.
        ratio, low, high = by_hand(TIMES[label], TIMES["A"])
        row = rows[label]
        assert (row.ratio, row.low, row.high) == pytest.approx((ratio, low, high), rel=1e-3)
        assert row.verdict == verdict
        assert row.rounds == row.paired == 3
    # The same numbers, written out: A/B per round is 1.961, 2.037, 1.981.
    assert rows["B"].ratio == pytest.approx(1 / 0.5018, abs=1e-3)
    assert (rows["B"].low, rows["B"].high) == pytest.approx((1 / 0.5270, 1 / 0.4778), abs=1e-3)
    assert (rows["C"].low, rows["C"].high) == pytest.approx((1 / 1.2594, 1 / 0.7686), abs=1e-3)
    # Geometric means over rounds, as Comparison.table_rows gives them.
    assert rows["B"].median_ms == pytest.approx((5.1 * 5.4 * 5.3) ** (1 / 3))
    assert rows["A"].throughput == pytest.approx(1e3 / (10.0 * 11.0 * 10.5) ** (1 / 3))


def test_throughput_goal_turns_the_ratio_and_the_verdict(tmp_path):
    report = load_report([scenario_file(tmp_path, goal="throughput")])
    b = next(row for row in report.rows if row.setting == "B")
    ratio, low, high = by_hand(TIMES["B"], TIMES["A"])  # items/s is the inverse of time
    assert (b.ratio, b.low, b.high) == pytest.approx((ratio, low, high), rel=1e-3)
    assert b.ratio > 1
    assert b.verdict == "better"


def test_source_names_machine_date_and_tensorflow(tmp_path):
    report = load_report([scenario_file(tmp_path)])
    (source,) = report.sources
    assert source.tensorflow == "2.99.0"
    assert source.date == PROVENANCE["date"]
    assert source.logical_cpus == 8
    assert "Test CPU" in source.machine
    text = report.table()
    assert "bench.jsonl: Test CPU" in text
    assert "1.99 [1.90, 2.09]  better" in text


def test_a_sweep_file_uses_defaults_as_baseline_and_counts_rounds(tmp_path):
    # No scenario, no round: the n-th measurement of a setting is its round n.
    rows: list = [header({"workloads": []})]
    for ms_default, ms_other in ((10.0, 20.0), (10.0, 21.0)):
        rows.append(measurement(SETTINGS["A"], ms_other).as_dict())
        rows.append(measurement(ThreadSettings(), ms_default).as_dict())
    report = load_report([write(tmp_path / "sweep.jsonl", rows)])
    first, second = report.rows
    assert (first.setting, first.verdict) == ("defaults", "baseline")
    assert second.setting == "1/1"
    assert second.rounds == 2
    assert second.ratio == pytest.approx(1 / math.sqrt(2.0 * 2.1))
    assert second.verdict == "worse"


def test_a_setting_that_failed_then_succeeded_on_resume_is_compared(tmp_path):
    """The failure was measured again by a resumed sweep: the retry takes its place."""
    failed = Failure(parse_workload("matmul", n=64), SETTINGS["A"], 1, "exit", "boom")
    rows: list = [
        header({"workloads": []}),
        measurement(ThreadSettings(), 10.0).as_dict(),
        failed.as_dict(),
        measurement(SETTINGS["A"], 20.0).as_dict(),
    ]
    baseline, other = load_report([write(tmp_path / "sweep.jsonl", rows)]).rows
    assert (baseline.setting, baseline.verdict) == ("defaults", "baseline")
    assert other.setting == "1/1"
    assert other.verdict != "baseline"
    assert other.rounds == 1
    assert other.ratio == pytest.approx(0.5)  # 20 ms against 10 ms
    assert "baseline" not in report_text(rows, tmp_path).splitlines()[-1]


def report_text(rows: list, tmp_path: Path) -> str:
    return load_report([write(tmp_path / "again.jsonl", rows)]).table()


def test_a_row_without_a_ratio_never_reads_as_the_baseline(tmp_path):
    """A setting with no round in common with the baseline prints no ratio, not "baseline"."""
    rows: list = [
        header({"workloads": []}),
        {**measurement(ThreadSettings(), 10.0).as_dict(), "round": 1},
        {**measurement(SETTINGS["A"], 20.0).as_dict(), "round": 2},
    ]
    _, other = load_report([write(tmp_path / "sweep.jsonl", rows)]).rows
    assert other.verdict == "no round in common with the baseline"
    assert other.ratio_text() == "-"


def test_rows_measured_under_other_conditions_are_compared_apart(tmp_path):
    """A sweep resumed without its taskset appends rows of other conditions: two tables."""
    pinned = {"affinity": [0], "variables": {"TF_ENABLE_ONEDNN_OPTS": "0"}}
    free = {"affinity": [0, 1], "variables": {}}
    rows: list = [header({"workloads": []})]
    for conditions, ms in ((pinned, 10.0), (free, 5.0)):
        for settings in (SETTINGS["A"], SETTINGS["B"]):
            rows.append({**measurement(settings, ms).as_dict(), "conditions": conditions})
    report = load_report([write(tmp_path / "sweep.jsonl", rows)])
    tables = list(report.groups().values())
    assert [len(table) for table in tables] == [2, 2]
    assert all(row.rounds == 1 for row in report.rows)  # never paired across conditions
    text = report.table()
    assert "measured under: affinity mask [0], TF_ENABLE_ONEDNN_OPTS=0" in text
    assert "measured under: affinity mask [0, 1], TF_ENABLE_ONEDNN_OPTS unset" in text


def test_one_set_of_conditions_says_nothing_about_them(tmp_path):
    rows = [
        header(),
        measurement(ThreadSettings(), 10.0).as_dict(),
        measurement(SETTINGS["A"], 5.0).as_dict(),
    ]
    assert "measured under" not in load_report([write(tmp_path / "one.jsonl", rows)]).table()


def test_one_round_gives_a_ratio_without_interval(tmp_path):
    rows = [
        header(),
        measurement(ThreadSettings(), 10.0).as_dict(),
        measurement(SETTINGS["A"], 5.0).as_dict(),
    ]
    report = load_report([write(tmp_path / "one.jsonl", rows)])
    row = report.rows[1]
    assert row.ratio == pytest.approx(2.0)  # 5 ms against 10 ms: twice as good
    assert row.low is None
    assert row.verdict == "one round: no interval"


def test_a_tune_file_shows_only_the_final_rounds(tmp_path):
    rows: list = [header({"command": "tune", "goal": "latency"})]
    rows.append({**measurement(SETTINGS["B"], 1.0).as_dict(), "stage": "screen 1"})
    for ms in (10.0, 10.0):
        rows.append({**measurement(ThreadSettings(), ms).as_dict(), "stage": "final"})
        rows.append({**measurement(SETTINGS["A"], ms).as_dict(), "stage": "final"})
    report = load_report([write(tmp_path / "tune.jsonl", rows)])
    assert [row.setting for row in report.rows] == ["defaults", "1/1"]
    assert report.rows[0].scenario == "tune"


def test_the_committed_16_cpu_file_reads(tmp_path):
    report = load_report([REPO / "docs" / "results" / "many_core.jsonl"])
    assert report.sources[0].logical_cpus == 16
    self_rows = [row for row in report.rows if row.scenario == "self"]
    assert self_rows[1].rounds == 3
    assert self_rows[1].verdict == "indistinguishable"  # the bootstrap said "worse"


def test_plot_draws_one_point_per_setting(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    figure = load_report([scenario_file(tmp_path)]).plot()
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    matplotlib.pyplot.close(figure)


# ---------------------------------------------------------------- bad input

MEASURED = measurement(SETTINGS["A"], 1.0).as_dict()
BAD = {
    "empty": ("", "is empty"),
    "not-json": ("this is not json\n", "is not a tfthreads results file"),
    "no-header": (json.dumps(MEASURED) + "\n", "is not a tfthreads results file"),
    "old-benchmark": (json.dumps({"type": "header"}) + "\n", "is not a tfthreads results file"),
    "version": (json.dumps({**header(), "version": 2}) + "\n", "format version 2"),
    "no-rows": (json.dumps(header()) + "\n", "holds no measurements"),
    "torn-row": (json.dumps(header()) + "\n" + json.dumps(MEASURED)[:50], "line 2 is not a JSON"),
    "missing-field": (
        json.dumps(header())
        + "\n"
        + json.dumps({k: v for k, v in MEASURED.items() if k != "spec"}),
        "line 2 lacks the field 'spec'",
    ),
    "no-status": (
        json.dumps(header()) + "\n" + json.dumps({"workload": "matmul"}),
        "line 2 is no result",
    ),
    "bad-round": (
        json.dumps(header()) + "\n" + json.dumps({**MEASURED, "round": 0}),
        "round 0 is not a whole number from 1",
    ),
    "repeated-round": (
        json.dumps(header())
        + "\n"
        + json.dumps({**MEASURED, "round": 1})
        + "\n"
        + json.dumps({**MEASURED, "round": 1}),
        "a second time in round 1",
    ),
}


def _timed(times: object) -> str:
    """A file whose one measured row has the hand-edited step times ``times``."""
    row = {**MEASURED, "round": 1}
    row["per_process"] = [{**row["per_process"][0], "wall_seconds": times}]
    return json.dumps(header()) + "\n" + json.dumps(row, allow_nan=True)


BAD |= {
    "times-as-strings": (_timed(["0.001", "0.002"]), "wall_seconds[0]: got '0.001'; expected a"),
    "times-zero": (_timed([0.0, 0.0]), "wall_seconds[0]: got 0.0; expected a finite number"),
    "times-negative": (_timed([-1.0]), "wall_seconds[0]: got -1.0"),
    "times-nan": (_timed([float("nan")]), "wall_seconds[0]: got nan"),
    "times-not-a-list": (_timed(3), "wall_seconds: got 3; expected a list of seconds"),
    "version-as-string": (
        json.dumps({**header(), "version": "1"}) + "\n",
        "format version '1' (a string, where tfthreads writes a number)",
    ),
    "provenance-not-an-object": (
        json.dumps(header({"provenance": ["x"]})) + "\n" + json.dumps({**MEASURED, "round": 1}),
        "its provenance is not an object with date, tensorflow_version and topology",
    ),
    "row-provenance-not-an-object": (
        json.dumps(header()) + "\n" + json.dumps({**MEASURED, "round": 1, "provenance": "x"}),
        "line 2: its provenance is 'x'; expected an object",
    ),
    "scenarios-not-a-list": (
        json.dumps(header({"scenarios": 5})) + "\n" + json.dumps({**MEASURED, "round": 1}),
        "its header's scenarios are 5; expected a list of objects",
    ),
    "goals-not-an-object": (
        json.dumps(header({"scenarios": [{"key": "s", "goals": ["x"]}]}))
        + "\n"
        + json.dumps({**MEASURED, "round": 1}),
        "scenario 's': goals are ['x']; expected workload names to goals",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_give_one_line_naming_the_file(tmp_path, case):
    text, words = BAD[case]
    path = tmp_path / f"{case}.jsonl"
    path.write_text(text)
    with pytest.raises(SettingError) as caught:
        load_report([path])
    message = str(caught.value)
    assert "\n" not in message
    assert f"{case}.jsonl" in message
    assert words in message


def test_a_folder_and_a_missing_file_are_refused(tmp_path):
    with pytest.raises(SettingError, match="is a folder"):
        load_report([tmp_path])
    with pytest.raises(SettingError, match="cannot be read: No such file"):
        load_report([tmp_path / "missing.jsonl"])
    with pytest.raises(SettingError, match="no results files"):
        load_report([])


def test_report_imports_no_tensorflow():
    done = run_snippet(
        "import sys, tfthreads.report; print('tensorflow' in sys.modules)", env=None, cpus=None
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# ---------------------------------------------------------------- the command line


def run_cli(*args):
    code = f"import sys; from tfthreads.cli import main; sys.exit(main({list(args)!r}))"
    return run_snippet(code, env=None, cpus=None)


def test_cli_prints_the_table(tmp_path):
    done = run_cli("report", str(scenario_file(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "bench.jsonl: Test CPU" in done.stdout
    assert "TensorFlow 2.99.0" in done.stdout
    assert "1.99 [1.90, 2.09]  better" in done.stdout


def test_cli_json(tmp_path):
    done = run_cli("report", "--json", str(scenario_file(tmp_path)))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["sources"][0]["tensorflow"] == "2.99.0"
    b = next(row for row in data["rows"] if row["setting"] == "B")
    assert b["verdict"] == "better"
    assert b["low"] == pytest.approx(1 / 0.5270, abs=1e-3)


@pytest.mark.parametrize("case", ["not-json", "missing-field", "empty"])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, case):
    good = scenario_file(tmp_path)
    bad = tmp_path / f"{case}.jsonl"
    bad.write_text(BAD[case][0])
    done = run_cli("report", str(good), str(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tfthreads report: error: ")
    assert f"{case}.jsonl" in lines[0]
    assert BAD[case][1] in lines[0]


def test_cli_help_shows_examples():
    done = run_cli("report", "--help")
    assert done.returncode == 0
    assert "examples:" in done.stdout
    assert "tfthreads report" in done.stdout


def test_files_that_share_a_name_are_reported_apart_and_a_repeated_file_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = scenario_file(tmp_path / "a"), scenario_file(tmp_path / "b")
    report = load_report([first, second, first])
    assert [s.name for s in report.sources] == [str(first), str(second)]
    groups = report.groups()
    assert len(groups) == 2
    assert all(len(rows) == len(next(iter(groups.values()))) for rows in groups.values())
    assert report.table().count(str(first)) == 1
    assert len(load_report([first]).rows) * 2 == len(report.rows)
