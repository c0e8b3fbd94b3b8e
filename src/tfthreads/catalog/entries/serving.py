"""TF Serving's ``tensorflow_model_server`` flags that size the pools.

The entries of the reference page ``docs/reference/serving.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    NEEDS_SERVING,
    SERVING_FILE,
    cite,
)
from tfthreads.catalog.model import Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="--tensorflow_intra_op_parallelism",
        kind=Kind.SERVING_FLAG,
        summary="TF Serving's intra-op pool size for the models it loads.",
        type="integer (int64)",
        default="0 (auto)",
        resolution=(
            "If > 0 (or the inter-op flag is > 0), both ConfigProto fields are taken from the two flags, so the one not given becomes 0 (auto). "
            "All three parallelism flags > 0 is an InvalidArgument error ('... "
            "You cannot configure all.')."
        ),
        read_when="At server start, when the session config is built.",
        freezes="For the life of the server; the first model loaded sizes the process-wide intra-op pool.",
        tf2_path="Not applicable (a tensorflow_model_server flag).",
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "--tensorflow_inter_op_parallelism",
            "--tensorflow_session_parallelism",
        ),
        source=SERVING_FILE,
        notes="The flags overwrite thread fields read from --tensorflow_session_config_file, with 0 when not given.",
        facts=(
            cite(SERVING_FILE, "default resolution read_when freezes notes", why=NEEDS_SERVING),
        ),
    ),
    Setting(
        name="--tensorflow_inter_op_parallelism",
        kind=Kind.SERVING_FLAG,
        summary="TF Serving's inter-op pool size for the models it loads.",
        type="integer (int64)",
        default="0 (auto)",
        resolution="If > 0 (or the intra-op flag is > 0), both ConfigProto fields are taken from the two flags, so the one not given becomes 0 (auto).",
        read_when="At server start, when the session config is built.",
        freezes="For the life of the server.",
        tf2_path="Not applicable (a tensorflow_model_server flag).",
        related=(
            "ConfigProto.inter_op_parallelism_threads",
            "--tensorflow_intra_op_parallelism",
            "--tensorflow_session_parallelism",
        ),
        source=SERVING_FILE,
        facts=(cite(SERVING_FILE, "default resolution read_when freezes", why=NEEDS_SERVING),),
    ),
    Setting(
        name="--tensorflow_session_parallelism",
        kind=Kind.SERVING_FLAG,
        summary="TF Serving's single knob that sets both intra-op and inter-op pool sizes.",
        type="integer (int64)",
        default="0 (auto)",
        resolution="Used only when neither the intra-op nor the inter-op flag is > 0; then both ConfigProto fields get this value (0 = auto).",
        read_when="At server start, when the session config is built.",
        freezes="For the life of the server.",
        tf2_path="Not applicable (a tensorflow_model_server flag).",
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "ConfigProto.inter_op_parallelism_threads",
            "--tensorflow_intra_op_parallelism",
            "--tensorflow_inter_op_parallelism",
        ),
        source=SERVING_FILE,
        notes="Its help text says it is ignored when --platform_config_file is given.",
        facts=(
            cite(SERVING_FILE, "default resolution read_when freezes notes", why=NEEDS_SERVING),
        ),
    ),
)
