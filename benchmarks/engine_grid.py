"""Parts (c) and (d) of the engine benchmark: the grid, recommend and tune against its best.

Three steps, every one measured as :mod:`tfthreads.compare` measures by default (live
processes taking turns, chunk by chunk):

1. **Screening**: every setting of the grid, TensorFlow's defaults and ``recommend``'s
   advice on every built-in workload, in a fixed number of rounds of
   :func:`tfthreads.compare.compare_many` (one process per setting and round runs all six
   workloads). It names each workload's best.
2. **tune** with its default budget on each workload, given the grid as its candidates.
3. **Precise comparisons**: per workload, the best of the screening against
   ``recommend``'s advice, the defaults and tune's pick, with
   :func:`tfthreads.compare.compare` until every interval is within ±5 % (or the most
   rounds are done), so that "within the noise of the best" means within 5 %.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

from _results import append_round
from engine_parts import interval_dict
from engine_plan import DEFAULTS, Plan, goal_of, label

from tfthreads.compare import Comparison, compare, compare_many
from tfthreads.measure import turns_for
from tfthreads.recommend import recommend
from tfthreads.results_file import ResultsFile
from tfthreads.settings import ThreadSettings, resolve_pools
from tfthreads.stats import TIE
from tfthreads.sweep import grid
from tfthreads.topology import topology
from tfthreads.tune import distinct_pools, tune

#: The budget tune takes when none is given (its signature's default).
BUDGET_DEFAULT: int = inspect.signature(tune).parameters["budget"].default
from tfthreads.workloads import BUILTIN_WORKLOADS


def _pools(settings: ThreadSettings) -> tuple[int, int]:
    resolved = resolve_pools(settings, affinity_cpus=topology().affinity_cpus, environ={})
    return resolved.intra_op, resolved.inter_op


def _find(settings: ThreadSettings, among: tuple[ThreadSettings, ...]) -> int:
    """Index of the setting of ``among`` that starts the same pools as ``settings``."""
    sizes = [_pools(one) for one in among]
    return sizes.index(_pools(settings))


def grid_settings(plan: Plan) -> list[ThreadSettings]:
    """Return the defaults, ``recommend``'s advice for both goals and the grid, once each."""
    advice = [recommend(goal).settings for goal in ("latency", "throughput")]
    everything = [DEFAULTS, *advice, *grid(plan.intra_op, plan.inter_op)]
    return distinct_pools(everything, topology().affinity_cpus)


def screen(plan: Plan, results: ResultsFile) -> tuple[dict[str, Comparison], dict[str, Any]]:
    """Measure every workload under every setting of the grid in fixed rounds (c, step 1).

    The defaults are measured twice in every round, first and last (``"defaults again"``):
    their ratio is the noise of the screening's ratios. Each round goes to ``results``
    (scenario ``grid``) as it ends.
    """
    settings = grid_settings(plan)
    columns = [*settings, DEFAULTS]
    labels = [*map(label, settings), f"{label(DEFAULTS)} again"]
    names = list(BUILTIN_WORKLOADS)
    start = time.monotonic()

    def record(comparisons: list[Comparison]) -> None:
        done = len(comparisons[0].rounds)
        append_round(results, "grid", labels, comparisons, done - 1)
        print(f"grid: round {done} done after {time.monotonic() - start:.0f} s", flush=True)

    measured = compare_many(
        names,
        columns,
        options=plan.options,
        # A fixed number of rounds: the screening only ranks, the precise step measures.
        min_rounds=plan.grid_rounds,
        max_rounds=plan.grid_rounds,
        chunks=turns_for(plan.options),
        on_round=record,
    )
    # One measurement, two goals: each workload's rounds are scored for its own goal.
    comparisons = {
        name: Comparison(made.workload, goal_of(name), made.settings, made.rounds, made.stopped)
        for name, made in zip(names, measured, strict=True)
    }
    seconds = time.monotonic() - start
    summary = {
        "grid_points": len(settings),
        "grid_rounds": plan.grid_rounds,
        "grid_seconds": seconds,
        "grid_chunks": turns_for(plan.options),
        # Every round's score of every setting: enough to recompute any screening ratio.
        "scores": {
            name: {labels[i]: c.scores(i) for i in range(len(columns))}
            for name, c in comparisons.items()
        },
    }
    return comparisons, summary


def without_again(comparison: Comparison) -> Comparison:
    """Return the screening of the grid alone, without the defaults' second measurement."""
    return Comparison(
        comparison.workload,
        comparison.goal,
        comparison.settings[:-1],
        [row[:-1] for row in comparison.rounds],
    )


