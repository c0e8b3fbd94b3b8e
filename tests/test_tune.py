"""Tuning: screening by successive halving, then a precise comparison with the defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import measured

from tfthreads.cli.measure_commands import _tune_report
from tfthreads.compare import Comparison
from tfthreads.errors import SettingError
from tfthreads.options import MeasureOptions
from tfthreads.recommend import recommend
from tfthreads.results import Failure
from tfthreads.settings import ThreadSettings
from tfthreads.stats import RatioInterval
from tfthreads.sweep import SweepResult
from tfthreads.topology import topology
from tfthreads.tune import TuneResult, distinct_pools, tune
from tfthreads.workloads import parse_workload

DEFAULTS, ONE, TWO = ThreadSettings(), ThreadSettings(1, 1), ThreadSettings(2, 1)


def _result(medians_by_round, best):
    settings = (DEFAULTS, ONE, TWO)
    comparison = Comparison(parse_workload("matmul"), "latency", settings)
    for medians in medians_by_round:
        comparison.rounds.append([measured(s, m) for s, m in zip(settings, medians, strict=True)])
    rows = [m for row in comparison.rounds for m in row]
    return TuneResult(best, "latency", recommend("latency"), SweepResult(rows=rows), comparison)


def test_the_gain_over_the_defaults_carries_its_interval_and_ties_are_named():
    found = _result(
        [(0.020, 0.0101, 0.0050), (0.026, 0.0130, 0.0066), (0.016, 0.0080, 0.0041)], TWO
    )
    assert found.speedup.low > 3.5
    assert found.speedup_over_default == pytest.approx(found.speedup.ratio)
    assert found.indistinguishable == ()
    assert found.best_measurement.settings == TWO
    assert found.default_measurement.settings == DEFAULTS
    summary = found.as_dict()
    assert summary["speedup_over_default"]["indistinguishable"] is False
    json.dumps(summary)
    report = _tune_report(found)
    assert "95 % CI" in report
    assert "x better than defaults [95 % CI]" in report
    assert "TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=1" in report
    assert "--tensorflow_intra_op_parallelism=2" in report
    assert "set_intra_op_parallelism_threads(2)" in report


def test_a_best_inside_the_noise_of_the_defaults_is_reported_as_a_tie():
    found = _result([(0.020, 0.019, 0.030), (0.016, 0.018, 0.036), (0.024, 0.022, 0.027)], ONE)
    assert found.speedup.includes_one
    assert DEFAULTS in found.indistinguishable
    report = _tune_report(found)
    assert "indistinguishable from TensorFlow's defaults" in report
    assert "keeping the defaults is as good" in report
    assert "TF Serving" not in report  # nothing to apply for a tie


def test_an_interval_too_wide_to_decide_is_inconclusive_not_as_good():
    # Two rounds that disagree by a factor of 4: nothing can be said, least of all a tie.
    found = _result([(0.020, 0.040, 0.010), (0.020, 0.010, 0.040)], TWO)
    assert found.speedup.includes_one
    assert found.conclusion == "inconclusive"
    report = _tune_report(found)
    assert "inconclusive after 2 round(s)" in report
    assert "raise --budget" in report
    assert "keeping the defaults is as good" not in report
    assert "stopped because" in report
    assert "before every interval was within ±5 %" in report
    assert found.as_dict()["precise"] is False


def test_defaults_best_inside_a_too_wide_interval_is_inconclusive_not_nothing_to_set():
    found = _result([(0.010, 0.040, 0.012), (0.020, 0.010, 0.030)], DEFAULTS)
    assert found.conclusion == "inconclusive"
    report = _tune_report(found)
    assert (
        "TensorFlow's defaults, but inconclusive after 2 round(s) against the runner-up" in report
    )
    assert "nothing to set" not in report


def test_defaults_that_fail_here_are_not_advised():
    found = _result([(0.020, 0.010, 0.011), (0.020, 0.011, 0.012)], ONE)
    failure = Failure(parse_workload("matmul"), DEFAULTS, 1, "signal", "aborted (SIGABRT)")
    for row in found.comparison.rounds:
        row[0] = failure
    assert found.conclusion == "defaults failed"
    report = _tune_report(found)
    assert (
        "TensorFlow's defaults failed here (signal: aborted (SIGABRT)): do not keep them" in report
    )
    assert "keeping the defaults" not in report
    assert "TF_NUM_INTRAOP_THREADS=1" in report  # how to apply the setting that ran
    # The table compares with the best that ran, not with a baseline that has no rounds.
    table = report.splitlines()
    assert "x better than 1/1" in table[0]
    assert all(" failed" not in line for line in table[2:4] if "1/1" in line)


def test_tune_checks_its_arguments_first():
    with pytest.raises(SettingError, match="budget: got 3; expected a whole number from 4"):
        tune("matmul", budget=3)
    with pytest.raises(TypeError, match=r"budget: got 2.5 \(float\)"):
        tune("matmul", budget=2.5)
    with pytest.raises(SettingError, match="goal: got 'fast'"):
        tune("matmul", "fast")
    with pytest.raises(SettingError, match="grid: expected one or more ThreadSettings"):
        tune("matmul", grid=[])
    with pytest.raises(SettingError, match="grid: expected one or more ThreadSettings"):
        tune("matmul", grid=[(1, 1)])
    with pytest.raises(SettingError, match="chunks: got 9; expected at most the repeats"):
        tune("matmul", chunks=9, options=MeasureOptions(repeats=8))


def test_a_given_grid_keeps_the_defaults_first_and_counts_same_pools_once():
    settings = [ThreadSettings(), ThreadSettings(2, 2), ThreadSettings(4, 1), ThreadSettings(4, 1)]
    assert distinct_pools(settings, max_threads=2) == [ThreadSettings(), ThreadSettings(4, 1)]
    assert distinct_pools(settings, max_threads=4) == [
        ThreadSettings(),
        ThreadSettings(2, 2),
        ThreadSettings(4, 1),
    ]


@pytest.mark.slow
def test_tune_searches_the_grid_it_is_given(capsys):
    from tfthreads.cli import main

    arguments = "tune matmul --intra-op 1,3 --inter-op 1 --budget 8 --json --repeats 3 --warmup 1"
    code = main(arguments.split())
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    tried = {(row["intra_op"], row["inter_op"]) for row in data["tried"]}
    # The defaults always take part; nothing outside the grid is measured.
    assert tried <= {(0, 0), (1, 1), (3, 1)}
    assert {(0, 0), (3, 1)} <= tried or {(0, 0), (1, 1)} <= tried


@pytest.mark.slow
def test_tune_on_one_cpu_still_has_a_setting_to_compare_with_the_defaults():
    options = MeasureOptions(repeats=3, warmup=1, cpus=[0])
    found = tune(parse_workload("matmul", n=64), "latency", budget=4, options=options)
    assert found.comparison.settings[0] == DEFAULTS
    assert ThreadSettings(1, 2) in found.comparison.settings


@pytest.mark.slow
def test_tune_screens_then_compares_within_its_budget():
    options = MeasureOptions(repeats=3, warmup=1)
    found = tune(parse_workload("matmul", n=64), "latency", budget=12, options=options)
    stages = [m.settings for m in found.tried.rows]
    assert len(stages) <= 12
    assert DEFAULTS in stages
    # The recommendation is measured, unless it starts the same pools as the defaults.
    cpus = topology().affinity_cpus
    pools = {(s.intra_op or cpus, s.inter_op or cpus) for s in stages}
    advice = found.recommendation.settings
    assert (advice.intra_op or cpus, advice.inter_op or cpus) in pools
    assert found.comparison.settings[0] == DEFAULTS
    assert len(found.comparison.rounds) >= 2
    assert found.best in found.comparison.settings
    interval = found.speedup
    if found.best == DEFAULTS:
        assert interval is None or interval.ratio == pytest.approx(1.0)
    else:
        assert interval is not None
        assert interval.low <= interval.ratio <= interval.high


def test_when_the_defaults_win_there_is_no_self_ratio_and_nothing_to_set():
    found = _result([(0.010, 0.019, 0.030), (0.012, 0.021, 0.031), (0.011, 0.020, 0.029)], DEFAULTS)
    assert found.speedup is None
    assert found.speedup_over_default is None
    report = _tune_report(found)
    assert "TensorFlow's defaults: nothing to set" in report
    assert "TF Serving" not in report


@pytest.mark.slow
def test_tune_in_turns_records_every_final_measurement_once(tmp_path):
    from tfthreads.results_file import read_results

    output = tmp_path / "tune.jsonl"
    options = MeasureOptions(repeats=4, warmup=1)
    grid = [ThreadSettings(1, 1)]
    found = tune(
        parse_workload("matmul", n=64),
        budget=8,
        options=options,
        grid=grid,
        chunks=2,
        results=output,
    )
    final = [result for row in found.comparison.rounds for result in row]
    assert len(found.comparison.rounds) >= 2
    # Every final measurement is in the results and the file, once.
    assert all(sum(r is m for r in found.tried.rows) == 1 for m in final)
    _, rows = read_results(output)
    assert len(rows) == len(found.tried.rows)


def test_a_grid_of_only_the_defaults_pools_is_refused_before_measuring() -> None:
    """``--intra-op 2 --inter-op 2`` on 2 CPUs: one line, nothing started."""
    one_cpu = MeasureOptions(cpus=[min(os.sched_getaffinity(0))])
    with pytest.raises(SettingError, match=r"same pools as TensorFlow's defaults here "):
        tune("matmul", grid=[ThreadSettings(intra_op=1, inter_op=1)], options=one_cpu)


@pytest.mark.slow
def test_an_interrupted_tune_resumes_where_it_stopped(tmp_path) -> None:
    """Run again with the same --output, a tune takes what it measured before from the file."""
    path = tmp_path / "tune.jsonl"
    searched = [ThreadSettings(intra_op=1, inter_op=2), ThreadSettings(intra_op=2, inter_op=2)]
    options = MeasureOptions(repeats=3, warmup=1)
    first = tune("matmul", budget=12, options=options, results=path, grid=searched)
    lines = path.read_text().splitlines()
    measured = len(lines) - 1
    assert measured == len(first.tried.rows)
    stages = [json.loads(line)["stage"] for line in lines[1:]]
    screened = stages.count("screen 1") + stages.count("screen 2")
    assert stages[screened:] == ["final"] * (measured - screened)
    # Interrupted after the screening, a first final round of the 2 finalists and half of
    # the second: the file holds the header and those lines.
    path.write_text("\n".join(lines[: 1 + screened + 3]) + "\n")
    again = tune("matmul", budget=12, options=options, results=path, grid=searched)
    # The screening and the complete round are taken from the file; the half round is not.
    assert again.tried.reused == screened + 2
    assert [r.settings for r in again.tried.rows[: screened + 2]] == [
        r.settings for r in first.tried.rows[: screened + 2]
    ]
    # The file holds what it held and what was measured after, once each.
    assert len(path.read_text().splitlines()) - 1 == len(again.tried.rows) + 1
    assert again.comparison.rounds[0] == first.comparison.rounds[0]
    # A tune of another goal is refused, the file untouched.
    before = path.read_bytes()
    with pytest.raises(SettingError, match="already holds a tune of 'matmul'"):
        tune("matmul", "throughput", budget=8, options=options, results=path, grid=searched)
    assert path.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("goal", ["latency", "throughput"])
def test_tune_and_report_print_the_same_comparison(tmp_path, goal) -> None:
    """What ``tfthreads tune --output F`` printed, ``tfthreads report F`` prints again."""
    path = tmp_path / "tune.jsonl"
    shown = _tfthreads(
        "tune", "matmul", "--goal", goal, "--budget", "6", "--repeats", "6", "--warmup", "1",
        "--output", str(path), "--json",
    )  # fmt: skip
    reported = _tfthreads("report", str(path), "--json")
    tuned = {f"{r['intra_op']}/{r['inter_op']}": r for r in shown["final_comparison"]}
    rows = {r["setting"]: r for r in reported["rows"]}
    assert rows.pop("defaults")["verdict"] == tuned.pop("0/0")["verdict"] == "baseline"
    assert set(rows) == set(tuned)
    for label, row in rows.items():
        printed = tuned[label]
        assert row["goal"] == goal
        assert row["rounds"] == printed["rounds"] == shown["final_rounds"]
        for field in ("ratio", "low", "high"):
            assert row[field] == pytest.approx(printed[field], rel=1e-12), field
        assert row["verdict"] == printed["verdict"]
        assert row["median_ms"] == pytest.approx(printed["step_ms"], rel=1e-12)
    # And as text: the same interval, written the same way, in both outputs.
    tune_text = _tfthreads_text("report", str(path))
    for printed in tuned.values():
        interval = RatioInterval(printed["ratio"], printed["low"], printed["high"], 2)
        assert interval.describe() in tune_text


def _tfthreads(*args: str) -> dict:
    return json.loads(_tfthreads_text(*args))


def _tfthreads_text(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tfthreads", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
