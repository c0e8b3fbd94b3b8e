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
_SERVING_COMMIT = "bc7e9d2b9a419294c4526e293c2df8727b0d3116"  # the 2.20.0 tag


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
    """Attach the entry's facts, and cite its source for the fields left over.

    The leftover citation carries the entry's reason from :data:`_WHY_CITED`; an entry
    with leftover fields and no reason gets a citation without one, which
    :func:`tfthreads.catalog.observe.coverage` counts as backing nothing.
    """
    given = _FACTS.get(setting.name, ())
    seen = {field for fact in given for field in fact.fields}
    rest = tuple(f for f in FACT_FIELDS if getattr(setting, f) and f not in seen)
    if not rest:
        return dataclasses.replace(setting, facts=given)
    cited = _cite(setting.source, *rest)
    why = _WHY_CITED.get(setting.name, "")
    return dataclasses.replace(
        setting, facts=(*given, dataclasses.replace(cited, why_not_observed=why))
    )


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
                "one inter-op pool, each as large as the CPU count. Eager ops called one by "
                "one from Python run on the calling thread, not on this pool; the pool runs "
                "the independent ops of a graph, such as a `tf.function`, so its size "
                "matters for graphs and `tf.function`, not for a loop of eager ops."
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
                "A type missing from the map gets TensorFlow's choice; GPU 0 hides the GPUs; "
                "CPU > 1 creates that many CPU devices. CPU 0 does not hide the CPU: the "
                "session fails with `NotFoundError: No CPU devices are available in this "
                "process` (run on 2.21.0)."
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
            read_when="In eager mode when the eager context starts (the first op); in a "
            "tf.compat.v1.Session when the session places its graph.",
            freezes=(
                "In eager mode at start-up, without any message: after the first op the "
                "setter raises nothing and the getter returns True, but no op is logged "
                "(run on 2.21.0). Call it before the first op."
            ),
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
            summary="Device name patterns by which a distributed session ignores devices that "
            "match none of them.",
            type="repeated string",
            default="empty (no filtering)",
            resolution=(
                "Empty: every device is usable. A local tf.compat.v1.Session ignores the "
                "filters: on 2.21.0 a session with two CPU devices filtered to CPU:0 still "
                "listed CPU:1 and ran an op there."
            ),
            read_when="When a session on a `tf.distribute.Server` cluster finds its devices.",
            freezes=fixed_per_session,
            tf2_path=ONLY_COMPAT_V1,
            related=("ConfigProto.device_count",),
            source=_PROTO,
            message=cp,
            field_number=4,
            notes="In TF2, tf.config.set_visible_devices is the closest equivalent; it also "
            "works for a single process, where device_filters does nothing.",
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
                "No public TF2 setter: before the first op, call "
                "`tf.compat.v1.disable_eager_execution()` and then "
                "`tf.compat.v1.enable_eager_execution(config=...)` with a ConfigProto that "
                "sets it."
            ),
            related=(inter,),
            source=_PROTO,
            message=exp,
            field_number=26,
            notes=(
                "`tf.compat.v1.enable_eager_execution(config=...)` alone ignores its config "
                "while eager execution is already the default (TF2): the field reaches the "
                "eager context only after `tf.compat.v1.disable_eager_execution()`, and only "
                "before the first op (run on 2.21.0)."
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
            notes="No effect on a CPU-only machine: the CPU pools keep their sizes.",
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
            notes="No effect on a CPU-only machine: the CPU pools keep their sizes.",
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

_AT_SESSION_START = _seen(
    "read_when freezes",
    "sessions",
    "a session started its pools when it was created (a per-session pool of "
    "{per_session_new_inter_op} threads before any step); a pool added to its ConfigProto "
    "afterwards did not exist (`{session_pool_added_after_creation_error}`), and an "
    "executor type changed afterwards did not stop a step",
    per_session_new_inter_op=3,
    session_pool_added_after_creation_error="InvalidArgumentError: Invalid inter_op_thread_pool: 2",
    executor_changed_after_creation_ran="4.0",
)
_GPU_ENV_NO_EFFECT = _seen(
    "notes",
    "runtime",
    "with `TF_GPU_THREAD_MODE=gpu_private` and `TF_GPU_THREAD_COUNT=4` the pools had "
    "{gpu_thread_env_intra_op} intra-op and {gpu_thread_env_inter_op} inter-op threads, "
    "as with nothing set",
    gpu_thread_env_intra_op="{default_intra_op}",
    gpu_thread_env_inter_op="{default_inter_op}",
)

_NEEDS_SERVING = "needs the TF Serving binary (`tensorflow_model_server`), which no probe runs"
_NEEDS_GPU = "needs a GPU"

#: Why the fields of an entry that no fact of :data:`_FACTS` backs cannot be observed
#: on a CPU machine; they are cited from the entry's ``source``.
_WHY_CITED: dict[str, str] = {
    "ConfigProto.share_cluster_devices_in_session": (
        "needs a cluster of several tasks: it changes which devices the worker-side "
        "sessions of a distributed master see"
    ),
    "ConfigProto.device_filters": (
        "needs a cluster of several tasks: a local session ignores the field (observed above)"
    ),
    "ConfigProto.Experimental.use_numa_affinity": "needs a machine with several NUMA nodes",
    "ConfigProto.Experimental.disable_thread_spinning": (
        "the effect is idle CPU time of a few clock ticks (shown above as measured), too "
        "small to decide reliably on a shared build machine: a build must not fail on noise"
    ),
    "ConfigProto.Experimental.disable_eager_executor_streaming_enqueue": (
        "its effect is inside the eager executor's queue: no thread count or timing of a "
        "local CPU run shows it"
    ),
    "TF_GPU_THREAD_MODE": _NEEDS_GPU,
    "TF_GPU_THREAD_COUNT": _NEEDS_GPU,
    "tf.data.Options.autotune.cpu_budget": (
        "the budget enters only the autotuner's internal model: with a 16-thread private "
        "pool, budgets of 1, 8 and None all reached 16 concurrent calls, so no thread "
        "count shows it; a CPU quota needs a container"
    ),
    "--tensorflow_intra_op_parallelism": _NEEDS_SERVING,
    "--tensorflow_inter_op_parallelism": _NEEDS_SERVING,
    "--tensorflow_session_parallelism": _NEEDS_SERVING,
}

#: Facts by entry name: observed ones, and citations with a reason for the part of a
#: field a CPU machine cannot show. Every fact field these do not name is cited from
#: the entry's ``source`` by :func:`_with_facts`.
_FACTS: dict[str, tuple[Fact, ...]] = {
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
        _seen(
            "notes",
            "execution",
            "small independent ops (each a `tf.sin`, a multiply and a `tf.reduce_sum` of "
            "100 floats, 128 or more of them) called one by one from Python gave the "
            "inter-op pool {eager_ops_on_inter_op_share} of the process's CPU time and all "
            "the threads the runtime started {eager_ops_on_runtime_threads_share}, so the "
            "calling thread ran them (pool took part: {eager_ops_on_inter_op}; runtime "
            "threads took part: {eager_ops_on_runtime_threads}); the same ops in one "
            "`tf.function` gave the inter-op pool {function_ops_on_inter_op_share} of it "
            "(pool took part: {function_ops_on_inter_op})",
            eager_ops_on_inter_op=False,
            eager_ops_on_runtime_threads=False,
            function_ops_on_inter_op=True,
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
            single_threaded_ops_split="{several_cpus}",
            single_threaded_inter_op_idle=True,
            unknown_executor_error=(
                "NotFoundError: No executor factory registered for the given executor "
                "type: NO_SUCH_EXECUTOR"
            ),
        ),
        _seen(
            "default read_when",
            "sessions",
            "unset it was {default_executor_type}; with an unknown name the session was "
            "created ({unknown_executor_session_created}) and its first step failed with "
            "`{unknown_executor_run_error}`",
            default_executor_type="''",
            unknown_executor_session_created="ok",
            unknown_executor_run_error="NotFoundError",
        ),
        _AT_SESSION_START,
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
        _seen(
            "default freezes",
            "runtime",
            "unset, the intra-op pool had {default_intra_op} threads ({cpus} CPUs); set to 3 "
            "after the first op, a new session started {env_3_after_start_new_intra_op} "
            "intra-op threads and nothing was printed",
            default_intra_op="{cpus}",
            env_3_after_start_new_intra_op=0,
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
        _seen(
            "default freezes",
            "runtime",
            "unset, the inter-op pool had {default_inter_op} threads; set to 3 after the "
            "first op, a new session's own inter-op pool had "
            "{env_3_after_start_new_session_inter_op} threads",
            default_inter_op="{cpus}",
            env_3_after_start_new_session_inter_op="{cpus}",
        ),
    ),
    "TF_ENABLE_ONEDNN_OPTS": (
        _seen(
            "default read_when freezes",
            "runtime",
            "unset, oneDNN was on: {onednn_on_by_default}; this CPU has one of the "
            "features the Linux check tests: {cpu_has_onednn_feature}; changing the "
            "variable after `import tensorflow` left it as it was "
            "({onednn_unchanged_by_env_after_import})",
            onednn_on_by_default="{cpu_has_onednn_feature}",
            onednn_unchanged_by_env_after_import=True,
        ),
        Cited(
            ("default",),
            "tensorflow/core/util/port.cc",
            _COMMITS["tensorflow/core/util/port.cc"],
            why_not_observed="the default on Windows, macOS, Arm and CPUs without these "
            "features needs those systems",
        ),
        _seen(
            "resolution",
            "onednn",
            "started with 1, oneDNN was on ({onednn_on_with_1}) and the import logged "
            "'oneDNN custom operations are on' ({onednn_on_import_log_with_1})",
            onednn_on_with_1=True,
            onednn_on_import_log_with_1=True,
        ),
        _seen(
            "resolution",
            "data_pipeline",
            "started with 0, oneDNN was on: {onednn_on_with_0}",
            onednn_on_with_0=False,
        ),
        _seen(
            "notes",
            "onednn",
            "with oneDNN on, a 1000x1000 matmul started an intra-op pool of "
            "{omp_1_intra_op} threads ({cpus} CPUs), an inter-op pool of {omp_1_inter_op} "
            "and otherwise only `{onednn_matmul_other_threads}`: no OpenMP pool",
            omp_1_intra_op="{cpus}",
            omp_1_inter_op="{cpus}",
            onednn_matmul_other_threads="tf_graph_runner",
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
        _seen(
            "resolution",
            "data_pipeline",
            "a float raised `{non_integer_error}`",
            non_integer_error=(
                'TypeError: Property "private_threadpool_size" must be of type '
                "<class 'int'>, got: 1.5 (type: <class 'float'>)"
            ),
        ),
        _seen(
            "read_when freezes",
            "data_pipeline",
            "`with_options` started {pool_threads_at_with_options} threads and creating "
            "the iterator {pool_threads_at_iter} more than with -1; options of 3 then 1 "
            "applied with `with_options` gave a pool of {private_pool_3_then_1}",
            pool_threads_at_with_options=0,
            pool_threads_at_iter=3,
            private_pool_3_then_1=1,
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
            ops_split_cap_2="{several_cpus}",
        ),
        _seen(
            "resolution",
            "onednn",
            "with oneDNN on, the matmul split over the intra-op pool with 1 too: "
            "{onednn_ops_split_cap_1}",
            onednn_ops_split_cap_1="{several_cpus}",
        ),
        _seen(
            "read_when freezes",
            "data_pipeline",
            "each case applied the option with `with_options`: 2 split the matmul "
            "({ops_split_cap_2}), 1 did not ({ops_split_cap_1})",
            ops_split_cap_2="{several_cpus}",
            ops_split_cap_1=False,
        ),
        _seen(
            "notes",
            "data_pipeline",
            "with the option at 1, four 0.25 s elements mapped with "
            "`num_parallel_calls=4` took {parallel_calls_seconds} s",
            # tf.data's default private pool has one thread per CPU: on one CPU
            # elements run one at a time, whatever the option.
            parallel_calls_overlap="{several_cpus}",
        ),
    ),
    "ConfigProto.use_per_session_threads": (
        _seen(
            "default resolution read_when",
            "sessions",
            "unset it was {default_use_per_session_threads}; a session created with it and "
            "`inter_op_parallelism_threads=3` after a default session started "
            "{per_session_new_inter_op} new `tf_Compute` threads and {per_session_new_intra_op} "
            "intra-op threads, and its step ran on `{per_session_ran_on}`",
            default_use_per_session_threads=False,
            per_session_new_inter_op=3,
            per_session_new_intra_op=0,
            per_session_ran_on="tf_Compute",
        ),
        _AT_SESSION_START,
        _seen(
            "notes",
            "sessions",
            "the field's descriptor has deprecated = {use_per_session_threads_descriptor_deprecated}",
            use_per_session_threads_descriptor_deprecated=False,
        ),
    ),
    "ConfigProto.session_inter_op_thread_pool": (
        _seen(
            "default resolution",
            "sessions",
            "unset the list had {default_session_pools} elements; with two elements of 1 "
            "and 0 threads a session started {session_pool_1_threads} `tf_Compute0` and "
            "{session_pool_0_threads} `tf_Compute1` threads, and steps run with pool "
            "indices 0, 1, -1, 0 ran on `{session_pools_ran_on}`",
            default_session_pools=0,
            session_pool_1_threads=1,
            session_pool_0_threads="{cpus}",
            session_pools_ran_on="tf_Compute0 tf_Compute1 caller tf_Compute0",
        ),
        _AT_SESSION_START,
        _seen(
            "notes",
            "sessions",
            "with a session pool of one thread, a matmul step still split over the "
            "intra-op pool: {session_pool_1_ops_split}",
            session_pool_1_ops_split="{several_cpus}",
        ),
    ),
    "ThreadPoolOptionProto.num_threads": (
        _seen(
            "default resolution",
            "sessions",
            "unset it was {default_pool_num_threads}; a pool of 0 threads got "
            "{session_pool_0_threads} threads ({cpus} CPUs), {session_pool_0_config_3} with "
            "`inter_op_parallelism_threads=3` and {session_pool_0_env_3} with "
            "`TF_NUM_INTEROP_THREADS=3`",
            default_pool_num_threads=0,
            session_pool_0_threads="{cpus}",
            session_pool_0_config_3=3,
            session_pool_0_env_3=3,
        ),
        _AT_SESSION_START,
    ),
    "ThreadPoolOptionProto.global_name": (
        _seen(
            "default resolution freezes read_when",
            "sessions",
            "unset it was {default_pool_global_name}; the first session naming a pool "
            "started {global_name_first_threads} threads, a second with the same name and "
            "size {global_name_second_threads}, and both ran on `{global_name_ran_on}`; "
            "after both sessions closed, {global_name_left_after_close} of the pool's "
            "threads were still there",
            default_pool_global_name="''",
            global_name_first_threads=2,  # the pool's num_threads, whatever the CPUs
            global_name_second_threads=0,
            global_name_ran_on="tf_Compute0 tf_Compute0",
            global_name_left_after_close=2,
        ),
        _seen(
            "notes",
            "sessions",
            "a session asking for 3 threads under a name already used with 2 raised "
            "nothing, started {global_name_other_size_new_threads} threads and ran its "
            "step on `{global_name_other_size_ran_on}`",
            global_name_other_size_new_threads=0,
            global_name_other_size_ran_on="caller",
        ),
    ),
    "RunOptions.inter_op_thread_pool": (
        _seen(
            "resolution",
            "sessions",
            "a step run with index 3 and no session pools failed with "
            "`{pool_index_past_end_error}`; with -1 a one-device step ran on "
            "`{caller_thread_single_executor}` and a two-device step on "
            "`{caller_thread_two_executors}`",
            pool_index_past_end_error="InvalidArgumentError: Invalid inter_op_thread_pool: 3",
            caller_thread_single_executor="caller",
            caller_thread_two_executors="tf_Compute",
        ),
        _seen(
            "default read_when freezes",
            "sessions",
            "unset it was {default_run_pool_index}; one session's steps run with indices "
            "0, 1, -1, 0 ran on `{session_pools_ran_on}`",
            default_run_pool_index=0,
            session_pools_ran_on="tf_Compute0 tf_Compute1 caller tf_Compute0",
        ),
    ),
    "ConfigProto.operation_timeout_in_ms": (
        _seen(
            "default resolution read_when",
            "sessions",
            "unset it was {default_operation_timeout}; a session with 200 waited "
            "{timeout_seconds} s on an empty queue and failed with `{timeout_error}`; "
            "`RunOptions(timeout_in_ms=800)` made the same step wait {run_timeout_seconds} s",
            default_operation_timeout=0,
            timeout_error="DeadlineExceededError: Timed out waiting for notification",
            run_timeout_overrides=True,
        ),
        _seen(
            "freezes",
            "runtime",
            "setting it on the eager context after the first op raised "
            "`{operation_timeout_after_start_error}`",
            operation_timeout_after_start_error=(
                "RuntimeError: Operation timeout cannot be modified after initialization."
            ),
        ),
    ),
    "ConfigProto.isolate_session_state": (
        _seen(
            "default resolution",
            "sessions",
            "unset it was {default_isolate_session_state}; on a local `tf.distribute.Server` "
            "a second session read a variable the first initialized: `{shared_variable_default}`; "
            "with it true the read failed: `{shared_variable_isolated}`",
            default_isolate_session_state=False,
            shared_variable_default="1.0",
            shared_variable_isolated="FailedPreconditionError",
        ),
        _AT_SESSION_START,
        _seen(
            "notes",
            "sessions",
            "a first session started {session_new_threads_isolated} threads with it and "
            "{session_new_threads_default} without",
            session_new_threads_isolated="{session_new_threads_default}",
        ),
    ),
    "ConfigProto.share_cluster_devices_in_session": (
        _seen(
            "default",
            "sessions",
            "unset it was {default_share_cluster_devices}",
            default_share_cluster_devices=False,
        ),
    ),
    "ConfigProto.device_count": (
        _seen(
            "default resolution read_when",
            "sessions",
            "unset the map was empty and a session had {session_devices_default} CPU "
            "device; with CPU 4, {session_devices_cpu_4} devices; with GPU 0, "
            "{session_devices_gpu_0}; with CPU 0 it failed with `{session_cpu_0_error}`",
            default_device_count=0,
            session_devices_default=1,
            session_devices_cpu_4=4,
            session_devices_gpu_0=1,
            session_cpu_0_error="NotFoundError: No CPU devices are available in this process",
        ),
        _seen(
            "freezes",
            "runtime",
            "after the first op, the TF2 setters raised `{late_virtual_devices_error}` and "
            "`{late_visible_devices_error}`",
            late_virtual_devices_error=(
                "RuntimeError: Virtual devices cannot be modified after being initialized"
            ),
            late_visible_devices_error=(
                "RuntimeError: Visible devices cannot be modified after being initialized"
            ),
        ),
        _seen(
            "notes",
            "sessions",
            "a session with CPU 4 had {session_devices_cpu_4} devices and started one "
            "intra-op pool of {session_cpu_4_intra_op} threads",
            session_devices_cpu_4=4,
            session_cpu_4_intra_op="{cpus}",
        ),
        _seen(
            "notes",
            "runtime",
            "a memory limit on the logical CPU raised `{cpu_memory_limit_error}`",
            cpu_memory_limit_error=(
                "ValueError: Setting memory limit on CPU virtual devices is currently not supported"
            ),
        ),
    ),
    "ConfigProto.allow_soft_placement": (
        _seen(
            "default resolution read_when notes",
            "sessions",
            "unset it was {default_allow_soft_placement} in a ConfigProto; a session "
            "asked to run an op on `/device:GPU:0` of this CPU-only machine failed with "
            "`{session_gpu_request_hard}`, and with it true the op {session_gpu_request_soft} "
            "on the CPU",
            default_allow_soft_placement=False,
            session_gpu_request_hard="InvalidArgumentError: Cannot assign a device for operation Sum:",
            session_gpu_request_soft="ran",
        ),
        _seen(
            "default freezes",
            "runtime",
            "in eager mode the getter returned {eager_soft_placement_default} unset; turned "
            "off after the first op, a GPU request then failed: "
            "`{soft_placement_off_after_start_error}`",
            eager_soft_placement_default=True,
            soft_placement_off_after_start_error=(
                "InvalidArgumentError: Could not satisfy device specification "
                "'/job:localhost/replica:0/task:0/device:GPU:0'"
            ),
        ),
    ),
    "ConfigProto.log_device_placement": (
        _seen(
            "default resolution read_when notes",
            "runtime",
            "unset no op was logged ({placement_logged_by_default}); set before the "
            "first op, it logged `{placement_log_line}`",
            eager_log_device_placement_default=False,
            placement_logged_by_default=False,
            placement_log_line=(
                "Executing op Sum in device /job:localhost/replica:0/task:0/device:CPU:0"
            ),
        ),
        _seen(
            "freezes",
            "runtime",
            "set after the first op, the getter returned "
            "{log_device_placement_after_start_getter} and nothing was logged "
            "({placement_logged_after_start})",
            log_device_placement_after_start_getter=True,
            log_device_placement_after_start_error="",
            placement_logged_after_start=False,
        ),
        _seen(
            "default",
            "sessions",
            "in a ConfigProto it was {default_log_device_placement} unset",
            default_log_device_placement=False,
        ),
    ),
    "ConfigProto.placement_period": (
        _seen(
            "default resolution read_when freezes notes",
            "sessions",
            "unset it was {default_placement_period}; a first session with it at 1 "
            "started {session_new_threads_placement_period_1} threads, as one without it "
            "({session_new_threads_default}), and ran its step",
            default_placement_period=0,
            session_new_threads_placement_period_1="{session_new_threads_default}",
        ),
    ),
    "ConfigProto.device_filters": (
        _seen(
            "default resolution notes",
            "sessions",
            "unset the list was empty ({default_device_filters}); a local session with two "
            "CPU devices filtered to CPU:0 listed {session_filtered_to_cpu0_devices} "
            "devices and ran an op on CPU:1 (result {session_filtered_ran_on_cpu1})",
            default_device_filters=0,
            session_filtered_to_cpu0_devices=2,
            session_filtered_ran_on_cpu1=4.0,
        ),
    ),
    "ConfigProto.Experimental.use_numa_affinity": (
        _seen(
            "default resolution read_when freezes",
            "sessions",
            "unset it was {default_use_numa_affinity}; on this machine of {numa_nodes} "
            "NUMA node a first session with it true started a `tf_numa_0_Eigen` pool of "
            "{numa_pool_threads} threads instead of the shared one, and after a default "
            "session it started {numa_pool_threads_after_default_session}",
            default_use_numa_affinity=False,
            numa_pool_threads="{cpus}",
            numa_pool_threads_after_default_session=0,
        ),
    ),
    "ConfigProto.Experimental.disable_thread_spinning": (
        _seen(
            "default",
            "sessions",
            "unset it was {default_disable_thread_spinning}; over 250 tiny steps the pool "
            "threads used {spinning_idle_cpu} s of CPU with spinning and "
            "{no_spinning_idle_cpu} s with it disabled, and "
            "{no_spinning_after_default_idle_cpu} s when it was disabled in a session "
            "created after a default one",
            default_disable_thread_spinning=False,
        ),
    ),
    "ConfigProto.Experimental.use_tfrt": (
        _seen(
            "default resolution read_when",
            "sessions",
            "unset it was {default_use_tfrt}; creating a session with it failed with "
            "`{use_tfrt_session_error}`; registered: `{use_tfrt_registered}`",
            default_use_tfrt=False,
            use_tfrt_session_error=(
                "NotFoundError: No session factory registered for the given session options"
            ),
            use_tfrt_registered="{{DIRECT_SESSION, GRPC_SESSION}}",
        ),
        _seen(
            "freezes",
            "runtime",
            "the eager flag set after the first op raised `{use_tfrt_after_start_error}`",
            use_tfrt_after_start_error="ValueError: use_tfrt should be set before being initialized.",
        ),
    ),
    "ConfigProto.Experimental.disable_eager_executor_streaming_enqueue": (
        _seen(
            "default read_when freezes notes",
            "runtime",
            "`enable_eager_execution(config=...)` alone left the eager config without it "
            "({streaming_enqueue_via_enable_only}); after `disable_eager_execution()` and "
            "before the first op it reached the eager config "
            "({streaming_enqueue_via_disable_then_enable}); after the first op that route "
            "failed ({streaming_enqueue_after_start_failed})",
            streaming_enqueue_via_enable_only=False,
            streaming_enqueue_via_disable_then_enable=True,
            streaming_enqueue_after_start_failed=True,
        ),
        _seen(
            "default",
            "sessions",
            "unset it was {default_disable_streaming_enqueue}",
            default_disable_streaming_enqueue=False,
        ),
    ),
    "RunOptions.Experimental.use_run_handler_pool": (
        _seen(
            "default resolution read_when freezes notes",
            "sessions",
            "unset it was {default_use_run_handler_pool}; the first run with it started "
            "{run_handler_pool_new_threads} unnamed threads, and {run_handler_left_after_close} "
            "were still there after the session closed",
            default_use_run_handler_pool=False,
            run_handler_pool_started_threads=True,
            run_handler_left_after_close="{run_handler_pool_new_threads}",
        ),
    ),
    "RunOptions.Experimental.run_handler_pool_options": (
        _seen(
            "default resolution read_when freezes",
            "sessions",
            "unset the priority was {default_run_handler_priority}; a run with priority 3 "
            "and no run-handler pool started {run_handler_priority_only_new_threads} "
            "threads, the next run of the same session with the pool "
            "{run_handler_pool_new_threads}",
            default_run_handler_priority=0,
            run_handler_priority_only_new_threads=0,
            run_handler_pool_started_threads=True,
        ),
    ),
    "TF_OVERRIDE_GLOBAL_THREADPOOL": (
        _seen(
            "default resolution read_when",
            "runtime",
            "with three logical CPUs and an intra-op size of 2, set in `os.environ` after "
            "`import tensorflow` it gave {override_3_devices_intra_2} intra-op threads, "
            "unset {no_override_3_devices_intra_2}",
            override_3_devices_intra_2=6,
            no_override_3_devices_intra_2=2,
        ),
        _seen(
            "freezes",
            "runtime",
            "set after the first op, a session with three CPU devices started "
            "{override_after_start_new_intra_op} intra-op threads",
            override_after_start_new_intra_op=0,
        ),
    ),
    "TF_GPU_THREAD_MODE": (_GPU_ENV_NO_EFFECT,),
    "TF_GPU_THREAD_COUNT": (_GPU_ENV_NO_EFFECT,),
    "tf.data.Options.autotune.cpu_budget": (
        _seen(
            "default",
            "data_pipeline",
            "unset it was `{options_default_cpu_budget}`",
            options_default_cpu_budget="None",
        ),
    ),
}
