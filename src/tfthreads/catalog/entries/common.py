"""What the entry modules share: sources, pinned commits, fact builders and shared facts.

A source is written as the file and the version that was read, e.g.
``"tensorflow/python/eager/context.py (v2.21.0)"``; :func:`pinned` writes a C++ file
read at a commit. :func:`cite` turns an entry's source into a
:class:`~tfthreads.catalog.facts.Cited` fact and :func:`seen` builds an
:class:`~tfthreads.catalog.facts.Observed` one. The facts at the end back the same claim
on several entries, so each is written once.
"""

from __future__ import annotations

from tfthreads.catalog.facts import FACT_FIELDS, Cited, Observed

__all__ = [
    "CONFIG_PROTO",
    "CONFIG_PROTO_EXPERIMENTAL",
    "CONFIG_PROTO_FILE",
    "DATA_OPTIONS_FILE",
    "DIRECT_SESSION_FILE",
    "EAGER_CONTEXT_FILE",
    "EXECUTOR_FACTORY_FILE",
    "GPU_DEVICE_FILE",
    "GPU_VARIABLES_LEAVE_CPU_POOLS",
    "LOCAL_DEVICE_FILE",
    "NEEDS_GPU",
    "NEEDS_SERVING",
    "OPENMP_UNUSED_BY_STOCK_WHEEL",
    "PORT_FILE",
    "PROCESS_UTIL_FILE",
    "RUN_OPTIONS",
    "RUN_OPTIONS_EXPERIMENTAL",
    "SERVING_FILE",
    "SESSION_POOLS_START_AT_CREATION",
    "THREADPOOL_DEVICE_FACTORY_FILE",
    "THREAD_POOL_OPTION_PROTO",
    "cite",
    "pinned",
    "seen",
]

# Full protocol buffer message names, for ``Setting.message``.
CONFIG_PROTO = "tensorflow.ConfigProto"
CONFIG_PROTO_EXPERIMENTAL = "tensorflow.ConfigProto.Experimental"
THREAD_POOL_OPTION_PROTO = "tensorflow.ThreadPoolOptionProto"
RUN_OPTIONS = "tensorflow.RunOptions"
RUN_OPTIONS_EXPERIMENTAL = "tensorflow.RunOptions.Experimental"

# Sources read at a release tag.
CONFIG_PROTO_FILE = "tensorflow/core/protobuf/config.proto (v2.21.0)"
EAGER_CONTEXT_FILE = "tensorflow/python/eager/context.py (v2.21.0)"
DATA_OPTIONS_FILE = "tensorflow/python/data/ops/options.py (v2.21.0)"
SERVING_FILE = "tensorflow_serving/model_servers/server.cc (TF Serving 2.20.0)"
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

# Why a cited claim cannot be observed, where several entries give the same reason.
NEEDS_SERVING = "needs the TF Serving binary (`tensorflow_model_server`), which no probe runs"
NEEDS_GPU = "needs a GPU"


def pinned(path: str) -> str:
    """Return the source of a C++ file read at its commit in :data:`_COMMITS`.

    Examples
    --------
    >>> pinned("tensorflow/core/util/port.cc")
    'tensorflow/core/util/port.cc (commit 08df8c40b437)'
    """
    return f"{path} (commit {_COMMITS[path][:12]})"


# C++ sources read at a commit.
DIRECT_SESSION_FILE = pinned("tensorflow/core/common_runtime/direct_session.cc")
EXECUTOR_FACTORY_FILE = pinned("tensorflow/core/common_runtime/executor_factory.cc")
GPU_DEVICE_FILE = pinned("tensorflow/core/common_runtime/gpu/gpu_device.cc")
LOCAL_DEVICE_FILE = pinned("tensorflow/core/common_runtime/local_device.cc")
PROCESS_UTIL_FILE = pinned("tensorflow/core/common_runtime/process_util.cc")
THREADPOOL_DEVICE_FACTORY_FILE = pinned(
    "tensorflow/core/common_runtime/threadpool_device_factory.cc"
)
PORT_FILE = pinned("tensorflow/core/util/port.cc")


def cite(source: str, fields: str = "", *, why: str = "") -> Cited:
    """Cite an entry's ``source`` for ``fields``, space-separated (all fact fields when empty).

    ``why`` says why a CPU machine cannot show the claim; a citation without it backs
    nothing (:func:`tfthreads.catalog.observe.coverage`).

    Examples
    --------
    >>> cite(SERVING_FILE, "default notes", why=NEEDS_SERVING).fields
    ('default', 'notes')
    """
    path, _, version = source.partition(" (")
    backs = tuple(fields.split()) or FACT_FIELDS
    if path in _COMMITS:
        return Cited(backs, path, _COMMITS[path], why_not_observed=why)
    if version.startswith("v"):
        return Cited(backs, path, version.rstrip(")"), why_not_observed=why)
    # TF Serving, read at its 2.20.0 tag.
    return Cited(backs, path, _SERVING_COMMIT, "tensorflow/serving", why_not_observed=why)


def seen(fields: str, probe: str, shows: str, **expect: object) -> Observed:
    """Build an observed fact: ``fields`` is space-separated, ``expect`` maps probe keys to values."""
    return Observed(tuple(fields.split()), probe, tuple(expect.items()), shows)


#: OpenMP variables change no TensorFlow pool of the stock wheel.
OPENMP_UNUSED_BY_STOCK_WHEEL = seen(
    "default resolution read_when freezes notes",
    "onednn",
    "a process started with `OMP_NUM_THREADS=1`, `KMP_BLOCKTIME=0` and `KMP_AFFINITY` set still got an intra-op pool of {omp_1_intra_op} and an inter-op pool of {omp_1_inter_op} threads ({cpus} CPUs)",
    omp_1_intra_op="{cpus}",
    omp_1_inter_op="{cpus}",
)

#: A session's pools and executor are fixed when the session is created.
SESSION_POOLS_START_AT_CREATION = seen(
    "read_when freezes",
    "sessions",
    "a session started its pools when it was created (a per-session pool of {per_session_new_inter_op} threads before any step); a pool added to its ConfigProto afterwards did not exist (`{session_pool_added_after_creation_error}`), and an executor type changed afterwards did not stop a step",
    per_session_new_inter_op=3,
    session_pool_added_after_creation_error="InvalidArgumentError: Invalid inter_op_thread_pool: 2",
    executor_changed_after_creation_ran="4.0",
)

#: The GPU host-thread variables leave the CPU pools as they are.
GPU_VARIABLES_LEAVE_CPU_POOLS = seen(
    "notes",
    "runtime",
    "with `TF_GPU_THREAD_MODE=gpu_private` and `TF_GPU_THREAD_COUNT=4` the pools had {gpu_thread_env_intra_op} intra-op and {gpu_thread_env_inter_op} inter-op threads, as with nothing set",
    gpu_thread_env_intra_op="{default_intra_op}",
    gpu_thread_env_inter_op="{default_inter_op}",
)
