"""The package as a whole: version, public names, and no TensorFlow at import."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import re
import shutil
import types
from pathlib import Path

import pytest

import tfthreads
from tfthreads._version import _from_git
from tfthreads.process import run_snippet

SUBMODULES = sorted(
    info.name for info in pkgutil.iter_modules(tfthreads.__path__) if info.name != "__main__"
)


def test_version_matches_metadata():
    assert tfthreads.__version__ == importlib.metadata.version("tfthreads")


def test_version_of_a_bare_source_tree(tmp_path):
    # PYTHONPATH=src, no metadata: the commit inside a checkout, 0+unknown outside one.
    assert _from_git(tmp_path) == "0+unknown"
    checkout = Path(tfthreads.__file__).parent
    if shutil.which("git") is None or not (checkout.parents[1] / ".git").exists():
        pytest.skip("the package is not in a git checkout")
    assert re.fullmatch(r"0\+g[0-9a-f]{7,}(\.dirty)?", _from_git(checkout))


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


def test_every_submodule_is_found():
    assert {"measure", "topology", "inventory", "provenance", "recommend", "sweep"} <= set(
        SUBMODULES
    )
    assert {"tune", "probe", "settings", "catalog", "options", "results"} <= set(SUBMODULES)


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodules_import_as_modules(name):
    # `import tfthreads.x as m` reads the package's attribute x: a function of the same
    # name in tfthreads/__init__.py would shadow the module.
    namespace: dict[str, object] = {}
    exec(f"import tfthreads.{name} as m", namespace)
    assert isinstance(namespace["m"], types.ModuleType)
    assert namespace["m"] is importlib.import_module(f"tfthreads.{name}")
    if not name.startswith("_"):
        assert getattr(tfthreads, name) is namespace["m"]
