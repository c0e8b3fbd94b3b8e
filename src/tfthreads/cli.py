"""The ``tfthreads`` command line.

Exit codes: 0 success, 1 TensorFlow cannot be imported or a probe failed, 2 usage error.
A user's mistake prints one line on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from tfthreads._version import __version__
from tfthreads.errors import TensorFlowUnavailableError, TFThreadsError
from tfthreads.settings import MAX_THREADS, ThreadSettings

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _thread_count(low: int, meaning: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"got {text!r}; expected a whole number from {low} to {MAX_THREADS} ({meaning})"
            ) from None
        if not low <= value <= MAX_THREADS:
            raise argparse.ArgumentTypeError(
                f"got {value}; expected a whole number from {low} to {MAX_THREADS} ({meaning})"
            )
        return value

    parse.__name__ = "thread count"
    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:  # also rejects nan
        raise argparse.ArgumentTypeError(f"got {text!r}; expected seconds between 0 and 3600")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="tfthreads",
        description="TensorFlow CPU parallelism, documented and measured.",
    )
    parser.add_argument("--version", action="version", version=f"tfthreads {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    doctor = commands.add_parser(
        "doctor",
        help="report TensorFlow's thread pools, CPU budget and warnings for this machine",
        description=(
            "Report what TensorFlow will do with threads on this machine: configured, "
            "resolved and observed pool sizes, the CPU budget (affinity and cgroup quota), "
            "relevant environment variables, and warnings."
        ),
    )
    doctor.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    doctor.add_argument(
        "--intra-op",
        type=_thread_count(0, "0 lets TensorFlow pick"),
        default=0,
        metavar="N",
        help="intra-op threads you intend to set (default 0: TensorFlow picks)",
    )
    doctor.add_argument(
        "--inter-op",
        type=_thread_count(-1, "0 lets TensorFlow pick, -1 runs in the caller's thread"),
        default=0,
        metavar="N",
        help="inter-op threads you intend to set (default 0: TensorFlow picks)",
    )
    doctor.add_argument(
        "--no-probe",
        action="store_true",
        help="do not start TensorFlow to observe the pools (faster, no observed column)",
    )
    doctor.add_argument(
        "--timeout", type=_seconds, default=120.0, metavar="S", help="probe time limit (s)"
    )
    return parser


def _doctor(args: argparse.Namespace) -> int:
    from tfthreads.doctor import doctor_report, format_report

    settings = ThreadSettings(intra_op=args.intra_op, inter_op=args.inter_op)
    report = doctor_report(settings, probe=not args.no_probe, timeout=args.timeout)
    print(json.dumps(report, indent=2, sort_keys=True) if args.json else format_report(report))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _doctor(args)
    except TensorFlowUnavailableError as error:
        print(f"tfthreads {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except (TFThreadsError, ValueError, TypeError) as error:
        print(f"tfthreads {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"tfthreads {args.command}: interrupted", file=sys.stderr)
        return 130
