"""What several test modules share: results built by hand, a look for leftover processes, a probe cache."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from tfthreads.results import Measurement, ProcessResult
from tfthreads.settings import ThreadSettings
from tfthreads.workloads import parse_workload


def measured(settings: ThreadSettings, median: float, spread: float = 0.05) -> Measurement:
    """Return a one-process ``matmul`` measurement whose step times centre on ``median``."""
    times = (median * (1 - spread), median, median * (1 + spread))
    return Measurement(
        workload=parse_workload("matmul"),
        settings=settings,
        env={},
        unit="matmul",
        items_per_step=1.0,
        flops_per_step=0.0,
        processes=(ProcessResult(times, times, 3, 2),),
        configured={"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        observed_pools={"intra_op": settings.intra_op, "inter_op": settings.inter_op},
        provenance={},
    )


def sequence_probe() -> dict[str, object]:
    """A probe without TensorFlow for tests of the checking machinery: one value per run.

    It returns ``{"cpus": 2, "value": values[n]}`` on its n-th run, reading ``values`` (JSON)
    from ``TFTHREADS_TEST_VALUES`` and counting runs in the file ``TFTHREADS_TEST_COUNTER``.
    """
    import json
    import os
    from pathlib import Path

    counter = Path(os.environ["TFTHREADS_TEST_COUNTER"])
    runs = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(runs + 1))
    values = json.loads(os.environ["TFTHREADS_TEST_VALUES"])
    return {"cpus": 2, "value": values[min(runs, len(values) - 1)]}


def survivors(marker: str) -> list[str]:
    """Live processes whose command line holds ``marker``, after SIGKILL has had 2 s to land."""
    end = time.monotonic() + 2
    while True:
        found = [
            f"{p.pid} {p.info['status']}"
            for p in psutil.process_iter(["cmdline", "status"])
            if marker in " ".join(p.info["cmdline"] or ())
            and p.info["status"] != psutil.STATUS_ZOMBIE
        ]
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.05)


def session_probe_cache(tmp_path: Path) -> Path:
    """The probe cache that the tests of one session (one xdist worker) share.

    What the probes see depends only on this machine and each probe's source, so the
    session observes them once instead of once per test that builds a site or checks the
    catalog; a result that contradicted a claim or left one undecided is never cached
    (:func:`tfthreads.catalog.observe.check`), so each of those tests still fails on it.
    ``tmp_path`` is a test's own folder; its parent is the session's base temporary folder
    (the one ``tests/test_reference.py``'s full build keeps its cache in, beside its output).
    """
    folder = tmp_path.parent / "probe-cache"
    folder.mkdir(exist_ok=True)
    return folder
