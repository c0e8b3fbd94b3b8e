"""Write a benchmark's comparisons into a tfthreads results file, round by round.

Both benchmarks (``bench_engine.py`` and ``bench_many_core.py``) measure with
:mod:`tfthreads.compare` and keep every measurement in a results file
(:class:`tfthreads.results_file.ResultsFile`) that ``tfthreads report`` reads: a header
whose ``run`` (:func:`run_header`) holds the provenance and the plan, then one line per
measurement, its own fields plus ``scenario``, ``round`` (from 1), ``position`` (its place
in the round) and ``label``, appended by :func:`append_round` as each round ends, so a
run stopped by a time limit keeps what it measured.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from tfthreads.compare import Comparison
from tfthreads.results import Failure, Measurement
from tfthreads.results_file import ResultsFile


def run_header(
    benchmark: str, *, quick: bool, provenance: dict[str, Any], **more: Any
) -> dict[str, Any]:
    """Return the header's ``run`` of a benchmark's results file: what ran, where, and ``more``."""
    return {
        "benchmark": benchmark,
        "measured_with": "compare",
        "argv": sys.argv,
        "quick": quick,
        "provenance": provenance,
        **more,
    }


def append_round(
    results: ResultsFile,
    scenario: str,
    labels: Sequence[str],
    comparisons: Sequence[Comparison],
    number: int,
) -> None:
    """Append round ``number`` (from 0) of each comparison, and print its first workload's.

    ``labels`` name the comparisons' settings, in their order (each label once per
    scenario); the rounds run in that order, then reversed (A B C, then C B A).
    """
    count = len(labels)
    order = list(range(count)) if number % 2 == 0 else list(reversed(range(count)))
    for w, comparison in enumerate(comparisons):
        row = comparison.rounds[number]
        before = comparison.rounds[number - 1] if number else [None] * count
        for position, index in enumerate(order):
            if row[index] is before[index]:
                continue  # compare does not measure a failed setting again: recorded once
            results.append(
                {
                    **row[index].as_dict(),
                    "scenario": scenario,
                    "round": number + 1,
                    "position": position,
                    "label": labels[index],
                }
            )
            if w == 0:
                print(f"  r{number + 1} {labels[index]:>24}: {_progress(row[index])}", flush=True)


def _progress(result: Measurement | Failure) -> str:
    if not isinstance(result, Measurement):
        return f"failed: {result.error}"
    row = result.row()
    return (
        f"{row['median_ms']:.3f} ms, {row['throughput']:.1f} {row['unit']}, "
        f"cpu/wall {row['cpu_per_wall']:.2f}"
    )
