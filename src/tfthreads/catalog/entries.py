"""The entries of :data:`tfthreads.catalog.CATALOG`, as MyST text.

Facts marked with a version were checked against that version: proto numbers and types
against the descriptors of TensorFlow 2.21.0, Python-level behaviour by reading the
installed 2.21.0 wheel and by running small scripts in a subprocess, and the Serving
flags by reading TF Serving 2.20.0 (the newest tag available). C++ files that could not
be read at a release tag are cited at the commit that was read (never a branch).

Each entry's ``facts`` back its prose: an :class:`~tfthreads.catalog.facts.Observed`
fact names a probe of :mod:`tfthreads.catalog.probes` that the documentation build runs
and the values the claim implies (a contradiction fails the build); a
:class:`~tfthreads.catalog.facts.Cited` fact names the pinned source file, for what a CPU
machine cannot show.

Which ``ConfigProto.Experimental`` fields are listed: those that change which thread
runs a kernel or how pool threads wait (``executor_type``, ``use_numa_affinity``,
``disable_thread_spinning``, ``use_tfrt``, ``disable_eager_executor_streaming_enqueue``).
Left out: collective, XLA/MLIR-bridge, TPU/multi-host and session-metadata fields,
which change what is compiled or communicated, not how CPU pools schedule work.
"""

from __future__ import annotations

import dataclasses

from tfthreads.catalog.facts import FACT_FIELDS, Cited, Fact, Observed
from tfthreads.catalog.model import ONLY_COMPAT_V1, Kind, Setting

__all__ = ["build_entries"]

_PROTO = "tensorflow/core/protobuf/config.proto (v2.21.0)"
_CONTEXT = "tensorflow/python/eager/context.py (v2.21.0)"
_CONFIG_PY = "tensorflow/python/framework/config.py (v2.21.0)"
_DATA_OPTIONS = "tensorflow/python/data/ops/options.py (v2.21.0)"
_SERVING = "tensorflow_serving/model_servers/server.cc (TF Serving 2.20.0)"
#: The tensorflow/serving commit the Serving flags were read at.
_SERVING_COMMIT = "9d981c5c2708d23c5407c7c1e30309e6f9798874"


#: Commits at which C++ files were read (the content at that commit, not a branch).
_COMMITS = {
    "tensorflow/core/common_runtime/local_device.cc": "0116762459d932c2afb979b14ebade335c8c511f",
    "tensorflow/core/common_runtime/process_util.cc": "010f3edcdc25a44755a4fc439a31be2282e9e9db",
    "tensorflow/core/util/port.cc": "08df8c40b4376ed012fa3ba03ff3e3068d8d2a94",
    "tensorflow/core/common_runtime/direct_session.cc": "4a4eb47e61d57132b20e3c0ca31c2ba12d115de4",
    "tensorflow/core/common_runtime/threadpool_device_factory.cc": (
        "4be680765af82d191b38717dd721ad6602a38069"
    ),
    "tensorflow/core/common_runtime/executor_factory.cc": (
        "8f12443ea4f1ab7bed536acb62306ea5a4c2b312"
    ),
    "tensorflow/core/common_runtime/gpu/gpu_device.cc": "637eae5b82bba256600fe421c8dc8c019e18162c",
    "tensorflow/core/data/root_dataset.cc": "f4cfddcecaef866f0968424577fd7fbf431d0113",
}


def _pinned(path: str) -> str:
    return f"{path} (commit {_COMMITS[path][:12]})"


def _cite(source: str, *fields: str) -> Cited:
    """Cite an entry's ``source`` for ``fields`` (all fact fields when none are named)."""
    path, _, version = source.partition(" (")
    if path in _COMMITS:
        ref = _COMMITS[path]
    elif version.startswith("v"):
        ref = version.rstrip(")")
    else:  # TF Serving, read at its 2.20.0 tag
        return Cited(fields or FACT_FIELDS, path, _SERVING_COMMIT, "tensorflow/serving")
    return Cited(fields or FACT_FIELDS, path, ref)


def _seen(fields: str, probe: str, shows: str, **expect: object) -> Observed:
    """Build an observed fact: ``fields`` is space-separated, ``expect`` maps probe keys to values."""
    return Observed(tuple(fields.split()), probe, tuple(expect.items()), shows)


def build_entries() -> tuple[Setting, ...]:
    """Build the catalog entries, each with the facts that back its prose.

    Returns
    -------
    tuple of Setting
        Every entry, grouped by subject (pools, sessions, placement, experimental,
        environment, ``tf.data``, TF Serving).
    """
    return tuple(_with_facts(setting) for setting in _entries())


def _with_facts(setting: Setting) -> Setting:
    """Attach the entry's observed facts, and cite its source for the fields left over."""
    observed = _OBSERVED.get(setting.name, ())
    seen = {field for fact in observed for field in fact.fields}
    rest = tuple(f for f in FACT_FIELDS if getattr(setting, f) and f not in seen)
    facts: tuple[Fact, ...] = (*observed, _cite(setting.source, *rest)) if rest else observed
    return dataclasses.replace(setting, facts=facts)


