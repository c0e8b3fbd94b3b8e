"""Thread settings you can validate, apply, convert and resolve.

:class:`ThreadSettings` holds the two pool sizes and the optional per-session pools of
TensorFlow 1 sessions. It checks every value when it is built, so a typo fails with one
line that names the field, the value and what is allowed, instead of a TensorFlow abort
minutes later (TensorFlow 2.21 accepts ``set_intra_op_parallelism_threads(-1)`` and then
kills the process with ``Check failed: num_threads >= 1`` when the runtime starts).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tfthreads._checks import WholeNumber
from tfthreads.errors import SettingError, TooLateError

__all__ = [
    "INTER_OP",
    "INTRA_OP",
    "MAX_THREADS",
    "PoolOption",
    "PoolVariable",
    "ResolvedPools",
    "ThreadSettings",
    "read_pool_variable",
    "resolve_pools",
]

#: Largest pool size tfthreads accepts. TensorFlow's field is an int32 and starts every
#: thread of a pool at once, so a larger number is almost certainly a typo.
MAX_THREADS = 4096

_ENV_INTRA = "TF_NUM_INTRAOP_THREADS"
_ENV_INTER = "TF_NUM_INTEROP_THREADS"
_SERVING_INTRA = "--tensorflow_intra_op_parallelism"
_SERVING_INTER = "--tensorflow_inter_op_parallelism"


#: The rule for each pool size (0 lets TensorFlow pick; inter-op also takes -1, TF1 sessions).
INTRA_OP = WholeNumber(0, MAX_THREADS, "0 lets TensorFlow pick")
INTER_OP = WholeNumber(-1, MAX_THREADS, "0 lets TensorFlow pick, -1 runs in the caller's thread")
_POOL_THREADS = WholeNumber(0, MAX_THREADS, "0 lets TensorFlow pick")
#: TensorFlow reads ``TF_NUM_*`` with ``safe_strto32``: anything outside an int32 is ignored.
_INT32 = WholeNumber(-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class PoolVariable:
    """A ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` variable, as TensorFlow reads it.

    Attributes
    ----------
    name : str
        The variable.
    raw : str or None
        Its text; ``None`` when it is not set.
    value : int
        The number TensorFlow takes from it: the integer, or 0 (its default applies)
        when the variable is unset, empty or not a whole number. Only a value above 0
        sizes a pool.
    problem : str or None
        One line saying what is wrong with the variable, or ``None``.
    """

    name: str
    raw: str | None
    value: int
    problem: str | None


def read_pool_variable(name: str, environ: Mapping[str, str] | None = None) -> PoolVariable:
    """Read one ``TF_NUM_*`` variable the way TensorFlow does, and say what is wrong with it.

    The one parser behind :meth:`ThreadSettings.from_env` (which raises the problem),
    :func:`resolve_pools` (which uses the value) and the doctor (which warns).

    Examples
    --------
    >>> read_pool_variable("TF_NUM_INTRAOP_THREADS", {"TF_NUM_INTRAOP_THREADS": " 4 "}).value
    4
    >>> read_pool_variable("TF_NUM_INTEROP_THREADS", {"TF_NUM_INTEROP_THREADS": "two"}).problem
    "TF_NUM_INTEROP_THREADS: got 'two'; expected a whole number (TensorFlow ignores anything else and uses its default)"
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return PoolVariable(name, raw, 0, None)
    try:
        value = _INT32.parse(name, raw)
    except SettingError:
        return PoolVariable(
            name,
            raw,
            0,
            f"{name}: got {raw!r}; expected a whole number (TensorFlow ignores anything "
            "else and uses its default)",
        )
    if value < 0 and name == _ENV_INTRA:
        problem = (
            f"{name}: got {raw!r}; TensorFlow aborts when its runtime starts "
            "(Check failed: num_threads >= 1); use 0 or more"
        )
    elif value < 0:
        problem = f"{name}: got {raw!r}; TensorFlow ignores a negative value and uses its default"
    elif value > MAX_THREADS:
        problem = f"{name}: got {raw!r}; expected {_POOL_THREADS.allowed}"
    else:
        problem = None
    return PoolVariable(name, raw, value, problem)


@dataclass(frozen=True)
class PoolOption:
    """One entry of ``ConfigProto.session_inter_op_thread_pool`` (TF1 sessions only).

    Attributes
    ----------
    num_threads : int
        Pool size; 0 lets TensorFlow pick (the default inter-op size).
    global_name : str
        If not empty, the pool is shared by every session that names it. Asking for an
        existing name with another size is an error in TensorFlow.
    """

    num_threads: int = 0
    global_name: str = ""

    def __post_init__(self) -> None:
        _POOL_THREADS.check("num_threads", self.num_threads)
        if not isinstance(self.global_name, str):
            raise TypeError(
                f"global_name: got {self.global_name!r} ({type(self.global_name).__name__}); "
                "expected a string (empty for a pool owned by one session)"
            )


@dataclass(frozen=True)
class ThreadSettings:
    """The sizes of TensorFlow's CPU thread pools.

    Parameters
    ----------
    intra_op : int
        Threads that split one op (``intra_op_parallelism_threads``); 0 lets TensorFlow
        pick, which is the number of CPUs in the affinity mask.
    inter_op : int
        Threads that run independent ops at once (``inter_op_parallelism_threads``);
        0 lets TensorFlow pick. -1 runs ops in the caller's thread, in TF1 sessions only
        and only for single-device graphs; TF2 eager treats it like 0.
    use_per_session_threads : bool
        TF1 sessions only, deprecated: each session gets its own inter-op pool.
    session_pools : tuple of PoolOption
        TF1 sessions only: ``session_inter_op_thread_pool`` entries, chosen per call by
        ``RunOptions.inter_op_thread_pool``.

    Raises
    ------
    TypeError
        A value is not a whole number (``bool``, ``float`` and ``str`` are refused).
    SettingError
        A value is out of range.

    Examples
    --------
    >>> ThreadSettings(intra_op=4, inter_op=2).describe()
    'intra_op=4, inter_op=2'
    >>> ThreadSettings(intra_op=-1)
    Traceback (most recent call last):
    ...
    tfthreads.errors.SettingError: intra_op: got -1; expected a whole number from 0 to 4096 (0 lets TensorFlow pick)
    """

    intra_op: int = 0
    inter_op: int = 0
    use_per_session_threads: bool = False
    session_pools: tuple[PoolOption, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        INTRA_OP.check("intra_op", self.intra_op)
        INTER_OP.check("inter_op", self.inter_op)
        if not isinstance(self.use_per_session_threads, bool):
            raise TypeError(
                f"use_per_session_threads: got {self.use_per_session_threads!r}; "
                "expected True or False"
            )
        pools = self.session_pools
        if not isinstance(pools, tuple) or not all(isinstance(p, PoolOption) for p in pools):
            raise TypeError(f"session_pools: got {pools!r}; expected a tuple of PoolOption")

    @property
    def is_session_only(self) -> bool:
        """Whether a setting needs a TF1 session (it has no TF2 eager equivalent)."""
        return self.use_per_session_threads or bool(self.session_pools)

    def describe(self) -> str:
        """Describe the settings in one line, leaving out what is at its default."""
        parts = [f"intra_op={self.intra_op}", f"inter_op={self.inter_op}"]
        if self.use_per_session_threads:
            parts.append("use_per_session_threads=True")
        for index, pool in enumerate(self.session_pools):
            name = f", global_name={pool.global_name!r}" if pool.global_name else ""
            parts.append(f"session_pool[{index}]=(num_threads={pool.num_threads}{name})")
        return ", ".join(parts)

    # --- conversions -------------------------------------------------------------

    def to_config_proto(self) -> Any:
        """Build a ``tf.compat.v1.ConfigProto`` with these settings (imports TensorFlow)."""
        from tensorflow.core.protobuf import config_pb2

        config = config_pb2.ConfigProto(
            intra_op_parallelism_threads=self.intra_op,
            inter_op_parallelism_threads=self.inter_op,
            use_per_session_threads=self.use_per_session_threads,
        )
        for pool in self.session_pools:
            config.session_inter_op_thread_pool.add(
                num_threads=pool.num_threads, global_name=pool.global_name
            )
        return config

    @classmethod
    def from_config_proto(cls, config: Any) -> ThreadSettings:
        """Read the thread settings out of a ``ConfigProto``; other fields are ignored."""
        return cls(
            intra_op=int(config.intra_op_parallelism_threads),
            inter_op=int(config.inter_op_parallelism_threads),
            use_per_session_threads=bool(config.use_per_session_threads),
            session_pools=tuple(
                PoolOption(num_threads=int(p.num_threads), global_name=str(p.global_name))
                for p in config.session_inter_op_thread_pool
            ),
        )

    def to_env(self) -> dict[str, str]:
        """Express the pool sizes as ``TF_NUM_*`` environment variables.

        A size of 0 is left out (TensorFlow's default applies). The variables must be set
        before the process starts TensorFlow; they are read once. ``inter_op=-1`` has no
        variable (TensorFlow ignores a negative one), so it raises ``SettingError``.

        Examples
        --------
        >>> ThreadSettings(intra_op=2).to_env()
        {'TF_NUM_INTRAOP_THREADS': '2'}
        """
        self._refuse_session_only("environment variables")
        if self.inter_op < 0:
            raise SettingError(
                f"inter_op: got {self.inter_op}; environment variables take 0 or more threads "
                "(TensorFlow ignores a negative TF_NUM_INTEROP_THREADS)"
            )
        env = {}
        if self.intra_op:
            env[_ENV_INTRA] = str(self.intra_op)
        if self.inter_op:
            env[_ENV_INTER] = str(self.inter_op)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ThreadSettings:
        """Read ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` (unset means 0).

        Raises
        ------
        SettingError
            When a variable is set to something TensorFlow ignores or aborts on (see
            :func:`read_pool_variable`).
        """
        intra, inter = (read_pool_variable(name, environ) for name in (_ENV_INTRA, _ENV_INTER))
        for variable in (intra, inter):
            if variable.problem:
                raise SettingError(variable.problem)
        return cls(intra_op=intra.value, inter_op=inter.value)

    def to_serving_args(self) -> list[str]:
        """Express the settings as TensorFlow Serving flags.

        TF Serving sets both sizes when either flag is given, and a size that is not
        given becomes 0 (TensorFlow picks), so both flags are always written.

        Examples
        --------
        >>> ThreadSettings(intra_op=4, inter_op=1).to_serving_args()
        ['--tensorflow_intra_op_parallelism=4', '--tensorflow_inter_op_parallelism=1']
        """
        self._refuse_session_only("TF Serving flags")
        if self.inter_op < 0:
            raise SettingError(
                f"inter_op: got {self.inter_op}; TF Serving flags take 0 or more threads"
            )
        return [f"{_SERVING_INTRA}={self.intra_op}", f"{_SERVING_INTER}={self.inter_op}"]

    def _refuse_session_only(self, target: str) -> None:
        if self.is_session_only:
            raise SettingError(
                f"{self.describe()}: per-session pools cannot be expressed as {target}; "
                "use to_config_proto() with tf.compat.v1.Session"
            )

    # --- applying in TF2 -----------------------------------------------------------

    def apply(self) -> None:
        """Set the pools of this process's TensorFlow runtime (TF2 eager).

        Must run before anything starts the runtime: the first op, building a Keras
        model, creating a ``tf.data`` dataset or ``tf.config.list_logical_devices()``.

        Raises
        ------
        TooLateError
            The runtime is already initialized, so TensorFlow refuses the change.
        SettingError
            The settings need a TF1 session (per-session pools).
        """
        if self.is_session_only:
            raise SettingError(
                f"{self.describe()}: per-session pools exist only in TF1 sessions; "
                "pass to_config_proto() to tf.compat.v1.Session"
            )
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(self.intra_op)
            tf.config.threading.set_inter_op_parallelism_threads(self.inter_op)
        except RuntimeError as error:
            raise TooLateError(
                f"cannot apply {self.describe()}: TensorFlow said {str(error)!r}. "
                "The runtime already started (the first op, a Keras model, a tf.data "
                "dataset or tf.config.list_logical_devices() starts it). Call apply() "
                f"before any of those, or set {_ENV_INTRA}/{_ENV_INTER} before the "
                "process starts."
            ) from error


@dataclass(frozen=True)
class ResolvedPools:
    """The pool sizes TensorFlow will create, and where each number came from.

    Attributes
    ----------
    intra_op, inter_op : int
        Threads in each pool.
    intra_source, inter_source : str
        ``"config"``, ``"environment"`` or ``"default"`` (the affinity mask).
    """

    intra_op: int
    inter_op: int
    intra_source: str
    inter_source: str


def resolve_pools(
    settings: ThreadSettings,
    *,
    affinity_cpus: int,
    environ: Mapping[str, str] | None = None,
) -> ResolvedPools:
    """Work out the pool sizes TensorFlow 2 will create, by its precedence.

    For each pool: the configured value if it is above 0, else the ``TF_NUM_*`` variable
    if it is above 0, else the number of CPUs in the affinity mask (the cgroup quota is
    not looked at). A negative inter-op value behaves like 0 in TF2 eager.

    Parameters
    ----------
    settings : ThreadSettings
        The configured values.
    affinity_cpus : int
        CPUs in the process's affinity mask.
    environ : mapping, optional
        The environment; ``os.environ`` by default.

    Examples
    --------
    >>> resolve_pools(ThreadSettings(intra_op=3), affinity_cpus=8,
    ...               environ={"TF_NUM_INTEROP_THREADS": "2"})
    ResolvedPools(intra_op=3, inter_op=2, intra_source='config', inter_source='environment')
    """
    environ = os.environ if environ is None else environ

    def pick(configured: int, variable: str) -> tuple[int, str]:
        if configured > 0:
            return configured, "config"
        from_env = read_pool_variable(variable, environ).value
        if from_env > 0:
            return from_env, "environment"
        return affinity_cpus, "default"

    intra, intra_source = pick(settings.intra_op, _ENV_INTRA)
    inter, inter_source = pick(settings.inter_op, _ENV_INTER)
    return ResolvedPools(intra, inter, intra_source, inter_source)
