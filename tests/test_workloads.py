"""Workload specs: built-ins, user callables and Keras models, checked before any child."""

from __future__ import annotations

import zipfile

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
    model = _zip(tmp_path / "m.keras")
    spec = parse_workload(str(model), input_shape="1, 28,28")
    assert spec.kind == "keras"
    assert spec.params == {"input_shape": [1, 28, 28]}
    assert spec.name == "m.keras"


def _zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    return path


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("m.keras", b"plain text", "not a .keras file"),
        ("m.h5", b"plain text", "not an HDF5 file"),
    ],
)
def test_files_that_are_not_models(tmp_path, name, content, words):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SettingError, match=words):
        parse_workload(str(tmp_path / name), input_shape="1,2")


def test_folder_without_saved_model(tmp_path):
    with pytest.raises(SettingError, match=r"no saved_model\.pb"):
        parse_workload(str(tmp_path), input_shape="1,2")


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
    model = _zip(tmp_path / "m.keras")
    params = {} if shape is None else {"input_shape": shape}
    with pytest.raises(SettingError, match=words):
        parse_workload(str(model), **params)


def test_input_shape_with_an_empty_part_is_refused(tmp_path):
    model = tmp_path / "m.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(SettingError, match="'1,,32'"):
        parse_workload(str(model), input_shape="1,,32")


def test_fingerprint_changes_with_the_model_file_and_the_user_code(tmp_path, monkeypatch):
    model = tmp_path / "m.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{}")
    spec = parse_workload(str(model), input_shape="1,4")
    first = spec.fingerprint()
    with zipfile.ZipFile(model, "a") as archive:
        archive.writestr("more.json", "{}")
    assert spec.fingerprint() != first
    assert spec.fingerprint()["params"] == {"input_shape": [1, 4]}

    (tmp_path / "usermod.py").write_text("def step():\n    return lambda: 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    user = parse_workload("usermod:step")
    before = user.fingerprint()
    (tmp_path / "usermod.py").write_text("def step():\n    return lambda: 2\n")
    assert user.fingerprint() != before
    assert parse_workload("matmul", n=64).fingerprint() != parse_workload("matmul").fingerprint()
