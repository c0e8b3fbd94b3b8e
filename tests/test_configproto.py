"""Serialized ConfigProto bytes for the C API: named by the catalog, written by TensorFlow."""

from __future__ import annotations

import pytest

from tfthreads import catalog
from tfthreads.configproto import c_array, config_bytes, field_numbers, proto_path
from tfthreads.errors import SettingError
from tfthreads.process import run_snippet


def test_proto_path_follows_the_catalog_message() -> None:
    assert proto_path("ConfigProto.inter_op_parallelism_threads") == (
        "inter_op_parallelism_threads",
    )
    assert proto_path("ConfigProto.Experimental.use_numa_affinity") == (
        "experimental",
        "use_numa_affinity",
    )


@pytest.mark.parametrize("name", ["TF_NUM_INTRAOP_THREADS", "RunOptions.inter_op_thread_pool"])
def test_names_outside_configproto_are_refused(name: str) -> None:
    with pytest.raises(SettingError, match=f"got '{name}'.*ConfigProto"):
        proto_path(name)


def test_unknown_name_is_refused_before_any_process_starts() -> None:
    with pytest.raises(SettingError):
        config_bytes([{"ConfigProto.intra_op_threads": 2}])


@pytest.mark.slow
def test_bytes_are_tensorflows_and_parse_back() -> None:
    names = (
        "ConfigProto.intra_op_parallelism_threads",
        "ConfigProto.use_per_session_threads",
        "ConfigProto.Experimental.disable_thread_spinning",
    )
    both, *single = config_bytes(
        [
            {
                "ConfigProto.intra_op_parallelism_threads": 3,
                "ConfigProto.inter_op_parallelism_threads": 1,
            },
            *({name: value} for name, value in zip(names, (3, True, True), strict=True)),
        ]
    )
    # The catalog's field numbers are the ones TensorFlow wrote.
    for name, data in zip(names, single, strict=True):
        depth = len(proto_path(name)) - 1
        assert field_numbers(data)[depth] == catalog.get(name).field_number, name
    result = run_snippet(
        f"""
        import tensorflow as tf
        config = tf.compat.v1.ConfigProto.FromString({both!r})
        print(config.intra_op_parallelism_threads, config.inter_op_parallelism_threads)
        print(tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=3, inter_op_parallelism_threads=1
        ).SerializeToString() == {both!r})
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "1", "True"]
    assert c_array(both) == "{0x10, 0x03, 0x28, 0x01}"