def _entries() -> tuple[Setting, ...]:
    proto, env, data, flag = (
        Kind.PROTO_FIELD,
        Kind.ENV_VAR,
        Kind.TF_DATA_OPTION,
        Kind.SERVING_FLAG,
    )
    cp, exp = "tensorflow.ConfigProto", "tensorflow.ConfigProto.Experimental"
    tpo, ro = "tensorflow.ThreadPoolOptionProto", "tensorflow.RunOptions"
    roe = "tensorflow.RunOptions.Experimental"
    intra, inter = (
        "ConfigProto.intra_op_parallelism_threads",
        "ConfigProto.inter_op_parallelism_threads",
    )
    cpus = "the number of CPUs in the process's affinity mask (sched_getaffinity)"
    abort = (
        "the setter accepts it, and the process then aborts when the runtime starts "
        "with `Check failed: num_threads >= 1` from threadpool.cc (run on 2.21.0)"
    )
    at_init = (
        "Read once, when the runtime starts: the first op, tf.config.list_logical_devices(), "
        "building a model, or the first tf.compat.v1.Session."
    )
    session_start = "When the tf.compat.v1.Session is created."
    fixed_per_session = "Fixed for the lifetime of the session; create a new session to change it."
    return (
        # ---------------------------------------------------------------- pools
        Setting(
            name=intra,
            kind=proto,
            summary="Number of threads one op (a matmul, a convolution) may split its work over.",
            type="int32",
            default="0 (TensorFlow picks)",
            resolution=(
                f"The value if > 0; if 0, TF_NUM_INTRAOP_THREADS if > 0; otherwise {cpus}. "
                "A container's CPU quota is not consulted. Negative: " + abort + ". "
                "Values of 2**31 or more are also accepted by the setter and raise "
                "`ValueError: Value out of range` at start-up."
            ),
            read_when=at_init,
            freezes=(
                "When the runtime starts; the pool is process-global and the first "
                "session or eager context sizes it. Afterwards the TF2 setter raises "
                "`RuntimeError: Intra op parallelism cannot be modified after "
                "initialization.` (any value other than the one last set, even 0)."
            ),
            tf2_path="`tf.config.threading.set_intra_op_parallelism_threads(n)`",
            related=(
                "TF_NUM_INTRAOP_THREADS",
                inter,
                "TF_OVERRIDE_GLOBAL_THREADPOOL",
                "--tensorflow_intra_op_parallelism",
            ),
            source=_pinned("tensorflow/core/common_runtime/local_device.cc"),
            message=cp,
            field_number=2,
            notes=(
                "tf.config.threading.get_intra_op_parallelism_threads() returns the "
                "configured value (0 when unset), not the real pool size. All CPU devices "
                "and sessions share one pool unless TF_OVERRIDE_GLOBAL_THREADPOOL is set."
            ),
        ),
        Setting(
            name=inter,
            kind=proto,
            summary="Number of threads that run independent ops of a graph at the same time.",
            type="int32",
            default="0 (TensorFlow picks)",
            resolution=(
                f"The value if > 0; if 0, TF_NUM_INTEROP_THREADS if > 0; otherwise {cpus} "
                "(not 2). Negative: in eager mode the default size is used; in a "
                "tf.compat.v1.Session it asks to run a step in the caller's thread, which "
                "only happens when the step has a single executor; in a "
                "`tf.distribute.Server` the compute pool gets the value as is and the "
                "process aborts with `Check failed: num_threads >= 1`."
            ),
            read_when=at_init,
            freezes=(
                "When the eager context or the first session starts. Afterwards the TF2 "
                "setter raises `RuntimeError: Inter op parallelism cannot be modified "
                "after initialization.`."
            ),
            tf2_path="`tf.config.threading.set_inter_op_parallelism_threads(n)`",
            related=(
                "TF_NUM_INTEROP_THREADS",
                intra,
                "ConfigProto.use_per_session_threads",
                "ConfigProto.session_inter_op_thread_pool",
                "--tensorflow_inter_op_parallelism",
            ),
            source=_pinned("tensorflow/core/common_runtime/process_util.cc"),
            message=cp,
            field_number=5,
            notes=(
                "The threads are named tf_Compute in 2.21 (visible in `/proc/<pid>/task/*/comm`). "
                "With defaults, a process gets about two threads per CPU: one intra-op and "
                "one inter-op pool, each as large as the CPU count."
            ),
        ),
        Setting(
            name="ConfigProto.use_per_session_threads",
            kind=proto,
            summary="Gives each session its own inter-op pool instead of the process-wide one.",
            type="bool",
            default="false",
            resolution=(
                "When true (and session_inter_op_thread_pool is empty), the session creates "
                "a private pool sized like inter_op_parallelism_threads; the intra-op pool "
                "stays shared."
            ),
            read_when=session_start,
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=(inter, "ConfigProto.session_inter_op_thread_pool"),
            source=_pinned("tensorflow/core/common_runtime/direct_session.cc"),
            message=cp,
            field_number=9,
            deprecated=True,
            notes=(
                "config.proto's comment calls it deprecated in favour of a one-element "
                "session_inter_op_thread_pool; the descriptor carries no deprecated flag."
            ),
        ),
        Setting(
            name="ConfigProto.session_inter_op_thread_pool",
            kind=proto,
            summary="List of inter-op pools a session creates; each Session.run picks one by index.",
            type="repeated ThreadPoolOptionProto",
            default="empty (use the process-wide inter-op pool)",
            resolution=(
                "One pool per element, named tf_Compute0, tf_Compute1, ...; an element with "
                "num_threads 0 gets the default inter-op size (run on 2.21.0). "
                "RunOptions.inter_op_thread_pool chooses the pool for a step."
            ),
            read_when=session_start,
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=(
                "ThreadPoolOptionProto.num_threads",
                "ThreadPoolOptionProto.global_name",
                "RunOptions.inter_op_thread_pool",
            ),
            source=_pinned("tensorflow/core/common_runtime/direct_session.cc"),
            message=cp,
            field_number=12,
            notes="It bounds how many ops run at once, not how many threads one op uses.",
        ),
        Setting(
            name="ThreadPoolOptionProto.num_threads",
            kind=proto,
            summary="Size of one pool listed in session_inter_op_thread_pool.",
            type="int32",
            default="0 (TensorFlow picks)",
            resolution="0 gives the default inter-op size (config, then TF_NUM_INTEROP_THREADS, "
            "then the CPU count).",
            read_when=session_start,
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=(
                "ConfigProto.session_inter_op_thread_pool",
                "ThreadPoolOptionProto.global_name",
            ),
            source=_pinned("tensorflow/core/common_runtime/direct_session.cc"),
            message=tpo,
            field_number=1,
        ),
        Setting(
            name="ThreadPoolOptionProto.global_name",
            kind=proto,
            summary="Name under which a session pool is shared process-wide with other sessions.",
            type="string",
            default='"" (the pool belongs to the session)',
            resolution=(
                "Non-empty: the first session that uses the name creates the pool; later "
                "sessions with the same name reuse it. Such pools are never freed."
            ),
            read_when=session_start,
            freezes="When the first session using the name creates the pool; it lives until "
            "the process exits.",
            tf2_path=ONLY_COMPAT_V1,
            related=(
                "ConfigProto.session_inter_op_thread_pool",
                "ThreadPoolOptionProto.num_threads",
            ),
            source=_pinned("tensorflow/core/common_runtime/direct_session.cc"),
            message=tpo,
            field_number=2,
            notes=(
                "The C++ code has a 'configured previously with num_threads=...' error, but "
                "on 2.21.0 a second tf.compat.v1.Session asking for another size under the "
                "same name raised nothing, created no threads and ran its steps on the "
                "calling thread: the mistake silently costs the session its inter-op pool."
            ),
        ),
        Setting(
            name="RunOptions.inter_op_thread_pool",
            kind=proto,
            summary="Index of the session_inter_op_thread_pool entry that runs this step.",
            type="int32",
            default="0 (the first pool)",
            resolution=(
                "-1 asks to run in the caller's thread (only honoured for single-executor "
                "steps). An index past the end fails with `InvalidArgumentError: Invalid "
                "inter_op_thread_pool: N` (run on 2.21.0)."
            ),
            read_when="On every Session.run call that passes these RunOptions.",
            freezes="Never; each run call can choose again.",
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.session_inter_op_thread_pool", inter),
            source=_pinned("tensorflow/core/common_runtime/direct_session.cc"),
            message=ro,
            field_number=3,
        ),
        # ------------------------------------------------------------- sessions
        Setting(
            name="ConfigProto.operation_timeout_in_ms",
            kind=proto,
            summary="Deadline for blocking operations such as queue dequeues in a session.",
            type="int64",
            default="0 (no timeout)",
            resolution=(
                "0: no deadline. Positive: a step that waits longer fails with "
                "DeadlineExceededError (run on 2.21.0: 'Timed out waiting for notification'). "
                "A per-run RunOptions.timeout_in_ms overrides it."
            ),
            read_when="When the session (or the eager context) is created.",
            freezes=(
                "Fixed per session. In eager mode the internal setter raises "
                "`RuntimeError: Operation timeout cannot be modified after initialization.`."
            ),
            tf2_path="No public API (internal: context.context().operation_timeout_in_ms).",
            related=("ConfigProto.isolate_session_state",),
            source=_CONTEXT,
            message=cp,
            field_number=11,
        ),
        Setting(
            name="ConfigProto.isolate_session_state",
            kind=proto,
            summary="Keeps variables and other resources of a session invisible to other sessions.",
            type="bool",
            default="false",
            resolution="False: sessions on the same server share resource containers.",
            read_when=session_start,
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.share_cluster_devices_in_session",),
            source=_PROTO,
            message=cp,
            field_number=15,
            notes="It has no effect on threads or pools.",
        ),
        Setting(
            name="ConfigProto.share_cluster_devices_in_session",
            kind=proto,
            summary="Lets a worker session see the devices of the whole cluster.",
            type="bool",
            default="false",
            resolution="False: a worker session sees only its own task's devices.",
            read_when="When a distributed session is created.",
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.isolate_session_state",),
            source=_PROTO,
            message=cp,
            field_number=17,
            notes=(
                "Distributed sessions only; no effect on threads. ConfigProto.Experimental "
                "has an older field of the same name (number 10)."
            ),
        ),
        # ------------------------------------------------------------ placement
        Setting(
            name="ConfigProto.device_count",
            kind=proto,
            summary='Maximum number of devices of each type ("CPU", "GPU") a session creates.',
            type="map<string, int32>",
            default="empty (one CPU device and every visible GPU)",
            resolution=(
                "A type missing from the map gets TensorFlow's choice; 0 hides that type; "
                "CPU > 1 creates that many CPU devices."
            ),
            read_when="When the devices are created: the first session or the eager context.",
            freezes=(
                "At start-up. The TF2 equivalents then raise `RuntimeError: Virtual devices "
                "cannot be modified after being initialized` or `RuntimeError: Visible "
                "devices cannot be modified after being initialized`."
            ),
            tf2_path=(
                "CPU: `tf.config.set_logical_device_configuration(cpu, "
                "[tf.config.LogicalDeviceConfiguration()] * n)`; "
                "GPU: `tf.config.set_visible_devices(gpus, 'GPU')`."
            ),
            related=(intra, "TF_OVERRIDE_GLOBAL_THREADPOOL", "ConfigProto.device_filters"),
            source=_CONTEXT,
            message=cp,
            field_number=1,
            notes=(
                "It does not limit threads: on 2.21.0 a session with CPU=4 had four CPU "
                "devices sharing one intra-op pool. A memory_limit on a logical CPU raises "
                "`ValueError: Setting memory limit on CPU virtual devices is currently not "
                "supported`."
            ),
        ),
        Setting(
            name="ConfigProto.allow_soft_placement",
            kind=proto,
            summary="Lets TensorFlow move an op to the CPU when the requested device cannot run it.",
            type="bool",
            default="false in a Session; true in eager mode unless set",
            resolution="False: an impossible device request is an error.",
            read_when="When ops are placed (each graph or function placement).",
            freezes="Never in TF2: the setter works after start-up.",
            tf2_path="`tf.config.set_soft_device_placement(enabled)`",
            related=("ConfigProto.log_device_placement",),
            source=_CONTEXT,
            message=cp,
            field_number=7,
            notes=(
                "It is device fallback, not a GPU memory setting (that is "
                "tf.config.experimental.set_memory_growth)."
            ),
        ),
        Setting(
            name="ConfigProto.log_device_placement",
            kind=proto,
            summary="Logs the device each op is placed on.",
            type="bool",
            default="false",
            resolution="False: no placement log.",
            read_when="When ops are placed or executed.",
            freezes="Never in TF2: the setter works after start-up.",
            tf2_path="`tf.debugging.set_log_device_placement(enabled)`",
            related=("ConfigProto.allow_soft_placement",),
            source=_CONTEXT,
            message=cp,
            field_number=8,
            notes="It shows devices, not threads; it cannot tell which pool ran an op.",
        ),
        Setting(
            name="ConfigProto.placement_period",
            kind=proto,
            summary="Legacy field asking for placement to be recomputed every N steps.",
            type="int32",
            default="0",
            resolution="No effect known in current TensorFlow.",
            read_when="Not known to be read.",
            freezes="Not applicable.",
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.allow_soft_placement",),
            source=_PROTO,
            message=cp,
            field_number=3,
            notes="Listed because its name looks relevant; it does not change threading.",
        ),
        Setting(
            name="ConfigProto.device_filters",
            kind=proto,
            summary="Device name patterns; a session ignores devices that match none of them.",
            type="repeated string",
            default="empty (no filtering)",
            resolution="Empty: every device is usable.",
            read_when=session_start,
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.device_count",),
            source=_PROTO,
            message=cp,
            field_number=4,
            notes="In TF2, tf.config.set_visible_devices is the closest equivalent.",
        ),
        # --------------------------------------------------------- experimental
        Setting(
            name="ConfigProto.Experimental.use_numa_affinity",
            kind=proto,
            summary="Asks for one intra-op pool per NUMA node, with CPU devices assigned to nodes.",
            type="bool",
            default="false",
            resolution="False: one pool for the whole process.",
            read_when="When the CPU devices are created.",
            freezes="At start-up, like the intra-op pool.",
            tf2_path=ONLY_COMPAT_V1,
            related=(intra, "ConfigProto.device_count"),
            source=_pinned("tensorflow/core/common_runtime/threadpool_device_factory.cc"),
            message=exp,
            field_number=5,
            notes=(
                "Despite the proto comment, it does not create one CPU device per node by "
                "itself; the device count still comes from device_count."
            ),
        ),
        Setting(
            name="ConfigProto.Experimental.disable_thread_spinning",
            kind=proto,
            summary="Makes idle pool threads sleep at once instead of spinning while waiting.",
            type="bool",
            default="false (threads spin briefly)",
            resolution="True: lower idle CPU use, higher wake-up latency.",
            read_when="When a pool it applies to is created.",
            freezes="Only pools created after it is set are affected; the shared intra-op "
            "pool keeps the setting of whoever created it.",
            tf2_path=ONLY_COMPAT_V1,
            related=(intra, "KMP_BLOCKTIME"),
            source=_pinned("tensorflow/core/common_runtime/local_device.cc"),
            message=exp,
            field_number=9,
        ),
        Setting(
            name="ConfigProto.Experimental.executor_type",
            kind=proto,
            summary="Chooses the graph executor, which decides how ops are handed to threads.",
            type="string",
            default='"" (the default executor)',
            resolution=(
                '"" or "DEFAULT": the standard executor; "SINGLE_THREADED_EXECUTOR": the '
                "step's ops run one after another on the calling thread, none on the "
                "inter-op pool, but each kernel still splits its work over the intra-op "
                "pool. Unknown names fail with "
                "`NotFoundError: No executor factory registered for the given executor "
                "type: ...` (run on 2.21.0)."
            ),
            read_when="When the session builds executors for a step.",
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=(inter, "ConfigProto.Experimental.use_tfrt"),
            source=_pinned("tensorflow/core/common_runtime/executor_factory.cc"),
            message=exp,
            field_number=3,
        ),
        Setting(
            name="ConfigProto.Experimental.use_tfrt",
            kind=proto,
            summary="Asks for the TFRT runtime instead of the classic session.",
            type="bool",
            default="false",
            resolution=(
                "True in a tf.compat.v1.Session on the 2.21.0 pip wheel fails with "
                "`NotFoundError: No session factory registered for the given session "
                "options` (only GRPC_SESSION and DIRECT_SESSION are registered)."
            ),
            read_when=session_start,
            freezes=(
                "Fixed per session; the internal eager flag raises `ValueError: use_tfrt "
                "should be set before being initialized.`."
            ),
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.Experimental.executor_type",),
            source=_CONTEXT,
            message=exp,
            field_number=18,
        ),
        Setting(
            name="ConfigProto.Experimental.disable_eager_executor_streaming_enqueue",
            kind=proto,
            summary="Turns off streaming enqueue in the eager executor, allowing parallel execution.",
            type="bool",
            default="false",
            resolution="False: the eager executor's default streaming behaviour.",
            read_when="When the eager context is created.",
            freezes="At start-up of the eager context.",
            tf2_path=(
                "No public TF2 setter: pass a ConfigProto with it to "
                "`tf.compat.v1.enable_eager_execution(config=...)` before the eager context "
                "starts."
            ),
            related=(inter,),
            source=_PROTO,
            message=exp,
            field_number=26,
            notes=(
                "Reachable in TF2 only by passing a ConfigProto, e.g. "
                "tf.compat.v1.enable_eager_execution(config=...); effect not measured here."
            ),
        ),
        Setting(
            name="RunOptions.Experimental.use_run_handler_pool",
            kind=proto,
            summary="Schedules the inter-op work of all Session.run calls through one central pool.",
            type="bool",
            default="false",
            resolution="False: each step uses its session's inter-op pool.",
            read_when="On every Session.run call that passes these RunOptions.",
            freezes="Never; chosen per run call. The run-handler pool's threads, once started, "
            "stay for the life of the process.",
            tf2_path=ONLY_COMPAT_V1,
            related=("RunOptions.Experimental.run_handler_pool_options", inter),
            source=_pinned("tensorflow/core/common_runtime/direct_session.cc"),
            message=roe,
            field_number=2,
            notes=(
                "Meant for CPU-bound inference with many concurrent requests; on 2.21.0 the "
                "first such run started extra (unnamed) threads."
            ),
        ),
        Setting(
            name="RunOptions.Experimental.run_handler_pool_options",
            kind=proto,
            summary="Per-request options for the run-handler pool: currently a priority.",
            type="RunHandlerPoolOptions",
            default="unset (priority 0)",
            resolution="Used only when use_run_handler_pool is true.",
            read_when="On every Session.run call that passes these RunOptions.",
            freezes="Never; chosen per run call.",
            tf2_path=ONLY_COMPAT_V1,
            related=("RunOptions.Experimental.use_run_handler_pool",),
            source=_PROTO,
            message=roe,
            field_number=3,
        ),
        # ---------------------------------------------------------- environment
        Setting(
            name="TF_NUM_INTRAOP_THREADS",
            kind=env,
            summary="Default intra-op pool size when the config leaves it at 0.",
            type="integer",
            default="unset",
            resolution=(
                "Used only when intra_op_parallelism_threads is 0; > 0 sets the size; "
                f"unset or 0 falls back to {cpus}; negative aborts the process at start-up "
                "(run on 2.21.0)."
            ),
            read_when="Once, when the first CPU device is created; setting os.environ after "
            "importing TensorFlow but before the first op works (run on 2.21.0).",
            freezes="After the first read; later changes are ignored without any message.",
            tf2_path="`tf.config.threading.set_intra_op_parallelism_threads(n)`",
            related=(intra, "TF_NUM_INTEROP_THREADS"),
            source=_pinned("tensorflow/core/common_runtime/local_device.cc"),
            notes="The config value wins over it (run on 2.21.0).",
        ),
        Setting(
            name="TF_NUM_INTEROP_THREADS",
            kind=env,
            summary="Default inter-op pool size when the config leaves it at 0.",
            type="integer",
            default="unset",
            resolution=(
                f"Used only when inter_op_parallelism_threads is 0; > 0 sets the size; "
                f"unset or 0 falls back to {cpus}. Negative: the eager pool gets the "
                "default size (run on 2.21.0); a Session may run steps in the caller's "
                "thread."
            ),
            read_when="When the eager context or the first session creates its inter-op pool.",
            freezes="After the pool exists; later changes are ignored without any message.",
            tf2_path="`tf.config.threading.set_inter_op_parallelism_threads(n)`",
            related=(inter, "TF_NUM_INTRAOP_THREADS"),
            source=_pinned("tensorflow/core/common_runtime/process_util.cc"),
        ),
        Setting(
            name="TF_OVERRIDE_GLOBAL_THREADPOOL",
            kind=env,
            summary="Gives every CPU device its own intra-op pool instead of one shared pool.",
            type="boolean (true/false/1/0)",
            default="unset (false)",
            resolution=(
                "True: each CPU device gets a pool of intra_op_parallelism_threads threads; "
                "on 2.21.0 three logical CPUs with intra=2 gave 6 pool threads instead of 2."
            ),
            read_when="When the CPU devices are created.",
            freezes="At start-up.",
            tf2_path="No TF2 API; set the variable before TensorFlow starts.",
            related=(intra, "ConfigProto.device_count"),
            source=_pinned("tensorflow/core/common_runtime/local_device.cc"),
        ),
        Setting(
            name="TF_ENABLE_ONEDNN_OPTS",
            kind=env,
            summary="Turns TensorFlow's oneDNN-optimized CPU kernels on or off.",
            type="boolean (true/false/1/0)",
            default="unset: on Linux, on for x86 CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI "
            "or AMX (TILE, INT8 or BF16) and for Arm Neoverse V1, off otherwise; on for "
            "Windows on x86; off on other systems and in builds without oneDNN",
            resolution=(
                "1: on, and TensorFlow logs 'oneDNN custom operations are on' at import; "
                "0: off. On a 2.21.0 wheel on a CPU without those features it was off by "
                "default and 1 turned it on."
            ),
            read_when="At import of tensorflow.",
            freezes="At import; set it before importing TensorFlow.",
            tf2_path="No TF2 API; set the variable before importing TensorFlow.",
            related=("OMP_NUM_THREADS", intra),
            source=_pinned("tensorflow/core/util/port.cc"),
            notes="In the pip wheel oneDNN runs on the intra-op pool, so intra-op settings "
            "size it; it does not start an OpenMP pool.",
        ),
        Setting(
            name="OMP_NUM_THREADS",
            kind=env,
            summary="OpenMP thread count; sizes no TensorFlow pool in the stock pip wheel.",
            type="integer",
            default="unset",
            resolution=(
                "Ignored by the stock pip wheel's pools: on 2.21.0 setting it to 1 changed "
                "only NumPy's OpenBLAS thread. Only TensorFlow builds that use OpenMP "
                "(e.g. --config=mkl) read it for oneDNN and inter-op sizing."
            ),
            read_when="Never by the stock wheel's pools; by OpenMP-using libraries at load.",
            freezes="Not applicable to the stock wheel.",
            tf2_path="No TF2 API; use `tf.config.threading` instead.",
            related=("TF_ENABLE_ONEDNN_OPTS", "KMP_BLOCKTIME", "KMP_AFFINITY", intra),
            source=_pinned("tensorflow/core/common_runtime/process_util.cc"),
            effective_in_stock_wheel=False,
            notes="A common tuning-guide myth: guides written for Intel's OpenMP builds "
            "do not apply to the pip wheel.",
        ),
        Setting(
            name="KMP_BLOCKTIME",
            kind=env,
            summary="Intel OpenMP spin time before a thread sleeps; ignored by the stock pip wheel.",
            type="integer (milliseconds)",
            default="unset",
            resolution="The stock wheel does not use Intel OpenMP; TensorFlow's main shared "
            "libraries do not contain the name (checked on 2.21.0).",
            read_when="Never by the stock wheel.",
            freezes="Not applicable to the stock wheel.",
            tf2_path="No TF2 API; ConfigProto.Experimental.disable_thread_spinning is the "
            "closest TensorFlow setting.",
            related=(
                "OMP_NUM_THREADS",
                "KMP_AFFINITY",
                "ConfigProto.Experimental.disable_thread_spinning",
            ),
            source="Intel OpenMP runtime (not TensorFlow)",
            effective_in_stock_wheel=False,
        ),
        Setting(
            name="KMP_AFFINITY",
            kind=env,
            summary="Intel OpenMP thread pinning; ignored by the stock pip wheel.",
            type="string",
            default="unset",
            resolution="The stock wheel does not use Intel OpenMP; TensorFlow's main shared "
            "libraries do not contain the name (checked on 2.21.0).",
            read_when="Never by the stock wheel.",
            freezes="Not applicable to the stock wheel.",
            tf2_path="No TF2 API; pin the process with `taskset` or `numactl` instead.",
            related=("OMP_NUM_THREADS", "KMP_BLOCKTIME"),
            source="Intel OpenMP runtime (not TensorFlow)",
            effective_in_stock_wheel=False,
            notes="The pool sizes follow the affinity mask, so taskset changes them.",
        ),
        Setting(
            name="TF_GPU_THREAD_MODE",
            kind=env,
            summary="How host threads that launch GPU work are organized: global, gpu_private "
            "or gpu_shared.",
            type="string",
            default="unset (global)",
            resolution="gpu_private: a dedicated pool per GPU; gpu_shared: one dedicated pool "
            "for all GPUs.",
            read_when="When the GPU devices are created.",
            freezes="At start-up.",
            tf2_path="No TF2 API; set the variable before TensorFlow starts.",
            related=("TF_GPU_THREAD_COUNT", inter),
            source=_pinned("tensorflow/core/common_runtime/gpu/gpu_device.cc"),
            notes="No effect on a CPU-only machine; not run-checked here (no GPU).",
        ),
        Setting(
            name="TF_GPU_THREAD_COUNT",
            kind=env,
            summary="Threads per dedicated GPU host pool when TF_GPU_THREAD_MODE is not global.",
            type="integer",
            default="unset (2)",
            resolution="Used only with gpu_private or gpu_shared.",
            read_when="When the GPU devices are created.",
            freezes="At start-up.",
            tf2_path="No TF2 API; set the variable before TensorFlow starts.",
            related=("TF_GPU_THREAD_MODE",),
            source=_pinned("tensorflow/core/common_runtime/gpu/gpu_device.cc"),
            notes="No effect on a CPU-only machine; not run-checked here (no GPU).",
        ),
        # -------------------------------------------------------------- tf.data
        Setting(
            name="tf.data.Options.threading.private_threadpool_size",
            kind=data,
            summary="Gives a tf.data pipeline its own thread pool of this size.",
            type="integer",
            default="None (a private pool of one thread per schedulable CPU for every iterator)",
            resolution=(
                "None or 0: each iterator gets a private pool with one thread per "
                "schedulable CPU; n > 0: a private pool of n threads. Negative: no private "
                "pool, so the pipeline runs on the runner of the op that iterates it (the "
                "inter-op pool). A non-integer raises TypeError."
            ),
            read_when="When the dataset is iterated (an iterator is created).",
            freezes="Per iterator; apply new options with dataset.with_options(...).",
            tf2_path="`options.threading.private_threadpool_size = n`",
            # Not the inter-op pool: by default the private pool is a pool of its own.
            related=(
                "tf.data.Options.threading.max_intra_op_parallelism",
                "tf.data.Options.autotune.cpu_budget",
            ),
            source=_DATA_OPTIONS,
        ),
        Setting(
            name="tf.data.Options.threading.max_intra_op_parallelism",
            kind=data,
            summary="Caps how many threads one op inside a tf.data function may use.",
            type="integer",
            default="None (1: ops inside dataset functions do not split their work)",
            resolution=(
                "None or 1: an op inside a dataset function runs on the one thread that "
                "calls it; n > 1 lets it split over up to n threads of the intra-op pool. "
                "oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS`) split on their own terms, "
                "whatever the option says."
            ),
            read_when="When the dataset is iterated (an iterator is created).",
            freezes="Per iterator; apply new options with dataset.with_options(...).",
            tf2_path="`options.threading.max_intra_op_parallelism = n`",
            related=(
                "tf.data.Options.threading.private_threadpool_size",
                intra,
                "TF_ENABLE_ONEDNN_OPTS",
            ),
            source=_DATA_OPTIONS,
            notes="It limits work inside one op, not how many elements are processed in "
            "parallel (that is num_parallel_calls).",
        ),
        Setting(
            name="tf.data.Options.autotune.cpu_budget",
            kind=data,
            summary="Number of CPU cores tf.data's autotuner assumes it may use.",
            type="integer",
            default="None (the number of schedulable CPU cores)",
            resolution="None: schedulable CPU cores (the affinity mask); larger values are "
            "allowed but may oversubscribe.",
            read_when="When the dataset is iterated with autotuning on.",
            freezes="Per iterator; apply new options with dataset.with_options(...).",
            tf2_path="`options.autotune.cpu_budget = n`",
            related=("tf.data.Options.threading.private_threadpool_size",),
            source=_DATA_OPTIONS,
            notes="Like the pools, it does not follow a container's CPU quota, so set it "
            "explicitly under CPU limits.",
        ),
        # -------------------------------------------------------------- serving
        Setting(
            name="--tensorflow_intra_op_parallelism",
            kind=flag,
            summary="TF Serving's intra-op pool size for the models it loads.",
            type="integer (int64)",
            default="0 (auto)",
            resolution=(
                "If > 0 (or the inter-op flag is > 0), both ConfigProto fields are taken from "
                "the two flags, so the one not given becomes 0 (auto). All three parallelism "
                "flags > 0 is an InvalidArgument error ('... You cannot configure all.')."
            ),
            read_when="At server start, when the session config is built.",
            freezes="For the life of the server; the first model loaded sizes the "
            "process-wide intra-op pool.",
            tf2_path="Not applicable (a tensorflow_model_server flag).",
            related=(
                intra,
                "--tensorflow_inter_op_parallelism",
                "--tensorflow_session_parallelism",
            ),
            source=_SERVING,
            notes="The flags overwrite thread fields read from --tensorflow_session_config_file, "
            "with 0 when not given.",
        ),
        Setting(
            name="--tensorflow_inter_op_parallelism",
            kind=flag,
            summary="TF Serving's inter-op pool size for the models it loads.",
            type="integer (int64)",
            default="0 (auto)",
            resolution=(
                "If > 0 (or the intra-op flag is > 0), both ConfigProto fields are taken from "
                "the two flags, so the one not given becomes 0 (auto)."
            ),
            read_when="At server start, when the session config is built.",
            freezes="For the life of the server.",
            tf2_path="Not applicable (a tensorflow_model_server flag).",
            related=(
                inter,
                "--tensorflow_intra_op_parallelism",
                "--tensorflow_session_parallelism",
            ),
            source=_SERVING,
        ),
        Setting(
            name="--tensorflow_session_parallelism",
            kind=flag,
            summary="TF Serving's single knob that sets both intra-op and inter-op pool sizes.",
            type="integer (int64)",
            default="0 (auto)",
            resolution=(
                "Used only when neither the intra-op nor the inter-op flag is > 0; then both "
                "ConfigProto fields get this value (0 = auto)."
            ),
            read_when="At server start, when the session config is built.",
            freezes="For the life of the server.",
            tf2_path="Not applicable (a tensorflow_model_server flag).",
            related=(
                intra,
                inter,
                "--tensorflow_intra_op_parallelism",
                "--tensorflow_inter_op_parallelism",
            ),
            source=_SERVING,
            notes="Its help text says it is ignored when --platform_config_file is given.",
        ),
    )


