"""What backs a catalog claim: an :class:`Observed` probe result or a :class:`Cited` file.

Each :class:`~tfthreads.catalog.Setting` states facts in its prose fields
(:data:`FACT_FIELDS`); every non-empty one of them is backed by at least one fact of the
entry. An observed fact names a probe of :mod:`tfthreads.catalog.probes` and the values
the claim implies; :func:`contradiction` compares them with what the probe saw. A cited
fact names a TensorFlow file at a pinned release tag or commit, for what cannot be seen
on a CPU machine (GPU, TF Serving, NUMA, other operating systems, build flags), and says
why in ``why_not_observed``: a cited fact without that reason backs nothing
(:func:`tfthreads.catalog.observe.coverage` reports its field as unbacked), so every
claim a CPU machine can show is observed.

Examples
--------
>>> fact = Observed(("default",), "runtime", (("default_intra_op", "{cpus}"),),
...                 "the intra-op pool had {default_intra_op} threads")
>>> contradiction("X", "default", "one per CPU", fact, {"cpus": 2, "default_intra_op": 2})
>>> contradiction("X", "default", "one per CPU", fact, {"cpus": 2, "default_intra_op": 5})
"X: claim (default) 'one per CPU' ; observed default_intra_op=5, expected '2' (the intra-op pool had 5 threads)"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FACT_FIELDS",
    "UNDECIDED",
    "Cited",
    "Fact",
    "Observed",
    "contradiction",
    "expected_value",
    "undecided",
]

#: The prose fields of an entry that state facts, each of which must be backed.
FACT_FIELDS = ("default", "resolution", "read_when", "freezes", "notes")

#: How a probe's value starts when the machine did not decide it (a probe's measurements
#: disagreed, or fell between the answers' margins): the fact is shown as not decided, with
#: what was seen, and is neither confirmed nor contradicted.
UNDECIDED = "not decided on this machine"

_PINNED = re.compile(r"^(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def _check_fields(kind: str, fields: tuple[str, ...]) -> None:
    if not fields or set(fields) - set(FACT_FIELDS):
        raise ValueError(f"{kind}.fields: got {fields!r}; expected some of {FACT_FIELDS}")


@dataclass(frozen=True)
class Observed:
    """A claim that a probe checks on every documentation build.

    Parameters
    ----------
    fields : tuple of str
        The entry's fields (from :data:`FACT_FIELDS`) whose claim this backs.
    probe : str
        Name of a probe in :data:`tfthreads.catalog.probes.PROBES`.
    expect : tuple
        Pairs of probe data keys and the values the claim implies. A string is
        formatted with the probe's data first, so ``"{cpus}"`` means the CPU count the probe saw.
    shows : str
        MyST sentence saying what was observed, formatted with the probe's data.
    """

    fields: tuple[str, ...]
    probe: str
    expect: tuple[tuple[str, Any], ...]
    shows: str

    def __post_init__(self) -> None:
        _check_fields("Observed", self.fields)


@dataclass(frozen=True)
class Cited:
    """A claim backed by a TensorFlow source file read at a pinned version.

    Parameters
    ----------
    fields : tuple of str
        The entry's fields (from :data:`FACT_FIELDS`) whose claim this backs.
    path : str
        File path inside the repository.
    ref : str
        A release tag (``"v2.21.0"``) or a full 40-character commit hash; never a
        branch, whose content changes.
    repo : str
        GitHub ``owner/name``.
    why_not_observed : str
        Why no probe on a CPU machine can observe the claim (MyST, a phrase such as
        ``"needs a GPU"``). Empty means no reason was given: the fact then backs nothing.
    """

    fields: tuple[str, ...]
    path: str
    ref: str
    repo: str = "tensorflow/tensorflow"
    why_not_observed: str = ""

    def __post_init__(self) -> None:
        if not _PINNED.match(self.ref):
            raise ValueError(
                f"Cited.ref: got {self.ref!r} for {self.path}; expected a release tag "
                "such as 'v2.21.0' or a 40-character commit hash"
            )
        _check_fields("Cited", self.fields)

    @property
    def url(self) -> str:
        """The file on GitHub at the pinned version."""
        return f"https://github.com/{self.repo}/blob/{self.ref}/{self.path}"

    @property
    def short_ref(self) -> str:
        """The tag, or the first 12 characters of the commit."""
        return self.ref if self.ref.startswith("v") else self.ref[:12]


Fact = Observed | Cited


def expected_value(value: Any, data: Mapping[str, Any]) -> Any:
    """Resolve an expectation against probe data (``"{cpus}"`` becomes ``"2"``).

    Besides the probe's keys, ``{several_cpus}`` is ``True`` when the probe saw more than
    one CPU: an op can split over a pool, or two elements run at once, only then, so such
    a claim expects ``"{several_cpus}"`` and holds, conditioned, on a 1-CPU machine too.

    Examples
    --------
    >>> expected_value("{several_cpus}", {"cpus": 1}), expected_value("{cpus}", {"cpus": 2})
    ('False', '2')
    """
    if not isinstance(value, str):
        return value
    return value.format(**{**data, "several_cpus": int(data.get("cpus", 0)) > 1})


def undecided(fact: Observed, data: Mapping[str, Any]) -> list[str]:
    """List the values of ``fact``'s keys that this machine did not decide, with what was seen.

    Examples
    --------
    >>> fact = Observed(("default",), "p", (("split", True),), "split: {split}")
    >>> undecided(fact, {"split": "not decided on this machine: 0.08, 0.10"})
    ['split: not decided on this machine: 0.08, 0.10']
    >>> undecided(fact, {"split": True})
    []
    """
    return [
        f"{key}: {data[key]}"
        for key, _ in fact.expect
        if isinstance(data.get(key), str) and data[key].startswith(UNDECIDED)
    ]


def contradiction(
    entry: str, field: str, claim: str, fact: Observed, data: Mapping[str, Any]
) -> str | None:
    """Return the one-line message when ``data`` contradicts the claim, else ``None``.

    Values are compared as text, so ``2`` matches ``"{cpus}"`` on a 2-CPU machine. A value
    this machine did not decide (:data:`UNDECIDED`) contradicts nothing.
    """
    for key, value in fact.expect:
        if key not in data:
            return f"{entry}: claim ({field}) {claim!r} ; probe {fact.probe!r} reported no {key!r}"
        if isinstance(data[key], str) and data[key].startswith(UNDECIDED):
            continue
        wanted = expected_value(value, data)
        if str(data[key]) != str(wanted):
            shows = fact.shows.format(**data)
            return (
                f"{entry}: claim ({field}) {claim!r} ; observed {key}={data[key]!r}, "
                f"expected {wanted!r} ({shows})"
            )
    return None
