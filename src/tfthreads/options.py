"""How to measure: one set of options, checked once, taken by every measuring function.

:func:`~tfthreads.measure.measure`, :func:`~tfthreads.measure.measure_many`,
:func:`~tfthreads.sweep.sweep`, :func:`~tfthreads.tune.tune` and the command line all
take a :class:`MeasureOptions`, so a limit or a default is stated once.

Examples
--------
>>> MeasureOptions(repeats=5).warmup
3
>>> MeasureOptions(processes=0)
Traceback (most recent call last):
...
tfthreads.errors.SettingError: processes: got 0; expected a whole number from 1 to 256
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfthreads._checks import Choice, WholeNumber
from tfthreads.process.child_options import CPU_ID, TIMEOUT, ChildOptions

__all__ = [
    "CPU_ID",
    "GOAL",
    "GOALS",
    "MAX_PROCESSES",
    "PROCESSES",
    "REPEATS",
    "TIMEOUT",
    "WARMUP",
    "MeasureOptions",
]

#: Most processes measured together (or planned for by ``recommend``); more is a typo.
MAX_PROCESSES = 256
#: The limits of each option, shared with the command line's argument types.
REPEATS = WholeNumber(1, 100_000)
WARMUP = WholeNumber(0, 100_000)
PROCESSES = WholeNumber(1, MAX_PROCESSES)
#: The goals a comparison can have, the lowest median time per step or the most items
#: per second. Every ratio is "times better", above 1 better, for both.
GOALS = ("latency", "throughput")
GOAL = Choice(GOALS)


@dataclass(frozen=True)
class MeasureOptions:
    """How to run a measurement: iterations, processes, environment, CPUs and limits.

    Every field is checked when the options are made, by the same rule as every other
    tfthreads argument: the wrong type raises ``TypeError``, a value out of range raises
    :class:`~tfthreads.errors.SettingError`. Use :meth:`replace` to change a field, and
    :attr:`child` for how each child runs, the value the process package takes.

    Parameters
    ----------
    repeats : int
        Timed iterations per process (1 to 100000).
    warmup : int
        Untimed iterations first: tracing, allocation, caches (0 to 100000).
    processes : int
        Children started at once, sharing the CPUs (1 to 256); their timed loops overlap.
    env : mapping, optional
        Environment changes for the children (``None`` values remove a variable).
    cpus : sequence of int, optional
        CPUs the children may run on.
    cgroup : path-like, optional
        A cgroup the children join before importing TensorFlow, for example one with a
        CPU quota from :func:`tfthreads.quota.cpu_quota`.
    timeout : float
        Seconds before the children of one setting are killed (at most a day).

    Examples
    --------
    >>> options = MeasureOptions(repeats=5, cpus=[0])
    >>> options.cpus, options.replace(warmup=0).warmup
    ((0,), 0)
    >>> options.child.cpus, options.child.timeout
    ((0,), 300.0)
    >>> MeasureOptions(repeats=1.5)
    Traceback (most recent call last):
    ...
    TypeError: repeats: got 1.5 (float); expected a whole number from 1 to 100000
    """

    repeats: int = 20
    warmup: int = 3
    processes: int = 1
    env: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    cpus: Sequence[int] | None = None
    cgroup: str | os.PathLike[str] | None = None
    timeout: float = 300.0

    def __post_init__(self) -> None:
        REPEATS.check("repeats", self.repeats)
        WARMUP.check("warmup", self.warmup)
        PROCESSES.check("processes", self.processes)
        # How the children run is checked by the one value that holds it.
        child = ChildOptions(self.env, self.cpus, self.cgroup, self.timeout)
        object.__setattr__(self, "timeout", child.timeout)
        object.__setattr__(self, "env", child.env)
        object.__setattr__(self, "cpus", child.cpus)

    @property
    def child(self) -> ChildOptions:
        """The environment, CPUs, cgroup and time limit of each child, in one value."""
        return ChildOptions(self.env, self.cpus, self.cgroup, self.timeout)

    def replace(self, **changes: Any) -> MeasureOptions:
        """Return a copy with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)
