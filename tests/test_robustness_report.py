"""The robustness run's report: a flip is two runs deciding one thing two ways.

``benchmarks/robustness.py`` is a script, not a module of the package: loaded by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "robustness.py"


@pytest.fixture(scope="module")
def robustness() -> Any:
    spec = importlib.util.spec_from_file_location("_robustness", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_robustness"] = module
    spec.loader.exec_module(module)
    return module


def _runs(*values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"decisions": v, "problems": [], "undecided": [], "cpus": 2} for v in values]


def test_two_decided_answers_are_a_flip_and_an_undecided_run_is_not(robustness: Any) -> None:
    runs = _runs(
        {"a": "higher", "b": "higher", "c": "x", "d": "shorter"},
        {"a": "not higher", "b": "inconclusive", "c": "x", "d": "shorter"},
        {
            "a": "higher",
            "b": "higher",
            "c": "not decided on this machine: 1 of 3 agreed",
            "d": "shorter",
        },
    )
    assert robustness.flips(runs) == {"a": ["higher", "not higher"]}
    assert set(robustness.differences(runs)) == {"a", "b", "c"}


def test_the_report_counts_and_lists_both_kinds(robustness: Any) -> None:
    runs = _runs({"a": "higher", "b": "higher"}, {"a": "lower", "b": "inconclusive"})
    data = {
        "machine": "test machine",
        "runs": 2,
        "gallery": True,
        "conditions": {"as is": {"runs": runs, "seconds": 60.0}},
    }
    report = robustness.render(data)
    assert "| as is | 2 | 2 | 1.0 | 2 | 1 | 1 | 0 | 0 |" in report
    assert "- as is: flipped: `a` took 'higher', 'lower'" in report
    assert "- as is: decided in some runs only: `b` took 'higher', 'inconclusive'" in report
    assert "over all runs: 1." in report


def test_a_verdict_rendered_in_some_runs_only_is_a_flip(robustness: Any) -> None:
    runs = _runs({"a": "higher"}, {})
    assert robustness.flips(runs) == {"a": ["higher", robustness.ABSENT]}
