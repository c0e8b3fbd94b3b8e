"""The ``tfthreads`` command line: ``doctor``, ``recommend``, ``sweep``, ``tune`` and ``report``.

Exit codes: 0 success, 1 TensorFlow cannot be imported or a measurement failed, 2 a
usage error (bad option, unknown workload, unwritable output, a file that is no results
file). A user's mistake (:class:`~tfthreads.errors.SettingError` or an argument argparse
refuses) prints one line on stderr and never a traceback. Any other exception is a bug in tfthreads: it is not
caught, so Python prints its traceback and exits with 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from tfthreads._version import __version__
from tfthreads.cli import measure_commands
from tfthreads.cli._arguments import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    argument,
    thread_count,
)
from tfthreads.errors import SettingError, TensorFlowUnavailableError, TFThreadsError
from tfthreads.options import TIMEOUT
from tfthreads.process import remove_stale_folders
from tfthreads.settings import ThreadSettings

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = Parser(
        prog="tfthreads",
        description="TensorFlow CPU parallelism, documented and measured.",
    )
    parser.add_argument("--version", action="version", version=f"tfthreads {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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
        type=thread_count(0, "0 lets TensorFlow pick"),
        default=0,
        metavar="N",
        help="intra-op threads you intend to set (default 0: TensorFlow picks)",
    )
    doctor.add_argument(
        "--inter-op",
        type=thread_count(-1, "0 lets TensorFlow pick, -1 runs in the caller's thread"),
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
        "--timeout",
        type=argument(TIMEOUT, "seconds"),
        default=120.0,
        metavar="S",
        help="probe time limit (s)",
    )
    measure_commands.add_commands(commands)
    for command in [parser, *commands.choices.values()]:
        _document_defaults_and_exits(command)
    return parser


#: The exit codes every command uses, shown at the end of each --help.
EXIT_CODES = (
    f"exit codes: {EXIT_OK} done; {EXIT_FAILURE} a measurement failed, or TensorFlow is "
    f"missing, or the output could not be written; {EXIT_USAGE} a usage error (one line "
    "says what is wrong, nothing was measured); 130 interrupted (Ctrl-C); 143 terminated "
    "(SIGTERM)"
)


def _document_defaults_and_exits(command: argparse.ArgumentParser) -> None:
    """Show each option's default in ``--help`` (where its help does not say it) and the exit codes."""
    for action in command._actions:
        if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
            continue
        text = action.help or ""
        if "%(default)" not in text and "default" not in text:
            shown = (
                ",".join(map(str, action.default))
                if isinstance(action.default, list)
                else "%(default)s"
            )
            action.help = f"{text} (default: {shown})" if text else f"default: {shown}"
    codes = textwrap.fill(EXIT_CODES, width=88)
    command.epilog = f"{command.epilog}\n\n{codes}" if command.epilog else codes


def _doctor(args: argparse.Namespace) -> int:
    from tfthreads.doctor import doctor_report, format_report

    settings = ThreadSettings(intra_op=args.intra_op, inter_op=args.inter_op)

    def progress(line: str) -> None:
        print(f"tfthreads doctor: {line}...", file=sys.stderr, flush=True)

    report = doctor_report(
        settings, probe=not args.no_probe, timeout=args.timeout, on_probe=progress
    )
    print(json.dumps(report, indent=2, sort_keys=True) if args.json else format_report(report))
    # The report is complete except for what the probe would have observed.
    return EXIT_FAILURE if report["probe"]["status"] == "failed" else EXIT_OK


class _Terminated(BaseException):
    """SIGTERM arrived: raised where the program is, so that cleanup runs."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


#: Options whose value may start with "-" (a shape such as -1,64): argparse would read it
#: as an option and say "expected one argument" instead of what is wrong with the value.
_DASHED_VALUES = ("--input-shape",)


def _joined_values(argv: list[str]) -> list[str]:
    """Write ``--input-shape -1,64`` as ``--input-shape=-1,64`` so the value gets checked."""
    out: list[str] = []
    values = iter(argv)
    for token in values:
        if token in _DASHED_VALUES:
            value = next(values, None)
            if value is not None and value.startswith("-") and not value.startswith("--"):
                out.append(f"{token}={value}")
                continue
            out.append(token)
            if value is not None:
                out.append(value)
            continue
        out.append(token)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.
    """
    # A file name that is not UTF-8 reaches Python as surrogate escapes: print it as
    # backslash escapes rather than fail on it.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(_joined_values(sys.argv[1:] if argv is None else list(argv)))
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # Like `python -m`, look for user workloads ('package.module:function') in the
    # current folder too.
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.append(cwd)
    # SIGTERM (`kill`, `timeout`, a container stopping) unwinds like Ctrl-C: the
    # children are killed and the temporary folders removed before the exit.
    previous = signal.signal(signal.SIGTERM, _terminate)
    # Temporary folders of earlier runs that were killed (SIGKILL runs no cleanup).
    remove_stale_folders()
    try:
        return _doctor(args) if args.command == "doctor" else measure_commands.run(args)
    except _Terminated:
        print(f"tfthreads {args.command}: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except TensorFlowUnavailableError as error:
        print(f"tfthreads {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except SettingError as error:  # the user's mistake; anything else is a bug and raises
        print(f"tfthreads {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except TFThreadsError as error:
        print(f"tfthreads {args.command}: failed: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"tfthreads {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tfthreads sweep ... | head`); that is not an error to report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as error:
        # A full disk under --output or a full stdout: say so in one line. Rows already
        # measured are in the results file up to the row that could not be written.
        where = f" {error.filename}" if error.filename else " to standard output"
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(
            f"tfthreads {args.command}: failed: cannot write{where}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    finally:
        signal.signal(signal.SIGTERM, previous)
