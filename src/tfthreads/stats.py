"""Summaries of repeated timings: medians and spread, never one lucky run.

Percentiles use linear interpolation between order statistics (NumPy's default
``"linear"`` method), written out here so the library needs no NumPy for them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "INCONCLUSIVE",
    "ROBUST_ROUNDS",
    "SETTLED",
    "TIE",
    "RatioInterval",
    "Summary",
    "geometric_mean",
    "percentile",
    "ratio_interval",
    "summarize",
]


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


# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; beyond, ~1.96.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


#: How many times better or worse a tie's interval may reach before it decides nothing.
#: Fresh processes of one setting ran at two speeds about 1.6 times apart on the engine
#: benchmark's shared machine (explanation/reading-a-measurement), and such an interval
#: cannot tell settings apart by less than that.
INCONCLUSIVE = 1.5

#: The smallest difference a verdict calls better or worse, as a fraction. A ratio within
#: it of 1 (from 1/1.05 to 1.05) is a tie even where its interval excludes 1. On a
#: machine whose speed switches by about 1.6 times within a second, a difference that
#: small is not the same from one build to the next (benchmarks/README.md describes the
#: robustness runs before and after this rule), and "within the noise" in
#: the engine benchmark's targets means within it.
TIE = 0.05

#: How far a tie's interval may reach, as a fraction, for a page to call it settled. A tie
#: whose interval allows a difference of this much or more is "inconclusive" in
#: :attr:`RatioInterval.settled_verdict`.
SETTLED = 2 * TIE


@dataclass(frozen=True)
class RatioInterval:
    """A ratio of two settings' measurements with its 95 % confidence interval.

    Attributes
    ----------
    ratio : float
        Candidate over baseline, from the per-round ratios (see :func:`ratio_interval`).
    low, high : float
        The 95 % interval of the ratio.
    rounds : int
        Paired rounds it rests on.
    """

    ratio: float
    low: float
    high: float
    rounds: int

    @property
    def includes_one(self) -> bool:
        """Whether the interval contains 1 (see :attr:`tie` for what counts as a tie)."""
        return self.low <= 1.0 <= self.high

    @property
    def verdict(self) -> str:
        """``"better"``, ``"worse"``, ``"indistinguishable"`` or ``"inconclusive"``.

        ``"better"`` when all of the interval is above 1 and the ratio is at least
        ``1 + TIE``; ``"worse"`` when all of it is below 1 and the ratio at most
        ``1 / (1 + TIE)`` (:data:`TIE`). Anything else is a tie: ``"inconclusive"`` when
        its interval still reaches :data:`INCONCLUSIVE` times better or worse (it
        separates nothing, not even settings as far apart as the machine's own swings,
        so it must not be read as "as good"), else ``"indistinguishable"``: no
        difference of ``TIE`` or more shown on this machine.

        Examples
        --------
        >>> RatioInterval(1.2, 1.1, 1.3, 5).verdict, RatioInterval(0.9, 0.8, 0.95, 5).verdict
        ('better', 'worse')
        >>> RatioInterval(1.0, 0.94, 1.26, 5).verdict
        'indistinguishable'

        A difference under 5 % is a tie, even one that the interval shows:

        >>> RatioInterval(1.03, 1.01, 1.05, 12).verdict
        'indistinguishable'
        >>> RatioInterval(1.06, 0.05, 21.58, 3).verdict
        'inconclusive'
        """
        if self.low > 1.0 and self.ratio >= 1.0 + TIE:
            return "better"
        if self.high < 1.0 and self.ratio <= 1.0 / (1.0 + TIE):
            return "worse"
        if self.high >= INCONCLUSIVE or self.low <= 1.0 / INCONCLUSIVE:
            return "inconclusive"
        return "indistinguishable"

    @property
    def settled_verdict(self) -> str:
        """The verdict a page rebuilt on any machine states, stricter on ties than the other.

        ``"indistinguishable"`` only when the interval also rules out a difference of
        :data:`SETTLED` (10 %) or more; a tie whose interval reaches further is
        ``"inconclusive"``. A wide interval around 1 is not evidence of no difference,
        and read as one it turned into a difference in the next build (the robustness
        runs in ``benchmarks/README.md``): ``0.90 [0.83, 1.02]`` is "indistinguishable" in
        :attr:`verdict` but not settled.

        Examples
        --------
        >>> RatioInterval(0.90, 0.83, 1.02, 5).verdict, RatioInterval(0.90, 0.83, 1.02, 5).settled_verdict
        ('indistinguishable', 'inconclusive')
        >>> RatioInterval(1.00, 0.96, 1.04, 12).settled_verdict
        'indistinguishable'
        """
        decided = self.verdict
        if decided == "indistinguishable" and (
            self.high >= 1.0 + SETTLED or self.low <= 1.0 / (1.0 + SETTLED)
        ):
            return "inconclusive"
        return decided

    @property
    def tie(self) -> bool:
        """Whether the verdict is a tie, ``"indistinguishable"`` or ``"inconclusive"``."""
        return self.verdict in ("indistinguishable", "inconclusive")

    @property
    def half_width(self) -> float:
        """The interval's larger distance from the ratio, relative to it (0.05 is ±5 %)."""
        return max(self.high / self.ratio - 1.0, 1.0 - self.low / self.ratio)

    def describe(self) -> str:
        """Write the ratio and its 95 % interval as ``"1.23 [1.10, 1.38]"``.

        The one way tfthreads writes an interval: in the command line's output, in
        ``report``, in the gallery and on the site.
        """
        return f"{self.ratio:.2f} [{self.low:.2f}, {self.high:.2f}]"

    def as_dict(self) -> dict[str, float | int | bool | str]:
        """Return a JSON-ready dictionary."""
        return {
            "ratio": self.ratio,
            "low": self.low,
            "high": self.high,
            "rounds": self.rounds,
            "indistinguishable": self.tie,
            "verdict": self.verdict,
        }


