"""Only the modules behind the process boundary import TensorFlow.

TensorFlow fixes its thread pools once per process, so the parent side of tfthreads
(measuring, sweeping, reports, the CLI) must never import it: only code that runs in a
child (:mod:`tfthreads.process`, the catalog's probes) does, plus the few public
functions that exist to be called inside a user's own TensorFlow process.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tfthreads

PACKAGE = Path(tfthreads.__file__).parent

#: Folders whose modules run in child processes and may import TensorFlow.
CHILD_FOLDERS = ("process/", "catalog/probes/")

#: Modules outside those folders that import TensorFlow, each for a reason.
ALLOWED_MODULES = {
    # ThreadSettings.apply() and to_config_proto() are for the user's own process:
    # they set its pools, or build the ConfigProto its tf.compat.v1.Session takes.
    "settings.py",
    # identify_pools() tells the pools apart by running work on them; it runs in the
    # process being observed (a worker, a probe or a user's process with TensorFlow).
    "pool_identity.py",
    # serialize() runs in a child through run_function (config_bytes); the parent side
    # of the module only builds the dictionaries it serializes.
    "configproto.py",
}


def _imports_tensorflow(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "tensorflow" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] == "tensorflow"
    if isinstance(node, ast.Call):  # importlib.import_module("tensorflow...")
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        name = node.func.id if isinstance(node.func, ast.Name) else name
        first = node.args[0] if node.args else None
        return (
            name in {"import_module", "__import__"}
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value.split(".")[0] == "tensorflow"
        )
    return False


def modules_importing_tensorflow(package: Path = PACKAGE) -> set[str]:
    """Return the modules of ``package`` (paths relative to it) with an import of TensorFlow."""
    found = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(_imports_tensorflow(node) for node in ast.walk(tree)):
            found.add(path.relative_to(package).as_posix())
    return found


def test_only_modules_behind_the_boundary_import_tensorflow():
    importing = modules_importing_tensorflow()
    stray = {
        module
        for module in importing
        if not module.startswith(CHILD_FOLDERS) and module not in ALLOWED_MODULES
    }
    assert not stray, f"modules that import TensorFlow outside the process boundary: {stray}"


def test_every_allowed_module_still_needs_tensorflow():
    # A module that stopped importing TensorFlow leaves the list, so it cannot start again.
    assert modules_importing_tensorflow() >= ALLOWED_MODULES


def test_the_worker_side_is_where_tensorflow_is_imported():
    importing = modules_importing_tensorflow()
    assert "process/tasks.py" in importing
    assert any(module.startswith("catalog/probes/") for module in importing)


def test_an_import_inside_a_function_counts(tmp_path):
    (tmp_path / "lazy.py").write_text("def f():\n    from tensorflow.core import x\n")
    (tmp_path / "dynamic.py").write_text(
        "import importlib\nimportlib.import_module('tensorflow')\n"
    )
    (tmp_path / "clean.py").write_text("import tensorflow_probe_name_alike as t\n")
    assert modules_importing_tensorflow(tmp_path) == {"lazy.py", "dynamic.py"}
