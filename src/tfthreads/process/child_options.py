"""How a child process runs: its environment changes, CPUs, cgroup and time limit, in one value.

Every entry point of :mod:`tfthreads.process` takes a :class:`ChildOptions` (``child=``)
or, as a convenience, its fields as keywords; :attr:`tfthreads.options.MeasureOptions.child`
makes one from the options of a measurement. Its fields are checked when it is made, by
the rule of every tfthreads argument (:mod:`tfthreads._checks`).

Examples
--------
>>> ChildOptions(cpus=[1, 0, 1]).cpus
(0, 1)
>>> ChildOptions(timeout=0)
Traceback (most recent call last):
...
tfthreads.errors.SettingError: timeout: got 0; expected seconds above 0 and at most 86400
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from tfthreads._checks import Seconds, WholeNumber, of_type
from tfthreads.errors import SettingError

__all__ = ["CHILD_TIMEOUT", "CPU_ID", "TIMEOUT", "ChildOptions", "child_options"]

#: A time limit in seconds, as every tfthreads time limit is checked.
TIMEOUT = Seconds()
#: A CPU number in an affinity list (Linux supports at most 8192 CPUs).
CPU_ID = WholeNumber(0, 8191)
#: Seconds before a child is killed, when the caller does not say.
CHILD_TIMEOUT = 120.0


@dataclass(frozen=True)
class ChildOptions:
    """How a child process runs: environment changes, CPUs, cgroup and time limit.

    Every field is checked when the value is made: the wrong type raises ``TypeError``,
    a value out of range raises :class:`~tfthreads.errors.SettingError`.

    Parameters
    ----------
    env : mapping, optional
        Environment changes for the child (``None`` values remove a variable).
    cpus : sequence of int, optional
        CPUs the child may run on; it sets its own affinity before importing TensorFlow.
        Kept sorted, each CPU once.
    cgroup : path-like, optional
        A cgroup the child joins first (see :func:`tfthreads.quota.cpu_quota`).
    timeout : float
        Seconds before the child is killed (at most a day).

    Examples
    --------
    >>> child = ChildOptions(env={"TF_NUM_INTRAOP_THREADS": "1"}, cgroup="/sys/fs/cgroup/x")
    >>> dict(child.env), child.placement()
    ({'TF_NUM_INTRAOP_THREADS': '1'}, {'cpus': None, 'cgroup': '/sys/fs/cgroup/x'})
    """

    env: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    cpus: Sequence[int] | None = None
    cgroup: str | os.PathLike[str] | None = None
    timeout: float = CHILD_TIMEOUT

    def __post_init__(self) -> None:
        object.__setattr__(self, "timeout", TIMEOUT.check("timeout", self.timeout))
        object.__setattr__(self, "env", types.MappingProxyType(_checked_env(self.env)))
        if self.cpus is not None:
            object.__setattr__(self, "cpus", _checked_cpus(self.cpus))
        cgroup: object = self.cgroup
        if cgroup is not None and not isinstance(cgroup, str | os.PathLike):
            raise TypeError(
                f"cgroup: got {cgroup!r} ({type(cgroup).__name__}); expected a path or None"
            )

    def placement(self) -> dict[str, list[int] | str | None]:
        """Return what the child applies to itself before importing TensorFlow, as JSON.

        These are the ``cpus`` (a list, or ``None``) and ``cgroup`` (a string, or
        ``None``) of a request to the worker (:mod:`tfthreads.process.messages`).
        """
        return {
            "cpus": None if self.cpus is None else list(self.cpus),
            "cgroup": None if self.cgroup is None else str(self.cgroup),
        }


def child_options(
    child: ChildOptions | None,
    *,
    env: Mapping[str, str | None] | None,
    cpus: Iterable[int] | None,
    cgroup: str | os.PathLike[str] | None,
    timeout: float | None,
) -> ChildOptions:
    """Return ``child``, or one made from the keywords an entry point takes instead.

    The keywords take any iterable of CPUs, as they always have; given with ``child``,
    which holds them, they raise ``TypeError``.
    """
    if child is None:
        # Anything but an iterable (or a string) goes to the check as it is, which refuses it.
        listed = cast("Sequence[int] | None", cpus)
        if isinstance(cpus, Iterable) and not isinstance(cpus, str | bytes):
            listed = tuple(cpus)  # a generator, say: read once, checked as a sequence
        return ChildOptions(
            env={} if env is None else env,
            cpus=listed,
            cgroup=cgroup,
            timeout=CHILD_TIMEOUT if timeout is None else timeout,
        )
    child = of_type("child", child, ChildOptions)
    keywords = {"env": env, "cpus": cpus, "cgroup": cgroup, "timeout": timeout}
    given = [name for name, value in keywords.items() if value is not None]
    if given:
        raise TypeError(
            f"{', '.join(given)}: given with child; expected either child or the keywords"
        )
    return child


def _checked_env(env: object) -> dict[str, str | None]:
    allowed = "a mapping of variable names to strings (None removes a variable)"
    if env is None:
        return {}
    if not isinstance(env, Mapping) or not all(
        isinstance(key, str) and (value is None or isinstance(value, str))
        for key, value in env.items()
    ):
        raise TypeError(f"env: got {env!r} ({type(env).__name__}); expected {allowed}")
    return dict(env)


def _checked_cpus(cpus: object) -> tuple[int, ...]:
    if isinstance(cpus, str | bytes) or not isinstance(cpus, Sequence | set | frozenset | range):
        raise TypeError(
            f"cpus: got {cpus!r} ({type(cpus).__name__}); expected a sequence of CPU numbers"
        )
    checked = tuple(sorted({CPU_ID.check("cpus", cpu) for cpu in cpus}))
    if not checked:
        raise SettingError("cpus: got none; expected at least one CPU number")
    return checked
