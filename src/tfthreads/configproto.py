"""Serialized ``ConfigProto`` bytes for the C API (``TF_SetConfig``) and its bindings.

The C API takes the thread settings as the bytes of a serialized ``tensorflow.ConfigProto``,
and bindings built on it pass such bytes through. :func:`config_bytes`
asks TensorFlow's own serializer for them, in a fresh process (the calling process never
imports TensorFlow), and names each field by its catalog entry, so a field that the
catalog does not list as a ``ConfigProto`` field is refused with a one-line error.

Examples
--------
>>> proto_path("ConfigProto.Experimental.disable_thread_spinning")
('experimental', 'disable_thread_spinning')
>>> c_array(bytes([0x10, 0x02, 0x28, 0x01]))
'{0x10, 0x02, 0x28, 0x01}'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tfthreads import catalog
from tfthreads.errors import SettingError
from tfthreads.process import run_function

__all__ = ["c_array", "config_bytes", "field_numbers", "proto_path", "serialize"]

#: Catalog messages that live inside a ``ConfigProto``, and the field path to each.
_MESSAGE_PATHS = {
    "tensorflow.ConfigProto": (),
    "tensorflow.ConfigProto.Experimental": ("experimental",),
}


def proto_path(name: str) -> tuple[str, ...]:
    """Return the field path of a catalog ``ConfigProto`` entry inside a ``ConfigProto``.

    Raises
    ------
    SettingError
        The name is not a catalog entry, or not a field of ``ConfigProto`` or
        ``ConfigProto.Experimental``.
    """
    setting = catalog.get(name)
    if not setting.is_proto_field or setting.message not in _MESSAGE_PATHS:
        raise SettingError(
            f"setting: got {name!r}; expected a catalog field of ConfigProto or "
            "ConfigProto.Experimental (the message TF_SetConfig takes)"
        )
    return (*_MESSAGE_PATHS[setting.message], setting.field)


def _nested(values: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in values.items():
        *parents, leaf = proto_path(name)
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def serialize(configs: list[dict[str, Any]]) -> list[str]:
    """Serialize nested ``ConfigProto`` dicts with TensorFlow (runs in a child process).

    Returns the bytes of each as hex. :func:`config_bytes` calls it through
    :func:`tfthreads.process.run_function`; it imports TensorFlow.
    """
    from google.protobuf import json_format
    from tensorflow.core.protobuf import config_pb2

    out = []
    for config in configs:
        message = json_format.ParseDict(config, config_pb2.ConfigProto())
        out.append(message.SerializeToString(deterministic=True).hex())
    return out


def config_bytes(configs: Sequence[Mapping[str, Any]], *, timeout: float = 120.0) -> list[bytes]:
    """Return the serialized ``ConfigProto`` of each mapping of catalog names to values.

    All mappings are serialized in one fresh process by TensorFlow's own protobuf
    classes; the calling process does not import TensorFlow.

    Parameters
    ----------
    configs : sequence of mapping
        Each maps catalog names (``"ConfigProto.intra_op_parallelism_threads"``) to
        values as protobuf's JSON mapping takes them (numbers, booleans, strings, lists
        of dicts for repeated messages).
    timeout : float
        Seconds the child process may take.

    Raises
    ------
    SettingError
        A name is not a ``ConfigProto`` field of the catalog.
    """
    nested = [_nested(values) for values in configs]
    hexes = run_function(serialize, {"configs": nested}, timeout=timeout)
    return [bytes.fromhex(text) for text in hexes]


def _varint(data: bytes, start: int) -> tuple[int, int]:
    value, shift, index = 0, 0, start
    while True:
        byte = data[index]
        value |= (byte & 0x7F) << shift
        index += 1
        if byte < 0x80:
            return value, index
        shift += 7


def field_numbers(data: bytes) -> tuple[int, ...]:
    """Return the field numbers on the path to the first scalar field of ``data``.

    It follows length-delimited fields whose content starts with a valid tag, so the
    bytes of ``experimental { disable_thread_spinning: true }`` give ``(16, 9)``.

    Examples
    --------
    >>> field_numbers(bytes([0x10, 0x02]))
    (2,)
    >>> field_numbers(bytes([0x82, 0x01, 0x02, 0x48, 0x01]))
    (16, 9)
    """
    numbers: list[int] = []
    index = 0
    while index < len(data):
        tag, index = _varint(data, index)
        numbers.append(tag >> 3)
        if tag & 7 != 2:  # not length-delimited: a scalar, the end of the path
            break
        _, index = _varint(data, index)  # the length; the nested message follows
    return tuple(numbers)


def c_array(data: bytes) -> str:
    """Write bytes as a C array initializer.

    Examples
    --------
    >>> c_array(bytes([0x08, 0x01]))
    '{0x08, 0x01}'
    """
    return "{" + ", ".join(f"0x{byte:02x}" for byte in data) + "}"
