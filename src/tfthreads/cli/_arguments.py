"""Argument types and the one-line-error parser shared by the CLI commands.

Each argument type reads text with the same check the Python API uses
(:mod:`tfthreads._checks`), so the command line and the library accept the same values
and say the same thing about the others.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn, Protocol, TypeVar

from tfthreads._checks import WholeNumber
from tfthreads.errors import SettingError
from tfthreads.settings import MAX_THREADS

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_T_co = TypeVar("_T_co", covariant=True)


class _Check(Protocol[_T_co]):
    def parse(self, name: str, text: str) -> _T_co: ...


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def argument(check: _Check[_T_co], name: str) -> Callable[[str], _T_co]:
    """Turn a check into an argparse type; argparse names the option in its message."""

    def parse(text: str) -> _T_co:
        try:
            return check.parse("", text)
        except SettingError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = name
    return parse


def thread_count(low: int, meaning: str) -> Callable[[str], int]:
    """Parse a thread count from ``low`` to :data:`MAX_THREADS`; ``meaning`` explains it."""
    return argument(WholeNumber(low, MAX_THREADS, meaning), "thread count")


def thread_list(low: int) -> Callable[[str], list[int]]:
    """Parse ``"1,2,4"`` into thread counts from ``low`` to the maximum."""
    one = thread_count(low, "each, separated by commas")

    def parse(text: str) -> list[int]:
        parts = [part.strip() for part in text.split(",")]
        if not all(parts):
            raise argparse.ArgumentTypeError(
                f"got {text!r}; expected thread counts separated by commas, such as 1,2,4"
            )
        # A repeated value is measured once, so it is listed once.
        return list(dict.fromkeys(one(part) for part in parts))

    parse.__name__ = "thread list"
    return parse
