"""Results files: JSON lines behind a header, safe to resume, append to and share.

A results file starts with one header line that says what the file is (format and
version) and which tfthreads wrote it; each later line is one row, a JSON object.
:class:`ResultsFile` is the only code that reads or writes one:

* it refuses any path that is not a regular file or a new path (devices, FIFOs,
  folders, trailing slashes), and any existing file that is not a results file, so a
  typo can neither hang a run, fill a disk nor overwrite a model or notes;
* it reads lines with a size limit, and repairs a last line cut short by a crash
  before it appends, so a crash costs at most the row that was being written;
* each row goes out in one ``write`` of a whole line, flushed and synced;
* it holds an exclusive lock while open: a second run writing the same file is
  refused with one line instead of interleaving rows.

:func:`read_results` reads a finished file without changing it (a file committed to the
documentation, one copied from another machine) and refuses, in one line, anything a
results file cannot hold, where :class:`ResultsFile` would repair a torn last line.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import pathlib
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tfthreads._version import __version__
from tfthreads.errors import SettingError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_LINE_BYTES",
    "ResultsFile",
    "check_results_path",
    "fingerprint",
    "read_results",
]

#: What the header's ``format`` field says.
FORMAT = "tfthreads-results"
#: Version of the row layout; a file of another version is refused, not misread.
FORMAT_VERSION = 1
#: The longest line read back (a row holds a few thousand timings at most).
MAX_LINE_BYTES = 4 * 1024 * 1024


def check_results_path(path: str | os.PathLike[str], *, name: str = "results") -> Path:
    """Return ``path`` if it can hold a results file, else raise one clear line.

    Allowed: an existing regular file, or a new path whose folder exists or can be made.

    Parameters
    ----------
    path : path-like
        Where the results go.
    name : str
        What the message calls the path, such as ``"--output"`` on the CLI.

    Returns
    -------
    pathlib.Path
        The path, checked.

    Raises
    ------
    SettingError
        For a folder, a device, a FIFO, a socket or a path ending in a slash.

    Examples
    --------
    >>> check_results_path("/dev/null", name="--output")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: --output: '/dev/null' is a character device; expected a regular file or a new path
    """
    text = os.fspath(path)
    target = Path(text)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        if not text or text.endswith(("/", os.sep)):
            raise SettingError(f"{name}: {text!r} names a folder; expected a file path") from None
        return target
    except OSError as error:
        raise SettingError(f"{name}: cannot use {text!r}: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise SettingError(
            f"{name}: {text!r} is {_file_type(mode)}; expected a regular file or a new path"
        )
    if text.endswith(("/", os.sep)):
        raise SettingError(f"{name}: {text!r} ends in a slash; expected a file path")
    return target


def _file_type(mode: int) -> str:
    for test, words in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "not a regular file"


def fingerprint(data: Mapping[str, Any]) -> str:
    """Hash JSON data in a canonical form (sorted keys): the key of a measurement.

    Examples
    --------
    >>> fingerprint({"b": 1, "a": [2]}) == fingerprint({"a": [2], "b": 1})
    True
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class ResultsFile:
    """An open results file: its rows, locked for this run until :meth:`close`.

    Use :meth:`open`; rows already in the file are in :attr:`rows`.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    rows : list of dict
        The rows read when it was opened, then those appended.
    repaired : bool
        Whether a last line cut short by a crash was removed when it was opened.
    """

    def __init__(
        self,
        path: pathlib.Path,
        handle: IO[bytes],
        rows: list[dict[str, Any]],
        repaired: bool,
        restart: dict[str, Any] | None = None,
    ):
        self.path = path
        self._handle = handle
        self.rows = rows
        self.repaired = repaired
        # The run of a file opened afresh whose old rows the first append replaces.
        self._restart = restart

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        resume: bool = True,
        name: str = "results",
        run: Mapping[str, Any] | None = None,
    ) -> ResultsFile:
        """Open (or create) a results file for appending, and read what it holds.

        Parameters
        ----------
        path : path-like
            The file; see :func:`check_results_path` for what is allowed.
        resume : bool
            Keep the rows already there; ``False`` starts the file afresh: the first
            row appended replaces what it held, so a run that appends none leaves it as
            it was (only a results file is ever emptied).
        name : str
            What error messages call the path.
        run : mapping, optional
            Parameters of the run, stored in the header of a new file.

        Raises
        ------
        SettingError
            The path is not allowed, the file is not a results file (or of another
            version), cannot be written, or another run holds it.
        """
        target = check_results_path(path, name=name)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # O_NONBLOCK: a FIFO swapped in after the check must not hang the open.
            descriptor = os.open(target, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as error:
            raise SettingError(f"{name}: cannot write {str(path)!r}: {error.strerror}") from None
        handle = os.fdopen(descriptor, "r+b")
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise SettingError(f"{name}: {str(path)!r} is not a regular file")
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SettingError(
                    f"{name}: {str(path)!r} is being written by another tfthreads run; "
                    "wait for it or choose another file"
                ) from None
            header, rows, repaired = _read(handle, name=name, path=str(path), strict=resume)
            if rows and resume and run is not None:
                _check_same_run(header, run, name=name, path=str(path))
            # A file with a header and nothing else, no run described, takes this run's.
            undescribed = rows == [] and not (header or {}).get("run")
            restart = None
            if rows is None or (not resume and not rows) or (run and undescribed):
                _start(handle, run)
                rows, repaired = [], False
            elif not resume:
                # Emptied when the first row comes, not now: a run stopped before it
                # measured anything (a usage error found later, Ctrl-C) loses nothing.
                restart, rows, repaired = dict(run or {}), [], False
        except BaseException:
            handle.close()
            raise
        return cls(target, handle, rows, repaired, restart)

    def append(self, row: Mapping[str, Any]) -> None:
        """Write one row as one line, flushed and synced, and keep it in :attr:`rows`."""
        line = (json.dumps(row, default=str) + "\n").encode()
        if self._restart is not None:
            _start(self._handle, self._restart)
            self._restart = None
        self._handle.flush()
        descriptor = self._handle.fileno()
        end = os.lseek(descriptor, 0, os.SEEK_END)
        try:
            # Straight to the file, not through the buffered handle: bytes a full disk
            # refused would stay in its buffer and fail again, unnamed, on close.
            unwritten = memoryview(line)
            while unwritten:
                unwritten = unwritten[os.write(descriptor, unwritten) :]
            os.fsync(descriptor)
        except OSError as error:
            # A full disk: cut off the part of the line that got through, so the file
            # stays a valid results file holding every earlier row, and name the file.
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, end)
            raise OSError(error.errno, error.strerror, str(self.path)) from error
        self.rows.append(dict(row))

    def close(self) -> None:
        """Release the lock and close the file."""
        self._handle.close()

    def __enter__(self) -> ResultsFile:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


