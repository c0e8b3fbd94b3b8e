"""Call a function in a fresh process: by name from its module, or sent as source code.

:func:`run_function` makes one call, :func:`run_functions` several at once, forked from
one import (:mod:`tfthreads.process.server`). Arguments and results travel as JSON.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tfthreads.process.child_options import ChildOptions, child_options
from tfthreads.process.outcomes import WorkerError, WorkerResult
from tfthreads.process.spawn import run_worker, run_workers

__all__ = ["run_function", "run_functions"]


def run_function(
    function: Callable[..., Any],
    arguments: Mapping[str, Any] | None = None,
    *,
    child: ChildOptions | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> Any:
    """Call ``function(**arguments)`` in a fresh process and return what it returned.

    Within an :func:`~tfthreads.process.importing_once` block for TensorFlow in the same
    environment, the process is a copy forked from the block's import, before any
    runtime started, as :func:`run_functions` makes its copies.

    A function of an importable module is imported by name in the child (the module's
    folder is added to the end of the child's ``sys.path``). A function defined in the
    script being run (``__main__``, as in a gallery example or ``python script.py``) is
    sent as its source code and defined again in the child, so it must be
    self-contained: it imports what it uses inside its body and reads no global
    variables of the script. Arguments and the returned value travel as JSON.

    Parameters
    ----------
    function : callable
        A top-level function, of an importable module or of ``__main__``, whose return
        value is JSON data.
    arguments : mapping, optional
        Keyword arguments, JSON-serialisable.
    child, env, cpus, cgroup, timeout
        How the child runs, as for :func:`run_worker`.

    Returns
    -------
    object
        The function's return value, as it comes out of JSON.

    Raises
    ------
    WorkerError
        When the child fails or the function raises; the message names the exception.
    ValueError
        When ``function`` cannot be imported by a child.

    Examples
    --------
    >>> import os
    >>> run_function(os.cpu_count) == os.cpu_count()
    True
    """
    payload = _call_payload(function, arguments)
    child = child_options(child, env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)
    outcome = run_worker("call", payload, child=child, share_import=("tensorflow",))
    return outcome.result["value"]


def run_functions(
    function: Callable[..., Any],
    arguments: Sequence[Mapping[str, Any]],
    *,
    share_import: Sequence[str] = ("tensorflow",),
    child: ChildOptions | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> list[Any]:
    """Call ``function`` once per mapping of ``arguments``, each call in a process of its own.

    As :func:`run_function`, for observations that time nothing: the calls run at the
    same time, each in a copy forked from one process that imported ``share_import``
    (see :func:`run_workers`), so TensorFlow's import is paid once for all of them while
    each call still starts a runtime of its own.

    Returns
    -------
    list
        What each call returned, in the order of ``arguments``.

    Raises
    ------
    WorkerError
        The first call's error, when any call fails.

    Examples
    --------
    >>> import os
    >>> run_functions(os.getpid, [{}, {}], share_import=["json"])[0] != os.getpid()
    True
    """
    payloads = [_call_payload(function, one) for one in arguments]
    child = child_options(child, env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)
    outcomes = run_workers("call", payloads, child=child, share_import=share_import)
    for outcome in outcomes:
        if isinstance(outcome, WorkerError):
            raise outcome
    return [outcome.result["value"] for outcome in outcomes if isinstance(outcome, WorkerResult)]


def _call_payload(
    function: Callable[..., Any], arguments: Mapping[str, Any] | None
) -> dict[str, Any]:
    module_name = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if not module_name or "<locals>" in qualname:
        raise ValueError(
            f"function: got {function!r}; expected a module-level function of an "
            "importable module or of __main__ (a child process defines it again)"
        )
    if module_name == "__main__":
        return {**_function_source(function), "arguments": dict(arguments or {})}
    module = sys.modules.get(module_name)
    module_file = getattr(module, "__file__", None)
    root = None
    if module_file:
        root = Path(module_file).resolve().parent
        for _ in range(module_name.count(".")):
            root = root.parent
    return {
        "module": module_name,
        "qualname": qualname,
        "path": None if root is None else str(root),
        "arguments": dict(arguments or {}),
    }


def _function_source(function: Callable[..., Any]) -> dict[str, Any]:
    """Read the source of a top-level function of ``__main__``, for the child to define."""
    name = getattr(function, "__name__", "")
    code = getattr(function, "__code__", None)
    problem = ""
    if not name.isidentifier() or function.__qualname__ != name or code is None:
        problem = "it is not a plain top-level function"
    elif function.__closure__:
        problem = "it uses variables of an enclosing function"
    else:
        try:
            source = textwrap.dedent(inspect.getsource(function))
        except (OSError, TypeError) as error:
            problem = f"its source cannot be read ({error})"
    if problem or code is None:
        raise ValueError(
            f"function: got {function!r}; a function of __main__ is sent to the child as "
            f"source code, and {problem}"
        )
    filename = code.co_filename
    return {
        "source": source,
        "qualname": name,
        "filename": filename,
        "line": code.co_firstlineno,  # of the first decorator, if any: where getsource starts
        "path": str(Path(filename).resolve().parent) if Path(filename).is_file() else None,
    }
