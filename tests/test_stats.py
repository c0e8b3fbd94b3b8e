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
