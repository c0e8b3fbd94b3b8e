"""The conditions a results row was measured under, and what tells two sets apart.

A results file may hold rows of one command run under different conditions: a sweep
resumed without the ``taskset`` or with another ``TF_ENABLE_ONEDNN_OPTS`` measures its
settings again, and appends them. :func:`tfthreads.report.load_report` compares only
rows measured under the same conditions, and names what differs.

Rows that tfthreads writes carry ``conditions`` (:func:`tfthreads.measurement_key.measurement_conditions`);
for older rows they are read from the row's provenance and environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["canonical", "conditions_of", "differences"]


def conditions_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the conditions ``row`` was measured under.

    Examples
    --------
    >>> conditions_of({"conditions": {"affinity": [0]}})
    {'affinity': [0]}
    >>> conditions_of({"env": {}, "provenance": {"topology": {"affinity": [0, 1]}}})["affinity"]
    [0, 1]
    """
    stored = row.get("conditions")
    if isinstance(stored, Mapping):
        return dict(stored)
    provenance = row.get("provenance")
    provenance = provenance if isinstance(provenance, Mapping) else {}
    topology = provenance.get("topology")
    topology = topology if isinstance(topology, Mapping) else {}
    return {
        "env": row.get("env") or {},
        "affinity": topology.get("affinity"),
        "quota_cpus": topology.get("quota_cpus"),
        "onednn_enabled": provenance.get("onednn_enabled"),
        "tensorflow": provenance.get("tensorflow_version"),
    }


def canonical(conditions: Mapping[str, Any]) -> str:
    """Return ``conditions`` as one string, equal for equal conditions."""
    return json.dumps(conditions, sort_keys=True, default=str)


def differences(conditions: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> str:
    """Say what sets ``conditions`` apart from the other sets of one file.

    Examples
    --------
    >>> one = {"affinity": [0], "variables": {"TF_ENABLE_ONEDNN_OPTS": "0"}}
    >>> two = {"affinity": [0, 1], "variables": {}}
    >>> differences(one, [one, two])
    'affinity mask [0], TF_ENABLE_ONEDNN_OPTS=0'
    >>> differences(two, [one, two])
    'affinity mask [0, 1], TF_ENABLE_ONEDNN_OPTS unset'
    """
    parts: list[str] = []
    for field in sorted({key for other in others for key in other}):
        values = [other.get(field) for other in others]
        if all(value == values[0] for value in values):
            continue
        mine = conditions.get(field)
        if field in ("variables", "env"):
            mapping = mine if isinstance(mine, Mapping) else {}
            names = {
                name
                for other in others
                if isinstance(other.get(field), Mapping)
                for name in other[field]
            }
            for name in sorted(names):
                if all((o.get(field) or {}).get(name) == mapping.get(name) for o in others):
                    continue
                parts.append(f"{name}={mapping[name]}" if name in mapping else f"{name} unset")
        elif field == "workload":
            content = mine.get("content") if isinstance(mine, Mapping) else None
            parts.append(f"workload content {str(content)[:12]}")
        else:
            parts.append(f"{_LABELS.get(field, field)} {mine}")
    return ", ".join(parts)


_LABELS = {
    "affinity": "affinity mask",
    "quota_cpus": "CPU quota",
    "onednn_enabled": "oneDNN enabled",
    "tensorflow": "TensorFlow",
}
