"""Summaries of repeated timings: medians and spread, never one lucky run.

Percentiles use linear interpolation between order statistics (NumPy's default
``"linear"`` method), written out here so the library needs no NumPy for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Summary", "percentile", "summarize"]


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile of ``values`` by linear interpolation.

    Parameters
    ----------
    values : sequence of float
        At least one value.
    q : float
        Percentile, from 0 to 100.

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    >>> percentile([5.0], 99)
    5.0
    """
    if not values:
        raise ValueError("percentile: got no values; expected at least one")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile: got q={q}; expected 0 to 100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    """Statistics of repeated measurements of one quantity.

    Attributes
    ----------
    n : int
        Number of measurements.
    median, minimum, maximum, mean : float
        The usual statistics.
    q1, q3 : float
        First and third quartiles; ``iqr`` is their difference.
    p99 : float
        99th percentile, the tail.
    """

    n: int
    median: float
    q1: float
    q3: float
    p99: float
    minimum: float
    maximum: float
    mean: float

    @property
    def iqr(self) -> float:
        """Interquartile range, ``q3 - q1``."""
        return self.q3 - self.q1

    @property
    def relative_iqr(self) -> float:
        """The IQR as a fraction of the median (the noise of this measurement)."""
        return self.iqr / self.median if self.median else math.inf

    def as_dict(self) -> dict[str, float]:
        """Return a JSON-ready dictionary (``iqr`` included)."""
        return {
            "n": self.n,
            "median": self.median,
            "q1": self.q1,
            "q3": self.q3,
            "iqr": self.iqr,
            "p99": self.p99,
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean,
        }


def summarize(values: Sequence[float]) -> Summary:
    """Summarize repeated measurements.

    Examples
    --------
    >>> s = summarize([4.0, 1.0, 3.0, 2.0, 5.0])
    >>> s.median, s.iqr, s.minimum
    (3.0, 2.0, 1.0)
    """
    if not values:
        raise ValueError("summarize: got no values; expected at least one measurement")
    return Summary(
        n=len(values),
        median=percentile(values, 50),
        q1=percentile(values, 25),
        q3=percentile(values, 75),
        p99=percentile(values, 99),
        minimum=min(values),
        maximum=max(values),
        mean=sum(values) / len(values),
    )
