"""Workload specs: built-ins, user callables and Keras models, checked before any child."""

from __future__ import annotations

import pytest

from tfthreads.errors import SettingError
from tfthreads.workloads import BUILTIN_WORKLOADS, WorkloadSpec, parse_workload


def test_builtin_defaults_and_overrides():
    spec = parse_workload("matmul")
    assert spec == WorkloadSpec("builtin", "matmul", {"n": 512})
    assert parse_workload("branches", k=2).params == {"k": 2, "n": 128, "depth": 4}
    assert WorkloadSpec.from_dict(spec.as_dict()) == spec


def test_every_builtin_parses():
    for name in BUILTIN_WORKLOADS:
        assert parse_workload(name).name == name


def test_callable_spec(tmp_path, monkeypatch):
    (tmp_path / "my_steps.py").write_text("def build():\n    return lambda: None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert parse_workload("my_steps:build") == WorkloadSpec("callable", "my_steps:build", {})


def test_keras_spec(tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"not checked until the worker loads it")
    spec = parse_workload(str(model), input_shape="1, 28,28")
    assert spec.kind == "keras"
    assert spec.params == {"input_shape": [1, 28, 28]}
    assert spec.name == "m.keras"


BAD_SPECS = [
    (("",), {}, "expected a non-empty string"),
    ((None,), {}, "expected a non-empty string"),
    (("matmull",), {}, "not a built-in workload"),
    (("matmul",), {"size": 3}, "unknown parameter 'size'"),
    (("matmul",), {"n": 0}, "n=0"),
    (("matmul",), {"n": 2.5}, "n=2.5"),
    (("matmul",), {"n": True}, "n=True"),
    (("mlp_latency",), {"batch": 10**7}, "batch=10000000"),
    (("nosuchmodule_xyz:build",), {}, "cannot find module 'nosuchmodule_xyz'"),
    (("os.path:",), {}, "not a built-in workload"),
    (("missing.keras",), {"input_shape": "1,2"}, "no such Keras model"),
]


@pytest.mark.parametrize(("args", "params", "words"), BAD_SPECS)
def test_bad_specs_fail_with_one_line(args, params, words):
    with pytest.raises(SettingError) as caught:
        parse_workload(*args, **params)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("shape", "words"),
    [(None, "needs input_shape"), ("a,b", "'a,b'"), ("0,3", "'0,3'"), ("", "''")],
)
def test_bad_keras_input_shapes(tmp_path, shape, words):
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    params = {} if shape is None else {"input_shape": shape}
    with pytest.raises(SettingError, match=words):
        parse_workload(str(model), **params)
