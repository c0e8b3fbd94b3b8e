"""Argument types and the one-line-error parser shared by the CLI commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from tfthreads.settings import MAX_THREADS

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def thread_count(low: int, meaning: str) -> Callable[[str], int]:
    """Parse a thread count from ``low`` to :data:`MAX_THREADS`; ``meaning`` explains it."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"got {text!r}; expected a whole number from {low} to {MAX_THREADS} ({meaning})"
            ) from None
        if not low <= value <= MAX_THREADS:
            raise argparse.ArgumentTypeError(
                f"got {text!r}; expected a whole number from {low} to {MAX_THREADS} ({meaning})"
            )
        return value

    parse.__name__ = "thread count"
    return parse


def seconds(text: str) -> float:
    """Parse a time limit in seconds, above 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:  # also rejects nan
        raise argparse.ArgumentTypeError(f"got {text!r}; expected seconds between 0 and 3600")
    return value


def whole_number(name: str, low: int, high: int) -> Callable[[str], int]:
    """Parse a whole number in ``[low, high]``; the error names what is allowed."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"got {text!r}; expected a whole number from {low} to {high}"
            )
        return value

    parse.__name__ = name
    return parse


def thread_list(low: int) -> Callable[[str], list[int]]:
    """Parse ``"1,2,4"`` into thread counts from ``low`` to the maximum."""
    one = thread_count(low, "each, separated by commas")

    def parse(text: str) -> list[int]:
        parts = [part.strip() for part in text.split(",")]
        if not all(parts):
            raise argparse.ArgumentTypeError(
                f"got {text!r}; expected thread counts separated by commas, such as 1,2,4"
            )
        return [one(part) for part in parts]

    parse.__name__ = "thread list"
    return parse