def ratio_interval(baseline: Sequence[float], candidate: Sequence[float]) -> RatioInterval:
    """Compare two settings measured in the same rounds: ratio and 95 % interval.

    Round ``i`` of each setting ran close in time (interleaved: A B A B ...), so drift on
    a shared machine hits both alike; the per-round ratios are therefore paired, and the
    interval is computed on their logarithms.

    From :data:`ROBUST_ROUNDS` rounds on, the ratio is the Hodges-Lehmann estimate (the
    median of the pairwise means of the log ratios) and the interval is the exact
    Wilcoxon signed-rank interval, which assumes only that the log ratios are symmetric
    about their centre. On a shared machine a fresh process now and then runs a quarter
    slower for its whole life; such a round moves these two by one rank, where it would
    widen a mean-based interval for every comparison it is part of. Below that, no
    distribution-free interval reaches 95 %, and the ratio is the geometric mean of the
    per-round ratios with Student's t interval on their logarithms.

    Parameters
    ----------
    baseline, candidate : sequence of float
        One positive value per round (a median time, or a throughput), same length, at
        least two rounds.

    Returns
    -------
    RatioInterval
        ``candidate / baseline``; an interval that contains 1 means a tie.

    Examples
    --------
    >>> r = ratio_interval([10.0, 11.0, 10.5], [5.1, 5.4, 5.3])
    >>> round(r.ratio, 2), r.includes_one
    (0.5, False)
    >>> ratio_interval([10.0, 12.0, 9.0], [11.0, 10.0, 10.0]).includes_one
    True

    In twelve rounds, one in which the candidate's process ran 40 % slower leaves the
    interval at ±1 % (Student's t on the same rounds gives 0.97 to 1.10):

    >>> base = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.0, 10.1, 9.9, 10.2, 10.0]
    >>> cand = [10.1, 10.1, 10.0, 10.0, 14.0, 9.9, 10.2, 10.1, 10.0, 10.0, 10.1, 10.1]
    >>> ratio_interval(base, cand).describe()
    '1.00 [0.99, 1.01]'
    """
    if len(baseline) != len(candidate) or len(baseline) < 2:
        raise ValueError(
            f"ratio_interval: got {len(baseline)} and {len(candidate)} rounds; "
            "expected the same number, at least 2"
        )
    if min(*baseline, *candidate) <= 0:
        raise ValueError("ratio_interval: values must be above 0")
    logs = [math.log(c / b) for b, c in zip(baseline, candidate, strict=True)]
    centre, low, high = _signed_rank(logs) if len(logs) >= ROBUST_ROUNDS else _student(logs)
    return RatioInterval(
        ratio=math.exp(centre), low=math.exp(low), high=math.exp(high), rounds=len(logs)
    )


#: Rounds from which :func:`ratio_interval` uses the signed-rank interval (the fewest
#: for which it can reach 95 %: with 6 rounds all ratios on one side has chance 2/64).
ROBUST_ROUNDS = 6
# Above this many rounds the signed-rank statistic is close enough to normal.
_EXACT_ROUNDS = 50


