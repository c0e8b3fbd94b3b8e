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
  ``scenario``, ``round``, ``position``, ``label``, ``started_s`` and ``call_s``;
* the other records as ``{"event": <old type>, ...}``.

Nothing is dropped: the conversion is checked by reading the new file back with
``bench_many_core.load`` (which reads the new format into the old records) and comparing
it with the old file, record for record; a difference stops the conversion.

    python benchmarks/convert_many_core.py OLD.jsonl NEW.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_many_core import ROW_FIELDS, load

from tfthreads.results_file import FORMAT, FORMAT_VERSION


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
        out.append({**measurement, **{key: record[key] for key in ROW_FIELDS}})
    return out


def main(argv: list[str]) -> int:
    """Convert ``argv[0]`` into ``argv[1]`` and check that nothing was lost."""
    old, new = Path(argv[0]), Path(argv[1])
    records = [json.loads(line) for line in old.read_text().splitlines() if line.strip()]
    new.write_text("".join(json.dumps(record) + "\n" for record in convert(records)))
    header, rows, other = load(new)
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
