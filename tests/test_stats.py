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
    assert clear.describe().startswith("0.50x (95 % CI 0.")
    tie = ratio_interval([10.0, 11.0, 9.0, 10.5], [10.5, 9.5, 10.0, 10.0])
    assert tie.includes_one
    assert tie.as_dict()["indistinguishable"] is True
