"""ThreadSettings: validation, conversions, resolution and applying in a fresh process."""

from __future__ import annotations

import re

import pytest

from tfthreads.errors import SettingError, TooLateError
from tfthreads.process import run_snippet
from tfthreads.settings import MAX_THREADS, PoolOption, ThreadSettings, resolve_pools

BAD_VALUES = [
    # (keyword arguments, exception type, words the one-line message must contain)
    ({"intra_op": -1}, SettingError, ["intra_op", "-1", "from 0 to 4096"]),
    ({"intra_op": MAX_THREADS + 1}, SettingError, ["intra_op", "4097", "4096"]),
    ({"intra_op": 2**31}, SettingError, ["intra_op", str(2**31)]),
    ({"intra_op": 2.0}, TypeError, ["intra_op", "2.0", "float", "whole number"]),
    ({"intra_op": "4"}, TypeError, ["intra_op", "'4'", "str"]),
    ({"intra_op": True}, TypeError, ["intra_op", "True", "bool"]),
    ({"intra_op": None}, TypeError, ["intra_op", "None"]),
    ({"inter_op": -2}, SettingError, ["inter_op", "-2", "from -1", "caller's thread"]),
    ({"inter_op": 1.5}, TypeError, ["inter_op", "1.5"]),
    ({"inter_op": False}, TypeError, ["inter_op", "False", "bool"]),
    ({"inter_op": [2]}, TypeError, ["inter_op", "[2]", "list"]),
    ({"inter_op": MAX_THREADS * 10}, SettingError, ["inter_op", str(MAX_THREADS * 10)]),
    ({"use_per_session_threads": 1}, TypeError, ["use_per_session_threads", "True or False"]),
    ({"use_per_session_threads": "yes"}, TypeError, ["use_per_session_threads", "'yes'"]),
    ({"session_pools": [PoolOption(2)]}, TypeError, ["session_pools", "tuple of PoolOption"]),
    ({"session_pools": (2,)}, TypeError, ["session_pools", "tuple of PoolOption"]),
]


@pytest.mark.parametrize(("kwargs", "error", "words"), BAD_VALUES)
def test_bad_values_raise_one_clear_line(kwargs, error, words):
    with pytest.raises(error) as caught:
        ThreadSettings(**kwargs)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"num_threads": -1}, SettingError, ["num_threads", "-1"]),
        ({"num_threads": 1.0}, TypeError, ["num_threads", "float"]),
        ({"global_name": 3}, TypeError, ["global_name", "3", "string"]),
    ],
)
def test_bad_pool_options(kwargs, error, words):
    with pytest.raises(error) as caught:
        PoolOption(**kwargs)
    assert all(word in str(caught.value) for word in words)


def test_setting_error_is_a_value_error():
    # Callers that catch ValueError keep working.
    with pytest.raises(ValueError, match="intra_op"):
        ThreadSettings(intra_op=-5)


@pytest.mark.parametrize(("intra", "inter"), [(0, 0), (1, -1), (MAX_THREADS, MAX_THREADS), (7, 3)])
def test_valid_values_are_kept(intra, inter):
    settings = ThreadSettings(intra_op=intra, inter_op=inter)
    assert (settings.intra_op, settings.inter_op) == (intra, inter)


def test_describe_is_one_line_and_names_session_pools():
    settings = ThreadSettings(
        intra_op=2,
        session_pools=(PoolOption(4, "shared"), PoolOption()),
        use_per_session_threads=True,
    )
    text = settings.describe()
    assert "\n" not in text
    assert "session_pool[0]=(num_threads=4, global_name='shared')" in text
    assert "use_per_session_threads=True" in text


@pytest.mark.slow  # imports TensorFlow
def test_config_proto_round_trip_with_real_tensorflow():
    import tensorflow as tf

    settings = ThreadSettings(
        intra_op=3, inter_op=-1, session_pools=(PoolOption(2, "g"), PoolOption(0))
    )
    config = settings.to_config_proto()
    assert isinstance(config, tf.compat.v1.ConfigProto)
    assert config.intra_op_parallelism_threads == 3
    assert config.inter_op_parallelism_threads == -1
    assert [(p.num_threads, p.global_name) for p in config.session_inter_op_thread_pool] == [
        (2, "g"),
        (0, ""),
    ]
    assert ThreadSettings.from_config_proto(config) == settings


@pytest.mark.slow  # imports TensorFlow
def test_from_config_proto_validates():
    import tensorflow as tf

    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=-3)
    with pytest.raises(SettingError, match="intra_op: got -3"):
        ThreadSettings.from_config_proto(config)


def test_env_conversions():
    assert ThreadSettings().to_env() == {}
    assert ThreadSettings(intra_op=2, inter_op=1).to_env() == {
        "TF_NUM_INTRAOP_THREADS": "2",
        "TF_NUM_INTEROP_THREADS": "1",
    }
    assert ThreadSettings.from_env({"TF_NUM_INTRAOP_THREADS": " 4 "}) == ThreadSettings(intra_op=4)
    assert ThreadSettings.from_env({}) == ThreadSettings()


