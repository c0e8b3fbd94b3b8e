"""Statistics on known inputs, checked against NumPy's percentiles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfthreads.stats import percentile, summarize


def test_summary_of_known_values():
    s = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (s.n, s.median, s.q1, s.q3, s.minimum, s.maximum) == (5, 3.0, 2.0, 4.0, 1.0, 100.0)
    assert s.iqr == 2.0
    assert s.mean == 22.0
    assert s.p99 == pytest.approx(96.16)
    assert s.relative_iqr == pytest.approx(2 / 3)
    assert s.as_dict()["iqr"] == 2.0


def test_single_value():
    s = summarize([0.5])
    assert (s.median, s.p99, s.iqr) == (0.5, 0.5, 0.0)


@pytest.mark.parametrize("bad", [[], ()])
def test_empty_input_is_refused(bad):
    with pytest.raises(ValueError, match="expected at least one"):
        summarize(bad)


def test_percentile_range_is_checked():
    with pytest.raises(ValueError, match="q=101"):
        percentile([1.0], 101)


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50),
    st.floats(0, 100),
)
def test_percentile_matches_numpy(values, q):
    assert percentile(values, q) == pytest.approx(
        float(np.percentile(values, q)), rel=1e-9, abs=1e-9
    )


def test_ratio_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    import random

    from tfthreads.stats import ratio_interval

    rng = random.Random(7)
    hits = 0
    trials = 400
    for _ in range(trials):
        drift = [rng.lognormvariate(0, 0.3) for _ in range(5)]  # hits both settings alike
        base = [d * rng.lognormvariate(0, 0.1) for d in drift]
        cand = [0.8 * d * rng.lognormvariate(0, 0.1) for d in drift]
        interval = ratio_interval(base, cand)
        hits += interval.low <= 0.8 <= interval.high
    assert 0.91 <= hits / trials <= 0.99


def test_ratio_interval_separates_a_clear_difference_and_ties_noise():
    from tfthreads.stats import ratio_interval

    clear = ratio_interval([10.0, 10.4, 9.8, 10.1], [5.0, 5.3, 4.9, 5.1])
    assert not clear.includes_one
    assert clear.describe().startswith("0.50 [0.")
    tie = ratio_interval([10.0, 11.0, 9.0, 10.5], [10.5, 9.5, 10.0, 10.0])
    assert tie.includes_one
    assert tie.as_dict()["indistinguishable"] is True


def test_signed_rank_cut_matches_counting_every_sign_pattern():
    import itertools

    from tfthreads.stats import _signed_rank_cut

    for n in range(6, 13):
        sums = [
            sum(rank for rank, sign in zip(range(1, n + 1), signs, strict=True) if sign)
            for signs in itertools.product((0, 1), repeat=n)
        ]
        k = _signed_rank_cut(n)
        # k - 1 is the largest statistic whose lower tail stays within 2.5 %.
        assert sum(s <= k - 1 for s in sums) / 2**n <= 0.025 < sum(s <= k for s in sums) / 2**n


def test_signed_rank_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    import random

    from tfthreads.stats import ROBUST_ROUNDS, ratio_interval

    rng = random.Random(11)
    hits = 0
    trials = 400
    for _ in range(trials):
        drift = [rng.lognormvariate(0, 0.3) for _ in range(12)]
        base = [d * rng.lognormvariate(0, 0.1) for d in drift]
        cand = [1.2 * d * rng.lognormvariate(0, 0.1) for d in drift]
        interval = ratio_interval(base, cand)
        hits += interval.low <= 1.2 <= interval.high
    assert len(drift) >= ROBUST_ROUNDS
    assert 0.91 <= hits / trials <= 0.99


def test_one_slow_process_does_not_widen_a_long_comparison():
    from tfthreads.stats import ratio_interval

    base = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.0, 10.1, 9.9, 10.2, 10.0]
    same = [10.1, 10.1, 10.0, 10.0, 10.0, 9.9, 10.2, 10.1, 10.0, 10.0, 10.1, 10.1]
    clean = ratio_interval(base, same)
    slowed = ratio_interval(base, [14.0, *same[1:]])  # one process ran 40 % slower
    assert clean.half_width < 0.02
    assert slowed.half_width < 0.02
    assert slowed.includes_one


def test_few_rounds_use_students_t_on_the_log_ratios():
    import math
    import statistics

    from tfthreads.stats import ratio_interval

    base, cand = [10.0, 11.0, 9.5, 10.2, 10.8], [5.2, 5.4, 5.0, 5.3, 5.1]
    logs = [math.log(c / b) for b, c in zip(base, cand, strict=True)]
    margin = 2.776 * statistics.stdev(logs) / math.sqrt(5)
    interval = ratio_interval(base, cand)
    assert interval.ratio == pytest.approx(math.exp(statistics.mean(logs)))
    assert interval.low == pytest.approx(math.exp(statistics.mean(logs) - margin))


def test_signed_rank_cut_above_fifty_rounds_stays_close_to_the_exact_count():
    from tfthreads.stats import _signed_rank_cut

    def exact(n: int) -> int:
        # Counts of rank subsets by their sum, one rank at a time (no shortcut taken).
        counts = {0: 1}
        for rank in range(1, n + 1):
            grown = dict(counts)
            for total, ways in counts.items():
                grown[total + rank] = grown.get(total + rank, 0) + ways
            counts = grown
        tail, k = 0, 0
        while (tail + counts.get(k, 0)) / 2**n <= 0.025:
            tail += counts.get(k, 0)
            k += 1
        return k

    for n in (51, 60, 80):
        assert abs(_signed_rank_cut(n) - exact(n)) <= 1


@given(
    st.lists(
        st.one_of(st.sampled_from([-0.1, 0.0, 0.05]), st.floats(-1, 1, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_selected_walsh_averages_are_those_of_the_sorted_list(values: list[float]) -> None:
    """Long comparisons select order statistics instead of listing n (n + 1) / 2 averages."""
    from tfthreads.stats import _walsh_order

    walsh = sorted(
        (values[i] + values[j]) / 2 for i in range(len(values)) for j in range(i, len(values))
    )
    ordered = sorted(values)
    for rank in {0, len(walsh) // 2, len(walsh) - 1}:
        assert _walsh_order(ordered, rank) == pytest.approx(walsh[rank], rel=1e-12, abs=1e-15)


def test_a_long_comparison_gives_the_listed_interval_without_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tfthreads import stats

    rng = np.random.default_rng(3)
    logs = [float(x) for x in np.round(rng.normal(0, 0.1, 120), 3)]  # ties included
    listed = stats._signed_rank(logs)
    monkeypatch.setattr(stats, "_LISTED_ROUNDS", 10)
    assert stats._signed_rank(logs) == pytest.approx(listed, rel=1e-12, abs=1e-15)
