"""Property-based tests: settings validation and the JSON worker protocol."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfthreads.errors import SettingError
from tfthreads.process import PROTOCOL_VERSION, child_environment
from tfthreads.process.outcomes import parse_response
from tfthreads.settings import MAX_THREADS, ThreadSettings, resolve_pools
from tfthreads.workloads import BUILTIN_WORKLOADS, WorkloadSpec, parse_workload

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
NOT_INTS = st.floats() | st.text() | st.booleans() | st.none() | st.lists(st.integers())


@given(st.integers(0, MAX_THREADS), st.integers(-1, MAX_THREADS))
def test_every_value_in_range_is_kept(intra, inter):
    s = ThreadSettings(intra_op=intra, inter_op=inter)
    assert (s.intra_op, s.inter_op) == (intra, inter)
    if inter < 0:  # no variable expresses "the caller's thread"
        with pytest.raises(SettingError, match="inter_op: got -1; environment variables"):
            s.to_env()
    else:
        assert ThreadSettings.from_env(s.to_env()) == s


@given(st.integers().filter(lambda v: not 0 <= v <= MAX_THREADS))
def test_every_value_out_of_range_names_field_and_value(value):
    with pytest.raises(SettingError) as caught:
        ThreadSettings(intra_op=value)
    assert f"intra_op: got {value};" in str(caught.value)


@given(NOT_INTS)
def test_every_non_integer_is_a_type_error_naming_the_field(value):
    with pytest.raises(TypeError) as caught:
        ThreadSettings(inter_op=value)
    message = str(caught.value)
    assert message.startswith("inter_op: got ")
    assert "\n" not in message


@given(
    st.integers(0, 64),
    st.integers(0, 64),
    st.integers(1, 256),
    st.dictionaries(
        st.sampled_from(["TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"]),
        st.text(max_size=4) | st.integers(-5, 64).map(str),
    ),
)
def test_resolved_pools_are_always_positive(intra, inter, cpus, environ):
    resolved = resolve_pools(ThreadSettings(intra, inter), affinity_cpus=cpus, environ=environ)
    assert resolved.intra_op >= 1
    assert resolved.inter_op >= 1
    if intra:
        assert (resolved.intra_op, resolved.intra_source) == (intra, "config")


@given(st.sampled_from(sorted(BUILTIN_WORKLOADS)), st.integers(1, 4096))
def test_workload_specs_round_trip_through_json(name, size):
    key = next(iter(BUILTIN_WORKLOADS[name][1]))
    spec = parse_workload(name, **{key: size})
    assert WorkloadSpec.from_dict(json.loads(json.dumps(spec.as_dict()))) == spec


@given(st.text())
def test_any_worker_stdout_parses_or_is_rejected(text):
    response = parse_response(text)
    assert response is None or response.get("protocol") == PROTOCOL_VERSION


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_worker_answers_any_json_request_with_json(request):
    # Whatever arrives on stdin, the worker answers with one JSON object and never lets a
    # traceback out; tasks that would start TensorFlow are not reachable by chance.
    completed = subprocess.run(
        [sys.executable, "-m", "tfthreads.process.worker"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=60,
        check=False,
    )
    response = json.loads(completed.stdout)
    assert response["protocol"] == PROTOCOL_VERSION
    assert response["ok"] is False
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