#: What tells one run from another: a file holds rows of one command, goal and workload.
_RUN_IDENTITY = ("command", "goal", "workload")


def _describe_run(run: Mapping[str, Any]) -> str:
    command = str(run.get("command") or "sweep")
    workload = run.get("workload")
    named = (
        workload.get("target") or workload.get("name") if isinstance(workload, Mapping) else None
    )
    what = f" of {named!r}" if named else ""
    goal = f" (goal {run['goal']})" if run.get("goal") else ""
    return f"a {command}{what}{goal}"


def _check_same_run(
    header: Mapping[str, Any] | None, run: Mapping[str, Any], *, name: str, path: str
) -> None:
    """Refuse to add a run's rows to a file holding another run's rows.

    A sweep resumes a sweep; a tune resumes a tune of the same workload and goal.
    """
    held = (header or {}).get("run") or {}
    if not isinstance(held, Mapping) or not held:
        return  # written before runs were described: nothing to tell them apart by
    differs = any(
        (held.get(key) or ("sweep" if key == "command" else None))
        != (run.get(key) or ("sweep" if key == "command" else None))
        for key in _RUN_IDENTITY
    )
    created = (header or {}).get("created", "an earlier run")
    if differs:
        raise SettingError(
            f"{name}: {path!r} already holds {_describe_run(held)}, started {created}; "
            f"this run is {_describe_run(run)}: choose another file, or --no-resume to "
            "start it afresh"
        )


def _version(header: Mapping[str, Any]) -> str:
    """Write the header's version for a message: a string ``'1'`` is not the number 1."""
    version = header.get("version")
    if isinstance(version, str):
        return f"{version!r} (a string, where tfthreads writes a number)"
    return repr(version)


