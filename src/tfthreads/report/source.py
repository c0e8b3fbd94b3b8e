"""Read one results file for a report: the machine it ran on and its results, checked.

Each result line becomes an :class:`Entry` placed in its scenario; anything that is not a
results file as tfthreads writes it is refused in one line naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tfthreads._conditions import conditions_of
from tfthreads.errors import SettingError
from tfthreads.options import GOALS
from tfthreads.provenance import describe_machine
from tfthreads.results import Failure, Measurement
from tfthreads.results_file import read_results
from tfthreads.settings import ThreadSettings


@dataclass(frozen=True)
class Source:
    """One results file and the machine it was measured on.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    machine : str
        The CPU, its budget and the software (:func:`tfthreads.provenance.describe_machine`).
    date : str
        When the measurements started (ISO 8601).
    tensorflow : str
        The TensorFlow release that ran them.
    command : str
        What wrote the file: ``"sweep"``, ``"tune"`` or a benchmark's name.
    logical_cpus : int
        The machine's logical CPUs.
    label : str
        How the report names the file: its name, or the path as given when two files of
        one report share a name (empty: the name).
    """

    path: Path
    machine: str
    date: str
    tensorflow: str
    command: str
    logical_cpus: int
    label: str = ""

    @property
    def name(self) -> str:
        """Return the file's label in this report, its name unless another file shares it."""
        return self.label or self.path.name

    def describe(self) -> str:
        """One line: file, machine, date and TensorFlow release."""
        return f"{self.name}: {self.machine}; measured {self.date} by {self.command}"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {**asdict(self), "path": str(self.path)}


@dataclass
class Entry:
    """One result line, placed in its scenario."""

    line: int
    scenario: str
    label: str
    round: int | None
    goal: str | None
    result: Measurement | Failure
    conditions: dict[str, Any]


def problem(path: str | os.PathLike[str], text: str) -> SettingError:
    """Return the error that refuses ``path``, naming it."""
    return SettingError(f"{os.fspath(path)!r}: {text}")


def _check_run(path: str | os.PathLike[str], run: object) -> None:
    """Refuse a header whose run description is not shaped as tfthreads writes it."""
    if not isinstance(run, Mapping):
        raise problem(path, f"its header's run is {run!r}; expected an object")
    scenarios = run.get("scenarios")
    if scenarios is None:
        return
    if not isinstance(scenarios, list) or not all(isinstance(s, Mapping) for s in scenarios):
        raise problem(path, f"its header's scenarios are {scenarios!r}; expected a list of objects")
    for spec in scenarios:
        key = spec.get("key")
        goals, settings = spec.get("goals"), spec.get("settings")
        if goals is not None and not (
            isinstance(goals, Mapping) and all(isinstance(g, str) for g in goals.values())
        ):
            raise problem(
                path, f"scenario {key!r}: goals are {goals!r}; expected workload names to goals"
            )
        if settings is not None and not (
            isinstance(settings, list)
            and all(isinstance(s, list) and len(s) == 3 and s[0] for s in settings)
        ):
            raise problem(
                path,
                f"scenario {key!r}: settings are {settings!r}; expected [label, intra_op, "
                "inter_op] lists",
            )


def read_source(path: str | os.PathLike[str]) -> tuple[Source, dict[str, Any], list[Entry]]:
    """Read and check one results file: its source, its header's ``run`` and its results.

    Raises
    ------
    SettingError
        One line naming the file and what is wrong with it.
    """
    header, lines = read_results(path, name="")
    run: dict[str, Any] = header.get("run") or {}
    _check_run(path, run)
    entries: list[Entry] = []
    provenance: Mapping[str, Any] | None = run.get("provenance")
    for number, row in lines:
        if "event" in row or (row.get("stage") not in (None, "final")):
            continue  # a benchmark's notes; a tune's screening runs (not paired in rounds)
        result = _result(path, number, row)
        entries.append(_entry(path, number, row, result, run))
        if provenance is None and isinstance(result, Measurement):
            provenance = result.provenance
    if not entries:
        raise problem(path, "holds no measurements")
    if provenance is None:
        raise problem(path, "no measurement in it says which machine it ran on")
    try:
        machine = describe_machine(dict(provenance))
        source = Source(
            path=Path(path),
            machine=machine,
            date=str(provenance["date"]),
            tensorflow=str(provenance["tensorflow_version"]),
            command=str(run.get("command") or run.get("benchmark") or "sweep"),
            logical_cpus=int(provenance["topology"]["logical_cpus"]),
        )
    except KeyError as error:
        raise problem(path, f"its provenance lacks {error}") from None
    except (TypeError, ValueError):
        raise problem(
            path, "its provenance is not an object with date, tensorflow_version and topology"
        ) from None
    return source, run, entries


def _result(
    path: str | os.PathLike[str], number: int, row: dict[str, Any]
) -> Measurement | Failure:
    status = row.get("status")
    kind: type[Measurement | Failure]
    if status == "ok":
        kind = Measurement
    elif status == "failed":
        kind = Failure
    else:
        raise problem(
            path, f"line {number} is no result (its status is {status!r}, not 'ok' or 'failed')"
        )
    provenance = row.get("provenance")
    if provenance is not None and not isinstance(provenance, Mapping):
        raise problem(path, f"line {number}: its provenance is {provenance!r}; expected an object")
    try:
        result = kind.from_dict(row)
    except KeyError as error:
        raise problem(path, f"line {number} lacks the field {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise problem(path, f"line {number} is not a valid result: {error}") from None
    if isinstance(result, Measurement) and not all(p.wall_seconds for p in result.processes):
        raise problem(path, f"line {number} has a process without timings")
    if isinstance(result, Measurement) and not result.processes:
        raise problem(path, f"line {number} has no process timings")
    return result


def _entry(
    path: str | os.PathLike[str],
    number: int,
    row: dict[str, Any],
    result: Measurement | Failure,
    run: Mapping[str, Any],
) -> Entry:
    round_ = row.get("round")
    if round_ is not None and (not isinstance(round_, int) or round_ < 1):
        raise problem(path, f"line {number}: round {round_!r} is not a whole number from 1")
    goal = row.get("goal")
    if goal is not None and goal not in GOALS:
        raise problem(path, f"line {number}: goal {goal!r} is not 'latency' or 'throughput'")
    label = row.get("label")
    return Entry(
        line=number,
        scenario=str(row.get("scenario") or run.get("command") or "sweep"),
        label=str(label) if label is not None else _label(result.settings),
        round=round_,
        goal=goal,
        result=result,
        conditions=conditions_of(row),
    )


def _label(settings: ThreadSettings) -> str:
    return (
        "defaults" if settings == ThreadSettings() else f"{settings.intra_op}/{settings.inter_op}"
    )