def _student(logs: Sequence[float]) -> tuple[float, float, float]:
    """Mean of ``logs`` and Student's t 95 % interval."""
    n = len(logs)
    mean = sum(logs) / n
    spread = math.sqrt(sum((x - mean) ** 2 for x in logs) / (n - 1))
    t = _T975[n - 2] if n - 1 <= len(_T975) else 1.96
    margin = t * spread / math.sqrt(n)
    return mean, mean - margin, mean + margin


def _signed_rank(logs: Sequence[float]) -> tuple[float, float, float]:
    """Hodges-Lehmann estimate of ``logs``' centre and its Wilcoxon 95 % interval.

    The interval runs from the ``k``-th smallest to the ``k``-th largest of the
    ``n (n + 1) / 2`` pairwise means (Walsh averages), where ``k - 1`` is the largest
    signed-rank statistic with a lower tail of at most 2.5 %.
    """
    n = len(logs)
    k = _signed_rank_cut(n)
    total = n * (n + 1) // 2
    if n <= _LISTED_ROUNDS:
        walsh = sorted((logs[i] + logs[j]) / 2 for i in range(n) for j in range(i, n))
        return percentile(walsh, 50), walsh[k - 1], walsh[-k]
    # Too many pairs to list (memory grows with n squared): select the order statistics
    # the estimate and the interval need, each in O(n) memory.
    ordered = sorted(logs)
    middle = (total - 1) / 2
    low = _walsh_order(ordered, math.floor(middle))
    high = low if _walsh_count(ordered, low) > math.ceil(middle) else _walsh_above(ordered, low)
    centre = low + (high - low) * (middle - math.floor(middle))
    return centre, _walsh_order(ordered, k - 1), _walsh_order(ordered, total - k)


def _walsh_count(ordered: Sequence[float], value: float) -> int:
    """How many Walsh averages ``(x[i] + x[j]) / 2``, ``i <= j``, are at most ``value``.

    Counted as pairs with ``x[j] <= 2 value - x[i]`` by bisection (in C): the same test
    up to the last bit of a float.
    """
    count = 0
    for i, x in enumerate(ordered):
        j = bisect.bisect_right(ordered, 2 * value - x, lo=i)
        if j <= i:
            break
        count += j - i
    return count


def _walsh_above(ordered: Sequence[float], value: float) -> float:
    """Return the smallest Walsh average above ``value``."""
    best = math.inf
    for i, x in enumerate(ordered):
        j = bisect.bisect_right(ordered, 2 * value - x, lo=i)
        if j < len(ordered):
            best = min(best, (x + ordered[j]) / 2)
    return best


def _walsh_order(ordered: Sequence[float], rank: int) -> float:
    """Return the ``rank``-th smallest (from 0) Walsh average of the sorted ``ordered``.

    Bisection on the value, counting the averages at or below it in O(n) memory, then
    the largest average at or below the bound found: the number the sorted list of all
    averages holds at ``rank``, to the last bit of a float.
    """
    low, high = ordered[0], ordered[-1]  # every average lies between the extremes
    if _walsh_count(ordered, low) >= rank + 1:
        high = low
    while True:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _walsh_count(ordered, middle) >= rank + 1:
            high = middle
        else:
            low = middle
    best = -math.inf
    for i, x in enumerate(ordered):
        j = bisect.bisect_right(ordered, 2 * high - x, lo=i) - 1
        if j < i:
            break
        best = max(best, (x + ordered[j]) / 2)
    return best


#: Rounds up to which :func:`_signed_rank` lists every Walsh average (about 125,000).
_LISTED_ROUNDS = 500


def _signed_rank_cut(n: int) -> int:
    """Return the ``k`` of :func:`_signed_rank`: exact up to 50 rounds, normal above."""
    total = n * (n + 1) // 2
    if n > _EXACT_ROUNDS:
        sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        return max(1, math.floor(total / 2 - 1.96 * sd + 0.5))
    # ways[w]: subsets of the ranks 1..n that sum to w (all 2**n sign patterns).
    ways = [1] + [0] * total
    for rank in range(1, n + 1):
        for w in range(total, rank - 1, -1):
            ways[w] += ways[w - rank]
    tail, k = 0, 0
    while (tail + ways[k]) / 2**n <= 0.025:
        tail += ways[k]
        k += 1
    return k


def geometric_mean(values: Sequence[float]) -> float:
    """Return the geometric mean of positive values; 0 when there are none or one is not positive.

    Examples
    --------
    >>> geometric_mean([1.0, 4.0])
    2.0
    >>> geometric_mean([])
    0.0
    """
    if not values or min(values) <= 0:
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))
