"""Workloads to measure: built-in ones, each exercising one mechanism, and your own.

A workload is described by a :class:`WorkloadSpec`, plain data that travels to the worker
as JSON. The worker builds a *step* from it (a callable that does one unit of work) in
``tfthreads.process.steps``. Specs are checked here, in the parent, so that a typo
fails at once with one line instead of after a TensorFlow start-up per setting.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tfthreads.errors import SettingError

__all__ = ["BUILTIN_WORKLOADS", "WorkloadSpec", "parse_workload"]

#: The built-in workloads, by name, with what each exercises and its default parameters.
BUILTIN_WORKLOADS: dict[str, tuple[str, dict[str, int]]] = {
    "matmul": ("one dense matmul: intra-op scaling (GFLOP/s)", {"n": 512}),
    "branches": (
        "k independent matmul chains in one tf.function: inter-op concurrency",
        {"k": 8, "n": 128, "depth": 4},
    ),
    "mlp_latency": ("Keras MLP inference at batch 1: latency-bound", {"batch": 1, "width": 512}),
    "mlp_throughput": (
        "Keras MLP inference at a large batch: throughput-bound",
        {"batch": 1024, "width": 512},
    ),
    "conv2d": ("one Conv2D layer, 3x3 kernel (GFLOP/s)", {"batch": 4, "size": 32, "channels": 64}),
    "data_map": (
        "tf.data pipeline whose map does real work (elements/s)",
        {"elements": 256, "n": 64},
    ),
}

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_KERAS_SUFFIXES = (".keras", ".h5")


@dataclass(frozen=True)
class WorkloadSpec:
    """What to run in the worker, as JSON-ready data.

    Attributes
    ----------
    kind : str
        ``"builtin"``, ``"callable"`` (``"package.module:function"``, a function that
        returns a step callable) or ``"keras"`` (a saved Keras model and an input shape).
    target : str
        The built-in name, the ``module:function`` reference or the model path.
    params : dict
        Parameters: sizes of a built-in, or ``input_shape`` for a Keras model.
    """

    kind: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A short label for tables and plots."""
        if self.kind == "keras":
            return Path(self.target).name
        return self.target

    def fingerprint(self) -> dict[str, Any]:
        """Describe exactly what would run, for results keys: the spec plus a content hash.

        A Keras model file or folder is hashed by its bytes, a user workload by the source
        of its module (found without importing it), so that changing the model or fixing
        the code makes earlier results stale.
        """
        content = None
        if self.kind == "keras":
            content = _hash_files(Path(self.target))
        elif self.kind == "callable":
            with contextlib.suppress(ImportError, ValueError):
                found = importlib.util.find_spec(self.target.split(":")[0])
                if found is not None and found.origin and Path(found.origin).is_file():
                    content = _hash_files(Path(found.origin))
        return {**self.as_dict(), "content": content}

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form sent to the worker."""
        return {"kind": self.kind, "target": self.target, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkloadSpec:
        """Rebuild a spec from :meth:`as_dict` output."""
        return cls(str(data["kind"]), str(data["target"]), dict(data.get("params", {})))


def _hash_files(path: Path) -> str | None:
    """SHA-256 of a file, or of every file under a folder (names and bytes)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    try:
        for file in files:
            digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
            digest.update(file.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()[:16]


def _check_params(
    name: str, params: Mapping[str, Any], defaults: Mapping[str, int]
) -> dict[str, int]:
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise SettingError(
            f"workload {name!r}: unknown parameter {unknown[0]!r}; expected one of {sorted(defaults)}"
        )
    merged = {**defaults, **params}
    for key, value in merged.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
            raise SettingError(
                f"workload {name!r}: {key}={value!r}; expected a whole number from 1 to 1000000"
            )
    return merged


def _input_shape(given: Any) -> list[int]:
    value = given
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        try:
            value = [int(part) for part in parts]  # an empty part ("1,,32") is refused too
        except ValueError:
            raise SettingError(
                f"input_shape: got {value!r}; expected whole numbers separated by commas, "
                "such as 1,28,28"
            ) from None
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise SettingError(
            f"input_shape: got {given!r}; expected one or more whole numbers >= 1, "
            "batch size first, such as 1,28,28"
        )
    return list(value)


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _check_model_file(spec: str, path: Path) -> None:
    """Refuse, before any worker starts, a path that cannot be a saved Keras model."""
    if path.is_dir():
        if not (path / "saved_model.pb").exists():
            raise SettingError(f"workload {spec!r}: folder has no saved_model.pb")
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise SettingError(f"workload {spec!r}: cannot read it: {error.strerror}") from None
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise SettingError(f"workload {spec!r}: not a .keras file (those are zip archives)")
    if path.suffix == ".h5" and head != _HDF5_SIGNATURE:
        raise SettingError(f"workload {spec!r}: not an HDF5 file")


def parse_workload(spec: str | WorkloadSpec, **params: Any) -> WorkloadSpec:
    """Turn a workload description into a checked :class:`WorkloadSpec`.

    Parameters
    ----------
    spec : str or WorkloadSpec
        A built-in name (see :data:`BUILTIN_WORKLOADS`), ``"package.module:function"``,
        or the path of a saved Keras model (``.keras``, ``.h5`` or a SavedModel folder).
    **params
        Sizes of a built-in (for example ``n=1024``), or ``input_shape`` for a model.

    Raises
    ------
    SettingError
        With one line naming what is wrong, before any worker starts.

    Examples
    --------
    >>> parse_workload("matmul", n=256)
    WorkloadSpec(kind='builtin', target='matmul', params={'n': 256})
    >>> parse_workload("matmull")
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: workload 'matmull': not a built-in workload (branches, conv2d, data_map, matmul, mlp_latency, mlp_throughput), a 'package.module:function' or an existing Keras model path
    """
    if isinstance(spec, WorkloadSpec):
        return (
            parse_workload(spec.target, **{**spec.params, **params})
            if spec.kind == "builtin"
            else spec
        )
    if not isinstance(spec, str) or not spec.strip():
        raise SettingError(f"workload: got {spec!r}; expected a non-empty string")
    spec = spec.strip()
    if spec in BUILTIN_WORKLOADS:
        return WorkloadSpec(
            "builtin", spec, _check_params(spec, params, BUILTIN_WORKLOADS[spec][1])
        )
    path = Path(spec)
    if path.suffix in _KERAS_SUFFIXES or path.is_dir():
        if not path.exists():
            raise SettingError(f"workload {spec!r}: no such Keras model file or folder")
        _check_model_file(spec, path)
        if "input_shape" not in params:
            raise SettingError(
                f"workload {spec!r}: a Keras model needs input_shape, such as input_shape=1,28,28"
            )
        extra = sorted(set(params) - {"input_shape"})
        if extra:
            raise SettingError(f"workload {spec!r}: unknown parameter {extra[0]!r}")
        shape = _input_shape(params["input_shape"])
        return WorkloadSpec("keras", str(path.resolve()), {"input_shape": shape})
    if _CALLABLE.match(spec):
        module = spec.split(":")[0]
        top = module.split(".")[0]
        # Only the top-level package is looked up: importing the module itself could
        # start TensorFlow in this process.
        if importlib.util.find_spec(top) is None:
            raise SettingError(f"workload {spec!r}: cannot find module {top!r} on sys.path")
        if params:
            raise SettingError(f"workload {spec!r}: user workloads take no parameters here")
        return WorkloadSpec("callable", spec, {})
    raise SettingError(
        f"workload {spec!r}: not a built-in workload ({', '.join(sorted(BUILTIN_WORKLOADS))}), "
        "a 'package.module:function' or an existing Keras model path"
    )
