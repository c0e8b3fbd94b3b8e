"""Shared helpers for the tests: run Python snippets in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def run_python(
    code: str,
    *,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (TensorFlow's pools are fixed per process)."""
    environ = dict(os.environ)
    environ.update(env or {})
    return subprocess.run(
        [*(prefix or []), sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def python_runner():
    """Give tests :func:`run_python`."""
    return run_python
