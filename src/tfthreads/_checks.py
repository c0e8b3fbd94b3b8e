"""The one rule every tfthreads argument is checked by, and the checks built on it.

A value of the wrong type raises :class:`TypeError`; a value of the right type outside
what is allowed raises :class:`~tfthreads.errors.SettingError`. Both carry one line:
the field's name, the value given and what is allowed. ``bool`` is never a number.

Each check is a small frozen object, so the same limits serve Python callers
(:meth:`WholeNumber.check`) and text from the command line or the environment
(:meth:`WholeNumber.parse`), and the two cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from tfthreads.errors import SettingError

__all__ = ["MAX_SECONDS", "Choice", "Seconds", "WholeNumber", "of_type"]

_T = TypeVar("_T")

#: Longest time limit tfthreads accepts (a day); more is almost certainly a typo.
MAX_SECONDS = 86_400.0


def _message(name: str, shown: str, allowed: str) -> str:
    """Build the one-line message; without a name (argparse adds its own) it starts at 'got'."""
    prefix = f"{name}: " if name else ""
    return f"{prefix}got {shown}; expected {allowed}"


def _wrong_type(name: str, value: object, allowed: str) -> TypeError:
    return TypeError(_message(name, f"{value!r} ({type(value).__name__})", allowed))


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from ``low`` to ``high``; ``meaning`` explains special values.

    Examples
    --------
    >>> REPEATS = WholeNumber(1, 100)
    >>> REPEATS.check("repeats", 5)
    5
    >>> REPEATS.check("repeats", 0)
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: repeats: got 0; expected a whole number from 1 to 100
    >>> REPEATS.check("repeats", True)
    Traceback (most recent call last):
    ...
    TypeError: repeats: got True (bool); expected a whole number from 1 to 100
    >>> REPEATS.parse("", "2.5")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: got '2.5'; expected a whole number from 1 to 100
    """

    low: int
    high: int
    meaning: str = ""

    @property
    def allowed(self) -> str:
        """What is allowed, in words."""
        extra = f" ({self.meaning})" if self.meaning else ""
        return f"a whole number from {self.low} to {self.high}{extra}"

    def check(self, name: str, value: object) -> int:
        """Return ``value`` if allowed; raise ``TypeError`` or ``SettingError`` otherwise."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(name, value, self.allowed)
        if not self.low <= value <= self.high:
            raise SettingError(_message(name, repr(value), self.allowed))
        return value

    def parse(self, name: str, text: str) -> int:
        """Read the number from text (surrounding spaces allowed); ``SettingError`` if not allowed."""
        try:
            value = int(text.strip())
        except ValueError:
            raise SettingError(_message(name, repr(text), self.allowed)) from None
        if not self.low <= value <= self.high:
            raise SettingError(_message(name, repr(text), self.allowed))
        return value


@dataclass(frozen=True)
class Seconds:
    """A number above 0 and at most ``high``: a time limit in seconds, or another ``unit``.

    Examples
    --------
    >>> Seconds().check("timeout", 2)
    2.0
    >>> Seconds(3600).parse("--timeout", "nan")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: --timeout: got 'nan'; expected seconds above 0 and at most 3600
    """

    high: float = MAX_SECONDS
    unit: str = "seconds"

    @property
    def allowed(self) -> str:
        """What is allowed, in words."""
        return f"{self.unit} above 0 and at most {self.high:g}"

    def check(self, name: str, value: object) -> float:
        """Return ``value`` as a float if allowed; raise ``TypeError`` or ``SettingError``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(name, value, self.allowed)
        if math.isnan(value) or not 0 < value <= self.high:
            raise SettingError(_message(name, repr(value), self.allowed))
        return float(value)

    def parse(self, name: str, text: str) -> float:
        """Read the seconds from text; ``SettingError`` if it is not a number or not allowed."""
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isnan(value) or not 0 < value <= self.high:
            raise SettingError(_message(name, repr(text), self.allowed))
        return value


@dataclass(frozen=True)
class Choice:
    """One of a few strings.

    Examples
    --------
    >>> Choice(("latency", "throughput")).check("goal", "fast")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: goal: got 'fast'; expected 'latency' or 'throughput'
    """

    choices: Sequence[str]

    @property
    def allowed(self) -> str:
        """What is allowed, in words."""
        quoted = [repr(choice) for choice in self.choices]
        return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"

    def check(self, name: str, value: object) -> str:
        """Return ``value`` if it is one of the choices."""
        if not isinstance(value, str):
            raise _wrong_type(name, value, self.allowed)
        if value not in self.choices:
            raise SettingError(_message(name, repr(value), self.allowed))
        return value


def of_type(name: str, value: _T | None, kind: type[_T]) -> _T:
    """Return ``value``, or ``kind()`` for ``None``; ``TypeError`` for anything else."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise TypeError(
            f"{name}: got {value!r} ({type(value).__name__}); "
            f"expected a tfthreads {kind.__name__} or None"
        )
    return value