_INTRA_LATE = "RuntimeError: Intra op parallelism cannot be modified after initialization."
_INTER_LATE = "RuntimeError: Inter op parallelism cannot be modified after initialization."
_CHECK = "Check failed: num_threads >= 1 (-1 vs. 1)"
_OPENMP_UNUSED = _seen(
    "default resolution read_when freezes notes",
    "onednn",
    "a process started with `OMP_NUM_THREADS=1`, `KMP_BLOCKTIME=0` and `KMP_AFFINITY` set "
    "still got an intra-op pool of {omp_1_intra_op} and an inter-op pool of "
    "{omp_1_inter_op} threads ({cpus} CPUs)",
    omp_1_intra_op="{cpus}",
    omp_1_inter_op="{cpus}",
)

#: Observed facts by entry name. Every fact field these do not name is cited from the
#: entry's ``source`` by :func:`_with_facts`.
_OBSERVED: dict[str, tuple[Observed, ...]] = {
    "ConfigProto.intra_op_parallelism_threads": (
        _seen(
            "default resolution",
            "runtime",
            "with nothing set the intra-op pool had {default_intra_op} threads; with "
            "`TF_NUM_INTRAOP_THREADS=3`, {env_intra_op_3}; with the setter at 1 and the "
            "variable at 3, {config_1_over_env_3}; with -1 the process died with signal 6 "
            "and `{intra_op_negative_check}`",
            default_intra_op="{cpus}",
            env_intra_op_3=3,
            config_1_over_env_3=1,
            intra_op_negative_exit=-6,
            intra_op_negative_check=_CHECK,
        ),
        _seen(
            "freezes read_when",
            "runtime",
            "the setter called after the first op raised `{late_intra_op_error}`, "
            "also when asked for 0",
            late_intra_op_error=_INTRA_LATE,
            late_intra_op_zero_error=_INTRA_LATE,
        ),
        _seen(
            "notes",
            "runtime",
            "with nothing set, `get_intra_op_parallelism_threads()` returned "
            "{unset_getter} while the pool had {default_intra_op} threads",
            unset_getter=0,
        ),
    ),
    "ConfigProto.inter_op_parallelism_threads": (
        _seen(
            "default resolution notes",
            "runtime",
            "with nothing set the inter-op pool had {default_inter_op} `tf_Compute` threads "
            "and the intra-op pool {default_intra_op}; with `TF_NUM_INTEROP_THREADS=3`, "
            "{env_inter_op_3}; with the TF2 setter at -1, {inter_op_negative_eager}",
            default_inter_op="{cpus}",
            default_intra_op="{cpus}",
            env_inter_op_3=3,
            inter_op_negative_eager="{cpus}",
        ),
        _seen(
            "resolution",
            "sessions",
            "a `tf.compat.v1.Session` with -1 ran its steps (exit {session_inter_op_negative_exit}); "
            "a `tf.distribute.Server` with -1 died with signal 6 and "
            "`{server_inter_op_negative_check}`",
            session_inter_op_negative_exit=0,
            server_inter_op_negative_exit=-6,
            server_inter_op_negative_check=_CHECK,
        ),
        _seen(
            "freezes read_when",
            "runtime",
            "the setter called after the first op raised `{late_inter_op_error}`",
            late_inter_op_error=_INTER_LATE,
        ),
    ),
    "RunOptions.inter_op_thread_pool": (
        _seen(
            "resolution",
            "sessions",
            "a step run with index 3 and no session pools failed with "
            "`{pool_index_past_end_error}`",
            pool_index_past_end_error="InvalidArgumentError: Invalid inter_op_thread_pool: 3",
        ),
    ),
    "ConfigProto.Experimental.executor_type": (
        _seen(
            "resolution",
            "sessions",
            "with `SINGLE_THREADED_EXECUTOR` a matmul step kept the inter-op pool idle "
            "({single_threaded_inter_op_idle}) and split over the intra-op pool "
            "({single_threaded_ops_split}); an unknown name failed with "
            "`{unknown_executor_error}`",
            single_threaded_ops_split=True,
            single_threaded_inter_op_idle=True,
            unknown_executor_error=(
                "NotFoundError: No executor factory registered for the given executor "
                "type: NO_SUCH_EXECUTOR"
            ),
        ),
    ),
    "TF_NUM_INTRAOP_THREADS": (
        _seen(
            "resolution read_when",
            "runtime",
            "set in `os.environ` after `import tensorflow`, 3 gave an intra-op pool of "
            "{env_intra_op_3} threads and -1 killed the process with signal 6 and "
            "`{env_intra_op_negative_check}`",
            env_intra_op_3=3,
            env_intra_op_negative_exit=-6,
            env_intra_op_negative_check=_CHECK,
        ),
        _seen(
            "notes",
            "runtime",
            "with the variable at 3 and the setter at 1 the pool had {config_1_over_env_3} thread",
            config_1_over_env_3=1,
        ),
    ),
    "TF_NUM_INTEROP_THREADS": (
        _seen(
            "resolution read_when",
            "runtime",
            "set in `os.environ` after `import tensorflow`, 3 gave {env_inter_op_3} "
            "`tf_Compute` threads and -1 gave {env_inter_op_negative} ({cpus} CPUs)",
            env_inter_op_3=3,
            env_inter_op_negative="{cpus}",
        ),
    ),
    "TF_ENABLE_ONEDNN_OPTS": (
        _seen(
            "default",
            "onednn",
            "unset, oneDNN was on: {onednn_on_by_default}; this CPU has one of the "
            "features the Linux check tests: {cpu_has_onednn_feature}",
            onednn_on_by_default="{cpu_has_onednn_feature}",
        ),
    ),
    "OMP_NUM_THREADS": (_OPENMP_UNUSED,),
    "KMP_BLOCKTIME": (_OPENMP_UNUSED,),
    "KMP_AFFINITY": (_OPENMP_UNUSED,),
    "tf.data.Options.threading.private_threadpool_size": (
        _seen(
            "default resolution",
            "data_pipeline",
            "an iterator's private pool had {private_pool_default} threads with the "
            "default options (`{options_default_private_threadpool_size}`), "
            "{private_pool_0} with 0, {private_pool_1} with 1 and {private_pool_3} with 3; "
            "with -1 the iterator added {iterator_threads_negative} threads, none of a pool",
            private_pool_default="{cpus}",
            private_pool_0="{cpus}",
            private_pool_1=1,
            private_pool_3=3,
            options_default_private_threadpool_size="None",
        ),
    ),
    "tf.data.Options.threading.max_intra_op_parallelism": (
        _seen(
            "default resolution",
            "data_pipeline",
            "with oneDNN off, a matmul in a dataset function split over the intra-op pool: "
            "{ops_split_default} with the default "
            "(`{options_default_max_intra_op_parallelism}`), {ops_split_cap_1} with 1, "
            "{ops_split_cap_2} with 2",
            options_default_max_intra_op_parallelism="None",
            ops_split_default=False,
            ops_split_cap_1=False,
            ops_split_cap_2=True,
        ),
    ),
}
