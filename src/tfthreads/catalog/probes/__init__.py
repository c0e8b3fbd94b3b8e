"""Probes: small checks, run in a fresh process, that observe what the catalog claims.

Each module here is one probe: its ``probe()`` is run by
:func:`tfthreads.process.run_function` (never in the calling process) with the
environment in its ``ENV``, and returns a flat dict of JSON values that catalog facts
(:class:`tfthreads.catalog.facts.Observed`) name by key. One probe observes many facts: a
TensorFlow import costs seconds, so a probe imports TensorFlow once and then runs each
case in a forked copy of itself (:func:`tfthreads.process.run_forked`), which starts its
own runtime in a fraction of a second. Forking is safe here because the probe never
starts TensorFlow's runtime itself (no pool thread exists yet) and each copy ends with
``os._exit``.

Keys that depend on the machine are observed, never assumed: ``cpus`` is the affinity
mask the probe saw, and facts compare against it. A yes/no observation of CPU time is
decided with a margin (:func:`tfthreads.catalog.probes._common.decide`) or reported as
"not decided on this machine". Each probe's cached result is keyed by its own module's
source and that of the helper modules of this package it imports (:func:`source`), so
editing one probe re-runs only that probe.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from tfthreads.catalog.probes import data_pipeline, execution, onednn, runtime, sessions

__all__ = [
    "PROBES",
    "Probe",
    "data_pipeline",
    "execution",
    "onednn",
    "runtime",
    "sessions",
    "source",
]


@dataclass(frozen=True)
class Probe:
    """A probe function and the environment it is started with.

    Attributes
    ----------
    function : callable
        The ``probe`` function of a module of this package, returning a flat dict of
        JSON values.
    env : mapping
        Environment changes for its process (``None`` removes a variable).
    """

    function: Callable[[], dict[str, Any]]
    env: Mapping[str, str | None] = field(default_factory=dict)


def _probe(module: ModuleType) -> Probe:
    return Probe(module.probe, module.ENV)


#: Every probe by name, with the environment its process starts with.
PROBES: dict[str, Probe] = {
    "runtime": _probe(runtime),
    "data_pipeline": _probe(data_pipeline),
    "sessions": _probe(sessions),
    "onednn": _probe(onednn),
    "execution": _probe(execution),
}


def source(name: str) -> str:
    """Return the code a probe's result depends on: its module and the helpers it imports.

    The helpers are the private modules of this package (``_common`` and any other) that
    the probe's module imports, directly or through another helper, in the order first
    imported.
    """
    module = inspect.getmodule(PROBES[name].function)
    assert module is not None  # a module's function
    return "".join(inspect.getsource(each) for each in [module, *_helpers(module)])


def _helpers(module: ModuleType) -> list[ModuleType]:
    """Return the private modules of this package that ``module`` imports, transitively."""
    found: dict[str, ModuleType] = {}
    pending = [module]
    while pending:
        tree = ast.parse(inspect.getsource(pending.pop(0)))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
                continue
            # ``from <package>._x import f`` and ``from <package> import _x`` alike
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            for dotted in names:
                parent, _, leaf = dotted.rpartition(".")
                if parent == __name__ and leaf.startswith("_") and dotted not in found:
                    found[dotted] = importlib.import_module(dotted)
                    pending.append(found[dotted])
    return list(found.values())