def tuned(plan: Plan, screened: Comparison) -> dict[str, Any]:
    """Run tune with its default budget, the grid as its candidates (d)."""
    start = time.monotonic()
    found = tune(
        screened.workload,
        screened.goal,
        options=plan.options,
        grid=list(screened.settings[1:]),
        # tune's own default budget unless the plan says otherwise (a quick check).
        budget=BUDGET_DEFAULT if plan.tune_budget is None else plan.tune_budget,
    )
    final = found.comparison
    return {
        "settings": found.best,
        "pick": label(found.best),
        "runs": len(found.tried.rows),
        "seconds": time.monotonic() - start,
        "final_rounds": len(final.rounds),
        "final_stopped": final.stopped,
        "final_method": final.method,
    }


def precisely(
    plan: Plan,
    screened: Comparison,
    others: list[ThreadSettings],
    on_round: Callable[[Comparison], None],
) -> Comparison | None:
    """Compare the screening's best with ``others`` until every interval is within ±5 %.

    ``None`` when every one of ``others`` is the best itself.
    """
    best = screened.settings[screened.best]
    chosen = [best, *(s for s in others if _pools(s) != _pools(best))]
    chosen = distinct_pools(chosen, topology().affinity_cpus)
    if len(chosen) < 2:
        return None
    return compare(
        screened.workload,
        chosen,
        goal=screened.goal,
        options=plan.options,
        min_rounds=plan.precise_min_rounds,
        max_rounds=plan.precise_max_rounds,
        precision=TIE,
        on_round=on_round,
    )


def _against_best(comparison: Comparison | None, settings: ThreadSettings) -> dict[str, Any]:
    """Return the precise ratio of ``settings`` to the best (``None``: it is the best)."""
    if comparison is None or _pools(settings) == _pools(comparison.settings[0]):
        return {"vs_best": None, "tied_or_better": True, "within_5_percent": True}
    interval = comparison.interval(_find(settings, comparison.settings), 0)
    # Inconclusive is no tie here: an interval that wide separates nothing.
    good = interval is not None and interval.verdict in ("indistinguishable", "better")
    return {
        "vs_best": interval_dict(interval),
        "tied_or_better": good,
        "within_5_percent": interval is not None and interval.half_width <= TIE,
    }


def grid_and_tune(plan: Plan, results: ResultsFile, save: Callable[..., None]) -> None:
    """Measure parts (c) and (d), saving each step's summary as it ends."""
    comparisons, summary = screen(plan, results)
    save(**summary)
    report: list[dict[str, Any]] = []
    for name in plan.tuned:
        full = comparisons[name]
        screened = without_again(full)
        advice = recommend(screened.goal)
        picked = tuned(plan, screened)
        labels: list[str] = []

        def record(comparison: Comparison, labels: list[str] = labels, name: str = name) -> None:
            if not labels:
                labels += [comparison.label(i) for i in range(len(comparison.settings))]
            append_round(
                results, f"precise {name}", labels, [comparison], len(comparison.rounds) - 1
            )

        start = time.monotonic()
        exact = precisely(plan, screened, [advice.settings, DEFAULTS, picked["settings"]], record)
        best = screened.best
        ends = full.interval(len(full.settings) - 1, 0)
        report.append(
            {
                "workload": name,
                "goal": screened.goal,
                "screening_best": screened.label(best),
                "screening_tied_with_best": [
                    screened.label(i) for i in screened.indistinguishable_from_best() if i != best
                ],
                "screening_ends": interval_dict(ends),
                "recommend": label(advice.settings),
                "recommend_confidence": advice.confidence,
                "recommend_says_tune": advice.measure_instead is not None,
                "recommend_vs_best": _against_best(exact, advice.settings),
                "defaults_vs_best": _against_best(exact, DEFAULTS),
                "tune": {k: v for k, v in picked.items() if k != "settings"}
                | _against_best(exact, picked["settings"]),
                "grid_measurements": len(screened.settings) * len(screened.rounds)
                + (0 if exact is None else len(exact.settings) * len(exact.rounds)),
                "precise": None
                if exact is None
                else {
                    "settings": [exact.label(i) for i in range(len(exact.settings))],
                    "rounds": len(exact.rounds),
                    "stopped": exact.stopped,
                    "method": exact.method,
                    "seconds": time.monotonic() - start,
                },
            }
        )
        save(strategies=report)
