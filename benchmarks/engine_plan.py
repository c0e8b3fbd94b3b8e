"""How much the engine benchmark measures: the full run, or a quick check of the script."""

from __future__ import annotations

import dataclasses
from typing import Any

from tfthreads.options import MeasureOptions
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import BUILTIN_WORKLOADS

DEFAULTS = ThreadSettings()
LATENCY_WORKLOADS = {"matmul", "branches", "mlp_latency", "conv2d"}


def goal_of(name: str) -> str:
    """Return the goal a built-in workload is compared for."""
    return "latency" if name in LATENCY_WORKLOADS else "throughput"


def label(settings: ThreadSettings) -> str:
    """Name settings as the results do: ``"defaults"`` or ``"intra/inter"``."""
    return "defaults" if settings == DEFAULTS else f"{settings.intra_op}/{settings.inter_op}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """How much to measure in each part of the benchmark."""

    options: MeasureOptions
    intra_op: tuple[int, ...]
    inter_op: tuple[int, ...]
    #: Rounds of the self-comparison (b) and of the grid's screening (c): fixed, no early stop.
    self_rounds: int
    grid_rounds: int
    #: Rounds of each precise comparison against the grid's best (c): at least, at most.
    precise_min_rounds: int
    precise_max_rounds: int
    #: Rounds of the two-process (e) and quota (f) comparisons: at least, at most.
    min_rounds: int
    max_rounds: int
    #: Loop lengths of the self-comparison (b), each compared in ``self_rounds`` rounds.
    self_repeats: tuple[int, ...] = (60, 240)
    #: Workloads that tune runs on and that are compared precisely with the grid's best.
    tuned: tuple[str, ...] = tuple(BUILTIN_WORKLOADS)
    #: tune's budget; ``None`` for its default.
    tune_budget: int | None = None
    overhead_trials: int = 3

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as the results file's header holds it."""
        plain = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        options = {f.name: getattr(self.options, f.name) for f in dataclasses.fields(self.options)}
        # The options' env is a read-only mapping, which neither JSON nor asdict takes.
        return {**plain, "options": {**options, "env": dict(self.options.env)}}


FULL = Plan(MeasureOptions(repeats=60, warmup=3), (1, 2, 3, 4), (1, 2, 4), 30, 6, 6, 30, 6, 12)
# A few minutes on 2 CPUs (CI runs it): numbers that mean nothing.
QUICK = Plan(
    MeasureOptions(repeats=3, warmup=1),
    (1, 2),
    (1, 2),
    2,
    2,
    2,
    2,
    2,
    2,
    self_repeats=(3,),
    tuned=("matmul",),
    tune_budget=10,
    overhead_trials=1,
)
