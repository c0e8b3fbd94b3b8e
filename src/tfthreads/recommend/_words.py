"""The words of :mod:`tfthreads.recommend`'s reasons: numbers, plurals and evidence labels."""

from __future__ import annotations

# The pages of the site that show the measurements the rules rest on, by label; documented
# where tfthreads.recommend re-exports it as EVIDENCE (autodoc reads a ``#:`` comment only
# in the module it documents).
EVIDENCE = {
    "results-many-core": "the 16-CPU results: interleaved rounds of fresh processes",
    "gallery-containers": "the containers example: a 1-CPU quota against a 1-CPU mask",
    "gallery-workers": "the workers example: several worker processes on one CPU budget",
    "engine-benchmark": "the engine benchmark: 2 CPUs, paired rounds of processes taking turns",
    "explanation-inter-op-deadlock": (
        "the inter-op deadlock page: hangs with one inter-op thread, reproduced on every build"
    ),
}
# The labels one by one, as the reasons cite them.
MANY_CORE, CONTAINERS, WORKERS, ENGINE, DEADLOCK = EVIDENCE
ENGINE_WORDS = "the engine benchmark on 2 CPUs, 2026-12-03"


def num(value: float) -> str:
    """Format a CPU count: ``2``, ``1.5``, ``0.33``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def many(value: float, noun: str, plural: str = "s") -> str:
    """Count a noun: ``1 CPU``, ``1.5 CPUs``."""
    return f"{num(value)} {noun}" + ("" if value == 1 else plural)


def procs(count: int) -> str:
    """Count processes: ``1 process``, ``4 processes``."""
    return many(count, "process", "es")


def cpus(value: float) -> str:
    """Count CPUs: ``1 CPU``, ``0.5 CPUs``."""
    return many(value, "CPU")


def seen(words: str, *labels: str) -> str:
    """Name the evidence of a reason: in words, then the site's labels."""
    pages = f"; on the site: {', '.join(labels)}" if labels else ""
    return f" [evidence: {words}{pages}]."


def unique(*labels: str) -> tuple[str, ...]:
    """Return the labels in order, each once."""
    return tuple(dict.fromkeys(labels))
