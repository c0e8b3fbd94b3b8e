"""Convert a results file of the first ``bench_many_core.py`` into a tfthreads results file.

The first version of ``bench_many_core.py`` wrote its own JSON lines: a ``{"type":
"header", ...}`` record, then ``{"type": "row", ..., "measurement": {...}}`` records and
a few others (``end``, ``skipped``, ``error``). The benchmark now writes what
``tfthreads report`` and the documentation read (:mod:`tfthreads.results_file`):

* line 1, the results header ``{"format": "tfthreads-results", "version": 1,
  "tfthreads": ..., "created": ..., "run": {...}}``: ``run`` is the old header without
  its ``type``; ``tfthreads`` and ``created`` are the version and the date of its
  ``provenance`` record;
* one line per measurement: the measurement's own fields (what
  :func:`tfthreads.results.result_from_dict` reads, with its provenance) plus
  ``scenario``, ``round``, ``position``, ``label``, ``started_s`` and ``call_s``; the
  first version's measurements lack four fields that
  :meth:`tfthreads.results.Measurement.from_dict` needs, which are added, each computed
  from fields the line holds: ``status`` (``"ok"``: its failures were ``error``
  records), ``observed_pools`` (from ``observed_intra_op`` and ``observed_inter_op``),
  ``items_per_step`` (a process's throughput times its loop time over its steps) and
  ``flops_per_step`` (GFLOP/s times the median step time over the processes), both
  whole numbers; the measurement rebuilt from the new line must then give back the
  line's own median, throughput and GFLOP/s, or the conversion stops;
* the other records as ``{"event": <old type>, ...}``.

Nothing is dropped: the conversion is checked by reading the new file back with
``bench_many_core.load`` (which reads the new format into the old records), removing the
added fields and comparing it with the old file, record for record; a difference stops
the conversion.

    python benchmarks/convert_many_core.py OLD.jsonl NEW.jsonl
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_many_core import ROW_FIELDS, load

from tfthreads.results import Measurement
from tfthreads.results_file import FORMAT, FORMAT_VERSION

#: What the first version's measurements lack, derived by :func:`_derived`.
ADDED = ("status", "observed_pools", "items_per_step", "flops_per_step")


def _whole(value: float, what: str) -> int:
    if abs(value - round(value)) > 1e-6 * max(1.0, abs(value)):
        raise SystemExit(f"{what} computes to {value}, not a whole number")
    return round(value)


def _derived(m: dict[str, Any]) -> dict[str, Any]:
    """Compute the fields of :data:`ADDED` from the measurement's own, and check them."""
    items = {
        _whole(p["throughput"] * sum(p["wall_seconds"]) / len(p["wall_seconds"]), "items")
        for p in m["per_process"]
    }
    if len(items) != 1:
        raise SystemExit(f"the processes disagree on the items per step: {items}")
    flops = 0 if not m["gflops"] else m["gflops"] * 1e9 * m["wall"]["median"] / m["processes"]
    derived = {
        "status": "ok",
        "observed_pools": {"intra_op": m["observed_intra_op"], "inter_op": m["observed_inter_op"]},
        "items_per_step": float(items.pop()),
        "flops_per_step": float(_whole(flops, "flops per step")),
    }
    rebuilt = Measurement.from_dict({**m, **derived}).row()
    for key in ("median_ms", "throughput", "gflops", "cpu_ms", "p99_ms"):
        if not math.isclose(rebuilt[key] or 0.0, m[key] or 0.0, rel_tol=1e-9):
            raise SystemExit(f"{key}: the rebuilt measurement gives {rebuilt[key]}, not {m[key]}")
    return derived


def convert(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the records of a results file for the records of an old one."""
    first, *rest = records
    if first.get("type") != "header":
        raise SystemExit("the first record is not the old benchmark's header")
    run = {key: value for key, value in first.items() if key != "type"}
    out: list[dict[str, Any]] = [
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "tfthreads": run["provenance"]["tfthreads_version"],
            "created": run["provenance"]["date"],
            "run": run,
        }
    ]
    for record in rest:
        if record["type"] != "row":
            out.append(
                {"event": record["type"], **{k: v for k, v in record.items() if k != "type"}}
            )
            continue
        measurement = record["measurement"]
        for key in ("intra_op", "inter_op"):
            if record[key] != measurement[key]:
                raise SystemExit(f"a row's {key} differs from its measurement's: {record}")
        added = {k: v for k, v in _derived(measurement).items() if k not in measurement}
        out.append({**measurement, **added, **{key: record[key] for key in ROW_FIELDS}})
    return out


def main(argv: list[str]) -> int:
    """Convert ``argv[0]`` into ``argv[1]`` and check that nothing was lost."""
    old, new = Path(argv[0]), Path(argv[1])
    records = [json.loads(line) for line in old.read_text().splitlines() if line.strip()]
    new.write_text("".join(json.dumps(record) + "\n" for record in convert(records)))
    header, rows, other = load(new)
    for row, before in zip(rows, (r for r in records if r["type"] == "row"), strict=True):
        for key in ADDED:
            if key not in before["measurement"]:
                del row["measurement"][key]
    if [header, *rows, *other] != [
        *(r for r in records if r["type"] == "header"),
        *(r for r in records if r["type"] == "row"),
        *(r for r in records if r["type"] not in ("header", "row")),
    ]:
        new.unlink()
        raise SystemExit("the converted file does not read back as the old one; nothing written")
    print(f"{new}: {len(rows)} measurements, {len(other)} other records, read back unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