@pytest.mark.parametrize("raw", ["four", "2.5", "1e3"])
def test_from_env_refuses_non_integers(raw):
    with pytest.raises(SettingError, match=f"TF_NUM_INTEROP_THREADS: got '{raw}'"):
        ThreadSettings.from_env({"TF_NUM_INTEROP_THREADS": raw})


def test_from_env_validates_range():
    with pytest.raises(SettingError, match="TF_NUM_INTRAOP_THREADS: got '-1'; TensorFlow aborts"):
        ThreadSettings.from_env({"TF_NUM_INTRAOP_THREADS": "-1"})


@pytest.mark.parametrize(
    ("raw", "value", "problem"),
    [
        (None, 0, None),
        ("", 0, None),
        (" 3 ", 3, None),
        ("three", 0, "expected a whole number (TensorFlow ignores"),
        ("2.5", 0, "expected a whole number (TensorFlow ignores"),
        ("99999999999", 0, "expected a whole number (TensorFlow ignores"),
        ("-1", -1, "TensorFlow aborts"),
        ("5000", 5000, "expected a whole number from 0 to 4096"),
    ],
)
def test_one_parser_for_the_pool_variables(raw, value, problem):
    from tfthreads.doctor import doctor_report
    from tfthreads.settings import read_pool_variable, resolve_pools

    name = "TF_NUM_INTRAOP_THREADS"
    environ = {} if raw is None else {name: raw}
    variable = read_pool_variable(name, environ)
    assert variable.value == value
    if problem is None:
        assert variable.problem is None
        assert ThreadSettings.from_env(environ).intra_op == value
    else:
        assert problem in variable.problem
        with pytest.raises(SettingError, match=re.escape(variable.problem)):
            ThreadSettings.from_env(environ)
    resolved = resolve_pools(ThreadSettings(), affinity_cpus=2, environ=environ)
    assert resolved.intra_op == (value if value > 0 else 2)
    warnings = doctor_report(environ=environ, probe=False)["warnings"]
    assert (variable.problem in warnings) == (problem is not None)


def test_negative_inter_op_variable_is_ignored_like_tensorflow():
    from tfthreads.settings import read_pool_variable

    variable = read_pool_variable("TF_NUM_INTEROP_THREADS", {"TF_NUM_INTEROP_THREADS": "-2"})
    assert "ignores a negative value" in variable.problem


def test_serving_args():
    assert ThreadSettings(intra_op=4).to_serving_args() == [
        "--tensorflow_intra_op_parallelism=4",
        "--tensorflow_inter_op_parallelism=0",
    ]
    with pytest.raises(SettingError, match="inter_op: got -1; TF Serving"):
        ThreadSettings(inter_op=-1).to_serving_args()


@pytest.mark.parametrize("method", ["to_env", "to_serving_args", "apply"])
def test_session_only_settings_refuse_tf2_forms(method):
    settings = ThreadSettings(session_pools=(PoolOption(2),))
    with pytest.raises(SettingError, match="per-session pools"):
        getattr(settings, method)()


@pytest.mark.parametrize(
    ("settings", "environ", "expected"),
    [
        (ThreadSettings(), {}, (8, 8, "default", "default")),
        (ThreadSettings(intra_op=2), {"TF_NUM_INTRAOP_THREADS": "5"}, (2, 8, "config", "default")),
        (
            ThreadSettings(),
            {"TF_NUM_INTRAOP_THREADS": "5", "TF_NUM_INTEROP_THREADS": "3"},
            (5, 3, "environment", "environment"),
        ),
        (ThreadSettings(), {"TF_NUM_INTEROP_THREADS": "junk"}, (8, 8, "default", "default")),
        (
            ThreadSettings(inter_op=-1),
            {"TF_NUM_INTEROP_THREADS": "-1"},
            (8, 8, "default", "default"),
        ),
    ],
)
def test_resolve_pools_precedence(settings, environ, expected):
    resolved = resolve_pools(settings, affinity_cpus=8, environ=environ)
    assert (
        resolved.intra_op,
        resolved.inter_op,
        resolved.intra_source,
        resolved.inter_source,
    ) == expected


def test_too_late_error_type():
    assert issubclass(TooLateError, RuntimeError)


@pytest.mark.slow
def test_apply_before_runtime_sets_the_pools():
    result = run_snippet(
        """
        import tensorflow as tf
        from tfthreads.settings import ThreadSettings
        ThreadSettings(intra_op=1, inter_op=3).apply()
        tf.constant(1.0) + 1
        print(tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads())
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "3"]


@pytest.mark.slow
def test_apply_after_runtime_raises_too_late():
    result = run_snippet(
        """
        import tensorflow as tf
        from tfthreads.errors import TooLateError
        from tfthreads.settings import ThreadSettings
        tf.constant(1.0) + 1
        try:
            ThreadSettings(intra_op=1).apply()
        except TooLateError as error:
            print("TooLateError:", error)
        """
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "TooLateError:" in out
    assert (
        "Intra op parallelism cannot be modified after initialization." in out
    )  # TensorFlow's words
    assert "TF_NUM_INTRAOP_THREADS" in out  # one of the two ways out
    assert "before" in out
