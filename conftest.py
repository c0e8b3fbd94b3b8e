"""What the ``slow`` marker selects, for tests and for the library's doctests alike.

A test is slow when it starts or imports TensorFlow, or builds the documentation
(seconds each). Test functions say so with ``@pytest.mark.slow``, and are marked here
when they use a fixture that does it; a docstring example cannot carry a marker, so one
that calls a function starting a TensorFlow process is marked here too.
``pytest -m "not slow"`` then runs the fast subset.
"""

from __future__ import annotations

import re

import pytest

#: Fixtures that import TensorFlow in the test process or build the documentation site.
SLOW_FIXTURES = frozenset({"tf", "config_pb2", "built_site"})

#: Calls that start a TensorFlow process.
_STARTS_TENSORFLOW = re.compile(
    r"\b(measure|measure_many|sweep|tune|observe_pools|run_worker|doctor_report)\("
)


def _starts_tensorflow(item: pytest.Item) -> bool:
    examples = getattr(getattr(item, "dtest", None), "examples", ())
    return any(_STARTS_TENSORFLOW.search(example.source) for example in examples)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests with a slow fixture, and the doctests that start TensorFlow, as slow."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or _starts_tensorflow(item):
            item.add_marker(pytest.mark.slow)
