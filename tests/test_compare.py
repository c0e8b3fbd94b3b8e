"""Precise comparisons: interleaved rounds of fresh processes, ratios with intervals."""

from __future__ import annotations

import pytest
from helpers import measured

from tfthreads.compare import Comparison, compare, compare_many
from tfthreads.errors import SettingError
from tfthreads.options import MeasureOptions
from tfthreads.results import Failure
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload

ONE, TWO = ThreadSettings(intra_op=1), ThreadSettings(intra_op=2)


def _comparison(rounds, goal="latency"):
    settings = (ONE, TWO, ThreadSettings(intra_op=3))
    made = Comparison(parse_workload("matmul"), goal, settings)
    for medians in rounds:
        made.rounds.append([measured(s, m) for s, m in zip(settings, medians, strict=True)])
    return made


def test_a_clear_difference_is_named_and_a_tie_is_called_a_tie():
    # Round-to-round drift (x1.0, x1.3, x0.8) hits every setting alike, as interleaving ensures.
    made = _comparison([(10.0, 5.0, 10.2), (13.0, 6.6, 12.8), (8.0, 4.0, 8.1)])
    assert made.verdict(1) == "better"  # half the time: twice as fast
    assert made.interval(1).low > 1.8
    assert made.verdict(2) == "indistinguishable"
    assert made.best == 1
    assert made.indistinguishable_from_best() == [1]
    table = made.table()
    assert "2.0" in table
    assert "95 % CI" in table
    assert "indistinguishable" in table


def test_throughput_goal_prefers_more_items_per_second():
    made = _comparison([(10.0, 20.0, 10.0), (11.0, 22.0, 11.5)], goal="throughput")
    assert made.best in {0, 2}  # the faster steps give more items per second
    assert made.verdict(1) == "worse"


def test_a_failed_setting_is_reported_not_ranked():
    made = _comparison([(10.0, 5.0, 10.2), (13.0, 6.6, 12.8)])
    made.rounds[1][1] = Failure(parse_workload("matmul"), TWO, 1, "signal", "boom")
    assert made.verdict(1) == "failed"
    assert made.best in (0, 2)


def test_another_score_compares_another_statistic():
    # Setting 1 is twice as fast; compared by CPU time per step (lower is better) as well.
    made = _comparison([(10.0, 5.0, 10.2), (13.0, 6.6, 12.8), (8.0, 4.0, 8.1)])
    by_cpu = made.interval(1, of=lambda m: 1 / m.cpu.median)
    assert by_cpu is not None
    assert by_cpu.low > 1.8
    assert made.verdict(0, 1, of=lambda m: 1 / m.wall.p99) == "worse"


def test_bad_arguments_are_refused_before_measuring():
    with pytest.raises(SettingError, match="two or more"):
        compare("matmul", [ONE])
    with pytest.raises(SettingError, match="min_rounds"):
        compare("matmul", [ONE, TWO], min_rounds=5, max_rounds=3)
    with pytest.raises(SettingError, match="precision: got 2"):
        compare("matmul", [ONE, TWO], precision=2)
    with pytest.raises(TypeError, match="max_rounds"):
        compare("matmul", [ONE, TWO], max_rounds=2.5)
    with pytest.raises(SettingError, match="chunks: got 4; expected at most the repeats"):
        compare("matmul", [ONE, TWO], chunks=4, options=MeasureOptions(repeats=3))
    with pytest.raises(SettingError, match="chunks: got a measure_one as well"):
        compare("matmul", [ONE, TWO], chunks=2, measure_one=lambda settings: None)
    with pytest.raises(SettingError, match="workloads: got none"):
        compare_many([], [ONE, TWO])
    with pytest.raises(SettingError, match="two or more"):
        compare_many(["matmul"], [ONE])
    with pytest.raises(SettingError, match="chunks: got 4; expected at most the repeats"):
        compare_many(["matmul"], [ONE, TWO], chunks=4, options=MeasureOptions(repeats=3))


@pytest.mark.slow
def test_rounds_in_turns_measure_every_setting_in_its_own_processes():
    made = compare(
        parse_workload("matmul", n=64),
        [ONE, TWO],
        options=MeasureOptions(repeats=4, warmup=1),
        min_rounds=2,
        max_rounds=2,
        chunks=2,
    )
    assert made.stopped == "rounds"
    assert len(made.rounds) == 2
    for row in made.rounds:
        assert [m.observed_pools["intra_op"] for m in row] == [1, 2]
        assert all(len(m.processes[0].wall_seconds) == 4 for m in row)
    assert made.interval(1) is not None


@pytest.mark.slow
def test_rounds_alternate_and_stop_at_the_most_rounds():
    seen = []
    made = compare(
        parse_workload("matmul", n=64),
        [ONE, TWO],
        options=MeasureOptions(repeats=3, warmup=1),
        min_rounds=2,
        max_rounds=3,
        precision=0.0001,
        on_round=lambda c: seen.append(len(c.rounds)),
    )
    assert seen == [1, 2, 3]
    assert made.stopped == "rounds"
    assert all(len(row) == 2 for row in made.rounds)
    assert [m.settings for m in made.measured(1)] == [TWO] * 3
    interval = made.interval(1)
    assert interval is not None
    assert interval.low <= interval.ratio <= interval.high
    verdicts = {"better", "worse", "indistinguishable", "inconclusive"}
    assert made.as_dict()["rows"][1]["verdict"] in verdicts


@pytest.mark.slow
def test_several_workloads_share_each_rounds_processes():
    matmul, branches = parse_workload("matmul", n=64), parse_workload("branches", k=2, n=32)
    options = MeasureOptions(repeats=4, warmup=1)
    seen: list[list[int]] = []
    made = compare_many(
        [matmul, branches],
        [ONE, TWO],
        options=options,
        min_rounds=2,
        max_rounds=2,
        on_round=lambda comparisons: seen.append([len(c.rounds) for c in comparisons]),
    )
    assert seen == [[1, 1], [2, 2]]  # told after each round, every workload's comparison
    assert [c.workload for c in made] == [matmul, branches]
    for comparison in made:
        assert comparison.stopped == "rounds"
        assert len(comparison.rounds) == 2
        assert [m.settings for m in comparison.rounds[1]] == [ONE, TWO]  # in settings order
        assert comparison.interval(1) is not None
