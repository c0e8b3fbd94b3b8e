"""What a fresh ``tf.compat.v1.ConfigProto`` and ``RunOptions`` hold: the session options' defaults.

Part of the session probe (:mod:`tfthreads.catalog.probes.sessions`), which reports them
next to what it observes; :func:`tfthreads.catalog.probes.source` counts this module in
that probe's cache key, as every helper module of this package a probe imports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["option_defaults"]


def option_defaults() -> dict[str, Any]:
    """Return the defaults of the session options the catalog names, by the probe's keys."""
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2

    v1 = tf.compat.v1
    return {
        "default_executor_type": repr(v1.ConfigProto().experimental.executor_type),
        "default_use_tfrt": v1.ConfigProto().experimental.use_tfrt,
        "default_use_per_session_threads": v1.ConfigProto().use_per_session_threads,
        "use_per_session_threads_descriptor_deprecated": v1.ConfigProto.DESCRIPTOR.fields_by_name[
            "use_per_session_threads"
        ]
        .GetOptions()
        .deprecated,
        "default_session_pools": len(v1.ConfigProto().session_inter_op_thread_pool),
        "default_pool_num_threads": config_pb2.ThreadPoolOptionProto().num_threads,
        "default_pool_global_name": repr(config_pb2.ThreadPoolOptionProto().global_name),
        "default_run_pool_index": v1.RunOptions().inter_op_thread_pool,
        "default_operation_timeout": v1.ConfigProto().operation_timeout_in_ms,
        "default_isolate_session_state": v1.ConfigProto().isolate_session_state,
        "default_share_cluster_devices": v1.ConfigProto().share_cluster_devices_in_session,
        "default_device_count": len(v1.ConfigProto().device_count),
        "default_allow_soft_placement": v1.ConfigProto().allow_soft_placement,
        "default_log_device_placement": v1.ConfigProto().log_device_placement,
        "default_placement_period": v1.ConfigProto().placement_period,
        "default_device_filters": len(v1.ConfigProto().device_filters),
        "default_use_numa_affinity": v1.ConfigProto().experimental.use_numa_affinity,
        "default_disable_thread_spinning": v1.ConfigProto().experimental.disable_thread_spinning,
        "default_disable_streaming_enqueue": (
            v1.ConfigProto().experimental.disable_eager_executor_streaming_enqueue
        ),
        "default_use_run_handler_pool": v1.RunOptions().experimental.use_run_handler_pool,
        "default_run_handler_priority": (
            v1.RunOptions().experimental.run_handler_pool_options.priority
        ),
    }
