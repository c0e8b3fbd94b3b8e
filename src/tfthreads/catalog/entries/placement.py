"""Devices and placement: how many CPU devices, and where ops may run.

The entries of the reference page ``docs/reference/placement.md``, in the order of
:data:`tfthreads.catalog.CATALOG`. Each carries the facts that back its prose fields.
"""

from __future__ import annotations

from tfthreads.catalog.entries.common import (
    CONFIG_PROTO,
    CONFIG_PROTO_FILE,
    EAGER_CONTEXT_FILE,
    cite,
    seen,
)
from tfthreads.catalog.model import ONLY_COMPAT_V1, Kind, Setting

__all__ = ["ENTRIES"]

#: The entries, in catalog order.
ENTRIES: tuple[Setting, ...] = (
    Setting(
        name="ConfigProto.device_count",
        kind=Kind.PROTO_FIELD,
        summary='Maximum number of devices of each type ("CPU", "GPU") a session creates.',
        type="map<string, int32>",
        default="empty (one CPU device and every visible GPU)",
        resolution=(
            "A type missing from the map gets TensorFlow's choice; GPU 0 hides the GPUs; CPU > 1 creates that many CPU devices. "
            "CPU 0 does not hide the CPU: the session fails with `NotFoundError: No CPU devices are available in this process` (run on 2.21.0)."
        ),
        read_when="When the devices are created: the first session or the eager context.",
        freezes=(
            "At start-up. "
            "The TF2 equivalents then raise `RuntimeError: Virtual devices cannot be modified after being initialized` or `RuntimeError: Visible devices cannot be modified after being initialized`."
        ),
        tf2_path="CPU: `tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)`; GPU: `tf.config.set_visible_devices(gpus, 'GPU')`.",
        related=(
            "ConfigProto.intra_op_parallelism_threads",
            "TF_OVERRIDE_GLOBAL_THREADPOOL",
            "ConfigProto.device_filters",
        ),
        source=EAGER_CONTEXT_FILE,
        message=CONFIG_PROTO,
        field_number=1,
        notes=(
            "It does not limit threads: on 2.21.0 a session with CPU=4 had four CPU devices sharing one intra-op pool. "
            "A memory_limit on a logical CPU raises `ValueError: Setting memory limit on CPU virtual devices is currently not supported`."
        ),
        facts=(
            seen(
                "default resolution read_when",
                "sessions",
                "unset the map was empty and a session had {session_devices_default} CPU device; with CPU 4, {session_devices_cpu_4} devices; with GPU 0, {session_devices_gpu_0}; with CPU 0 it failed with `{session_cpu_0_error}`",
                default_device_count=0,
                session_devices_default=1,
                session_devices_cpu_4=4,
                session_devices_gpu_0=1,
                session_cpu_0_error="NotFoundError: No CPU devices are available in this process",
            ),
            seen(
                "freezes",
                "runtime",
                "after the first op, the TF2 setters raised `{late_virtual_devices_error}` and `{late_visible_devices_error}`",
                late_virtual_devices_error="RuntimeError: Virtual devices cannot be modified after being initialized",
                late_visible_devices_error="RuntimeError: Visible devices cannot be modified after being initialized",
            ),
            seen(
                "notes",
                "sessions",
                "a session with CPU 4 had {session_devices_cpu_4} devices and started one intra-op pool of {session_cpu_4_intra_op} threads",
                session_devices_cpu_4=4,
                session_cpu_4_intra_op="{cpus}",
            ),
            seen(
                "notes",
                "runtime",
                "a memory limit on the logical CPU raised `{cpu_memory_limit_error}`",
                cpu_memory_limit_error="ValueError: Setting memory limit on CPU virtual devices is currently not supported",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.allow_soft_placement",
        kind=Kind.PROTO_FIELD,
        summary="Lets TensorFlow move an op to the CPU when the requested device cannot run it.",
        type="bool",
        default="false in a Session; true in eager mode unless set",
        resolution="False: an impossible device request is an error.",
        read_when="When ops are placed (each graph or function placement).",
        freezes="Never in TF2: the setter works after start-up.",
        tf2_path="`tf.config.set_soft_device_placement(enabled)`",
        related=("ConfigProto.log_device_placement",),
        source=EAGER_CONTEXT_FILE,
        message=CONFIG_PROTO,
        field_number=7,
        notes="It is device fallback, not a GPU memory setting (that is tf.config.experimental.set_memory_growth).",
        facts=(
            seen(
                "default resolution read_when notes",
                "sessions",
                "unset it was {default_allow_soft_placement} in a ConfigProto; a session asked to run an op on `/device:GPU:0` of this CPU-only machine failed with `{session_gpu_request_hard}`, and with it true the op {session_gpu_request_soft} on the CPU",
                default_allow_soft_placement=False,
                session_gpu_request_hard="InvalidArgumentError: Cannot assign a device for operation Sum:",
                session_gpu_request_soft="ran",
            ),
            seen(
                "default freezes",
                "runtime",
                "in eager mode the getter returned {eager_soft_placement_default} unset; turned off after the first op, a GPU request then failed: `{soft_placement_off_after_start_error}`",
                eager_soft_placement_default=True,
                soft_placement_off_after_start_error="InvalidArgumentError: Could not satisfy device specification '/job:localhost/replica:0/task:0/device:GPU:0'",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.log_device_placement",
        kind=Kind.PROTO_FIELD,
        summary="Logs the device each op is placed on.",
        type="bool",
        default="false",
        resolution="False: no placement log.",
        read_when="In eager mode when the eager context starts (the first op); in a tf.compat.v1.Session when the session places its graph.",
        freezes=(
            "In eager mode at start-up, without any message: after the first op the setter raises nothing and the getter returns True, but no op is logged (run on 2.21.0). "
            "Call it before the first op."
        ),
        tf2_path="`tf.debugging.set_log_device_placement(enabled)`",
        related=("ConfigProto.allow_soft_placement",),
        source=EAGER_CONTEXT_FILE,
        message=CONFIG_PROTO,
        field_number=8,
        notes="It shows devices, not threads; it cannot tell which pool ran an op.",
        facts=(
            seen(
                "default resolution read_when notes",
                "runtime",
                "unset no op was logged ({placement_logged_by_default}); set before the first op, it logged `{placement_log_line}`",
                eager_log_device_placement_default=False,
                placement_logged_by_default=False,
                placement_log_line="Executing op Sum in device /job:localhost/replica:0/task:0/device:CPU:0",
            ),
            seen(
                "freezes",
                "runtime",
                "set after the first op, the getter returned {log_device_placement_after_start_getter} and nothing was logged ({placement_logged_after_start})",
                log_device_placement_after_start_getter=True,
                log_device_placement_after_start_error="",
                placement_logged_after_start=False,
            ),
            seen(
                "default",
                "sessions",
                "in a ConfigProto it was {default_log_device_placement} unset",
                default_log_device_placement=False,
            ),
        ),
    ),
    Setting(
        name="ConfigProto.placement_period",
        kind=Kind.PROTO_FIELD,
        summary="Legacy field asking for placement to be recomputed every N steps.",
        type="int32",
        default="0",
        resolution="No effect known in current TensorFlow.",
        read_when="Not known to be read.",
        freezes="Not applicable.",
        tf2_path=ONLY_COMPAT_V1,
        related=("ConfigProto.allow_soft_placement",),
        source=CONFIG_PROTO_FILE,
        message=CONFIG_PROTO,
        field_number=3,
        notes="Listed because its name looks relevant; it does not change threading.",
        facts=(
            seen(
                "default resolution read_when freezes notes",
                "sessions",
                "unset it was {default_placement_period}; a first session with it at 1 started {session_new_threads_placement_period_1} threads, as one without it ({session_new_threads_default}), and ran its step",
                default_placement_period=0,
                session_new_threads_placement_period_1="{session_new_threads_default}",
            ),
        ),
    ),
    Setting(
        name="ConfigProto.device_filters",
        kind=Kind.PROTO_FIELD,
        summary="Device name patterns by which a distributed session ignores devices that match none of them.",
        type="repeated string",
        default="empty (no filtering)",
        resolution=(
            "Empty: every device is usable. "
            "A local tf.compat.v1.Session ignores the filters: on 2.21.0 a session with two CPU devices filtered to CPU:0 still listed CPU:1 and ran an op there."
        ),
        read_when="When a session on a `tf.distribute.Server` cluster finds its devices.",
        freezes="Fixed for the lifetime of the session; create a new session to change it.",
        tf2_path=ONLY_COMPAT_V1,
        related=("ConfigProto.device_count",),
        source=CONFIG_PROTO_FILE,
        message=CONFIG_PROTO,
        field_number=4,
        notes="In TF2, tf.config.set_visible_devices is the closest equivalent; it also works for a single process, where device_filters does nothing.",
        facts=(
            seen(
                "default resolution notes",
                "sessions",
                "unset the list was empty ({default_device_filters}); a local session with two CPU devices filtered to CPU:0 listed {session_filtered_to_cpu0_devices} devices and ran an op on CPU:1 (result {session_filtered_ran_on_cpu1})",
                default_device_filters=0,
                session_filtered_to_cpu0_devices=2,
                session_filtered_ran_on_cpu1=4.0,
            ),
            cite(
                CONFIG_PROTO_FILE,
                "read_when freezes",
                why="needs a cluster of several tasks: a local session ignores the field (observed above)",
            ),
        ),
    ),
)