def _start(handle: IO[bytes], run: Mapping[str, Any] | None) -> None:
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tfthreads": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run": dict(run or {}),
    }
    handle.seek(0)
    handle.truncate()
    handle.write((json.dumps(header, default=str) + "\n").encode())
    handle.flush()
    os.fsync(handle.fileno())


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, line) with a size limit per line."""
    handle.seek(0)
    while True:
        offset = handle.tell()
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        yield offset, line


def _read(
    handle: IO[bytes], *, name: str, path: str, strict: bool = True
) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None, bool]:
    """Read the header and the rows; ``None`` for both in an empty file. Repair a torn last line.

    With ``strict``, a whole line that is not a JSON object (an edit by hand) is refused:
    appending after it would make a file that :func:`read_results` refuses.
    """
    lines = _lines(handle)
    first = next(lines, None)
    if first is None:
        return None, None, False
    header = _parse(first[1])
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SettingError(
            f"{name}: {path!r} is not a tfthreads results file (its first line is no "
            "results header); choose a new file name, nothing was changed"
        )
    if header.get("version") != FORMAT_VERSION:
        raise SettingError(
            f"{name}: {path!r} has results format version {_version(header)}; "
            f"this tfthreads reads version {FORMAT_VERSION}: choose a new file"
        )
    rows: list[dict[str, Any]] = []
    for number, (offset, line) in enumerate(lines, start=2):
        if len(line) > MAX_LINE_BYTES:
            raise SettingError(
                f"{name}: line {number} of {path!r} is longer than {MAX_LINE_BYTES} bytes; "
                "this is not a results file tfthreads wrote: choose a new file"
            )
        if not line.endswith(b"\n"):
            # The last line, cut short by a crash mid-write: drop it, so the next row
            # starts on a line of its own, and measure that setting again.
            handle.seek(offset)
            handle.truncate()
            return header, rows, True
        row = _parse(line)
        if isinstance(row, dict):
            rows.append(row)
        elif strict:
            raise SettingError(
                f"{name}: line {number} of {path!r} is not a JSON object, and tfthreads "
                "never writes such a line: remove it, or --no-resume to start the file "
                "afresh; nothing was changed"
            )
    return header, rows, False


def _parse(line: bytes) -> Any:
    with contextlib.suppress(ValueError):
        return json.loads(line)
    return None


def read_results(
    path: str | os.PathLike[str], *, name: str = "results"
) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """Read a results file without changing it: its header and its rows.

    Unlike :meth:`ResultsFile.open`, nothing is repaired: a line that is not a JSON
    object, a torn last line included, is an error.

    Parameters
    ----------
    path : path-like
        An existing results file.
    name : str
        What error messages start with, before ``path``; ``""`` for nothing.

    Returns
    -------
    header : dict
        The first line: ``format``, ``version``, ``tfthreads``, ``created`` and ``run``.
    rows : list of tuple
        Each later line as ``(line number, row)``; the header is line 1.

    Raises
    ------
    SettingError
        One line naming the file and what is wrong with it: it cannot be read, is
        empty, has no results header, is of another format version, or holds a line
        that is not a JSON object.

    Examples
    --------
    >>> read_results("/dev/null")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: results: '/dev/null' is a character device; expected a results file
    """
    where = f"{name}: {os.fspath(path)!r}" if name else repr(os.fspath(path))
    try:
        mode = Path(path).stat().st_mode  # before opening: a FIFO would block the open
        if not stat.S_ISREG(mode):
            raise SettingError(f"{where} is {_file_type(mode)}; expected a results file")
        with Path(path).open("rb") as handle:
            # Line by line, never the whole file at once: a file of a few hundred MB
            # must be reported in bounded memory.
            header, rows = _read_finished(_lines(handle), where)
    except OSError as error:
        raise SettingError(f"{where} cannot be read: {error.strerror}") from None
    return header, rows


#: Row fields that repeat unchanged from row to row; equal values share one object.
_SHARED_FIELDS = ("provenance", "conditions", "spec", "configured", "observed_pools", "env")


def _read_finished(
    lines: Iterator[tuple[int, bytes]], where: str
) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    first = next((line for _, line in lines if line.strip()), None)
    if first is None:
        raise SettingError(f"{where} is empty; expected a tfthreads results file")
    header = _parse(first)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SettingError(
            f"{where} is not a tfthreads results file: line 1 is no "
            f'{{"format": "{FORMAT}", ...}} header'
        )
    if header.get("version") != FORMAT_VERSION:
        raise SettingError(
            f"{where} has results format version {_version(header)}; "
            f"this tfthreads reads version {FORMAT_VERSION}"
        )
    if not isinstance(header.get("run", {}), dict):
        raise SettingError(f"{where}: the header's 'run' is not a JSON object")
    shared: dict[str, Any] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, (_, line) in enumerate(lines, start=2):
        if len(line) > MAX_LINE_BYTES:
            raise SettingError(f"{where}: line {number} is longer than {MAX_LINE_BYTES} bytes")
        if not line.strip():
            continue
        row = _parse(line)
        if not isinstance(row, dict):
            cut = "" if line.endswith(b"\n") else " (cut short?)"
            raise SettingError(f"{where}: line {number} is not a JSON object{cut}")
        for field in _SHARED_FIELDS:
            if isinstance(row.get(field), dict):
                text = json.dumps(row[field], sort_keys=True)
                row[field] = shared.setdefault(text, row[field])
        rows.append((number, row))
    return header, rows
