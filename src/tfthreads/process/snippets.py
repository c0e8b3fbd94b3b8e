"""Run a code snippet in a fresh process: what it printed, its exit code and its ``result``."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfthreads.process.child_options import ChildOptions, child_options
from tfthreads.process.outcomes import WorkerResult, key_line
from tfthreads.process.spawn import run_workers

__all__ = ["SnippetResult", "run_snippet"]


@dataclass(frozen=True)
class SnippetResult:
    """What a snippet run by :func:`run_snippet` printed, returned and how it ended.

    Attributes
    ----------
    stdout : str
        What the snippet printed from Python (``print``); lost if the process crashed.
    stderr : str
        Its stderr without TensorFlow's start-up chatter, and the traceback of an
        exception the snippet did not catch.
    returncode : int
        0 when the snippet ran to its end, its ``sys.exit`` code, 1 for an uncaught
        exception, negative when a signal killed it (``-6`` for TensorFlow's aborts).
    data : object
        The value the snippet assigned to ``result`` (JSON data), or ``None``.
    """

    stdout: str
    stderr: str
    returncode: int
    data: Any = None

    @property
    def last_error_line(self) -> str:
        """The line of stderr that says why the snippet failed, if it did."""
        return key_line(self.stderr)


def run_snippet(
    code: str,
    *,
    child: ChildOptions | None = None,
    env: Mapping[str, str | None] | None = None,
    cpus: Iterable[int] | None = None,
    cgroup: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> SnippetResult:
    """Run a Python snippet in a fresh worker process and return what it produced.

    Documentation pages use it to show TensorFlow code that sets the thread pools: the
    pools can be set only once per process, so each snippet gets its own process.
    A snippet hands data back by assigning JSON data to a variable named ``result``.

    Parameters
    ----------
    code : str
        Python source, run as ``__main__`` (common indentation is removed first; no
        shell is involved).
    child, env, cpus, cgroup, timeout
        How the child runs, as for :func:`run_worker`.

    Returns
    -------
    SnippetResult
        What it printed, its filtered stderr, exit code and ``result``.

    Raises
    ------
    WorkerError
        When the snippet runs past ``timeout`` or the child fails outside the snippet.

    Examples
    --------
    >>> print(run_snippet("import os; print(os.getpid() > 0)").stdout, end="")
    True
    >>> run_snippet("result = {'answer': 6 * 7}").data
    {'answer': 42}
    """
    child = child_options(child, env=env, cpus=cpus, cgroup=cgroup, timeout=timeout)
    outcomes = run_workers("snippet", [{"code": textwrap.dedent(code)}], child=child)
    outcome = outcomes[0]
    if isinstance(outcome, WorkerResult):
        result = outcome.result
        return SnippetResult(
            stdout=result["stdout"],
            stderr=outcome.stderr,
            returncode=int(result["exit"]),
            data=result.get("data"),
        )
    if outcome.reason in {"signal", "exit"} and outcome.returncode is not None:
        return SnippetResult(stdout="", stderr=outcome.stderr, returncode=outcome.returncode)
    raise outcome
