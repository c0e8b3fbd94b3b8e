"""The one place that starts child processes: JSON in on stdin, JSON out on stdout.

TensorFlow fixes its thread pools once per process, so every measurement, probe, doc
example and test that depends on a setting runs in a child started for it.
The child is ``python -m tfthreads.process.worker``; it gets an explicit environment and,
optionally, a CPU affinity and a cgroup that it applies to itself before TensorFlow is
imported. Nothing is pickled and no shell is involved. Only this package (and the
catalog's probes, which run in such children) imports TensorFlow.

Three entry points share that one protocol (:mod:`tfthreads.process.messages`):

* :func:`run_worker` / :func:`run_workers` run a named task of the worker;
* :func:`run_function` calls a function from an importable module and returns what it
  returned (JSON data); :func:`run_functions` makes several such calls at once;
* :func:`run_snippet` runs a code snippet and returns what it printed, its exit code
  and, if the snippet assigned one, its ``result`` (JSON data).

Each takes how its children run as one value, a :class:`ChildOptions` (``child=``), or
as the keywords of its fields (``env``, ``cpus``, ``cgroup``, ``timeout``).

:func:`importing_once` (or ``share_import`` for one call) starts one worker that imports
TensorFlow once and forks a copy of itself per payload: each copy is a process of its own
whose runtime starts with its own settings, without an import of its own.

Inside such a child, :func:`run_forked` runs one case in a forked copy of it: a probe
that imported TensorFlow once (seconds) can then observe many fresh runtimes cheaply;
:func:`run_forked_together` runs several copies at the same time.
"""

from __future__ import annotations

from tfthreads.process.child_options import ChildOptions
from tfthreads.process.children import child_environment, remove_stale_folders, temporary_folder
from tfthreads.process.forking import run_forked, run_forked_together
from tfthreads.process.functions import run_function, run_functions
from tfthreads.process.messages import PROTOCOL_VERSION, SIBLING_FAILED
from tfthreads.process.outcomes import WorkerError, WorkerResult
from tfthreads.process.server import ImportServer, importing_once
from tfthreads.process.snippets import SnippetResult, run_snippet
from tfthreads.process.spawn import run_worker, run_workers

__all__ = [
    "PROTOCOL_VERSION",
    "SIBLING_FAILED",
    "ChildOptions",
    "ImportServer",
    "SnippetResult",
    "WorkerError",
    "WorkerResult",
    "child_environment",
    "importing_once",
    "remove_stale_folders",
    "run_forked",
    "run_forked_together",
    "run_function",
    "run_functions",
    "run_snippet",
    "run_worker",
    "run_workers",
    "temporary_folder",
]
