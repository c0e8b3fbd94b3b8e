"""The package as a whole: version, public names, and no TensorFlow at import."""

from __future__ import annotations

import importlib.metadata

import tfthreads
from tfthreads.isolation import run_snippet


def test_version_matches_metadata():
    assert tfthreads.__version__ == importlib.metadata.version("tfthreads")


def test_public_names_exist():
    for name in tfthreads.__all__:
        assert hasattr(tfthreads, name), name


def test_import_does_not_import_tensorflow():
    # TensorFlow fixes its pools once per process; importing tfthreads must not start it.
    result = run_snippet(
        "import sys, tfthreads, tfthreads.cli, tfthreads.doctor; print('tensorflow' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
