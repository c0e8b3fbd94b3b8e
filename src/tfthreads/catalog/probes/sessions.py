"""The session probe: what a ``tf.compat.v1.Session`` does with its pools, devices and options.

oneDNN is off in its process (:data:`ENV`), so a matmul splits over the intra-op pool
as TensorFlow's own kernels do. The defaults of the options it reports are read in
:mod:`tfthreads.catalog.probes._option_defaults`.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tfthreads.catalog.probes._common import (
    check_failure,
    count_new,
    cpu_count,
    cpu_of,
    decide,
    error_line,
    factories,
    numa_nodes,
    pool_share,
    thread_name,
)
from tfthreads.catalog.probes._option_defaults import option_defaults
from tfthreads.inventory import ThreadInventory, diff, inventory, pool_counts
from tfthreads.pool_identity import identify_pools, names_tell, small_ops, threads_running
from tfthreads.process import run_forked

__all__ = ["ENV", "probe"]

#: With oneDNN off, ops split over the intra-op pool only as TensorFlow's own kernels do.
ENV: dict[str, str | None] = {"TF_ENABLE_ONEDNN_OPTS": "0"}


def probe() -> dict[str, Any]:
    """Observe what a tf.compat.v1.Session does with its pools, devices and options.

    Which thread ran a step is read from a ``py_func`` that returns its native thread
    id; the threads a session starts are counted by name where TensorFlow names them
    (``tf_Compute0`` is the first pool of ``session_inter_op_thread_pool``), else told
    apart by what they run (:mod:`tfthreads.pool_identity`) and labelled with the name
    TensorFlow 2.21 gives them, so "which pool ran the step" reads alike on every
    release; ``session_pool_thread_names`` keeps the names the threads really have.
    """
    import tensorflow as tf

    v1 = tf.compat.v1

    def thread_id() -> Any:
        return v1.py_func(threading.get_native_id, [], tf.int64)

    def pools_config(*sizes: int, name: str = "") -> Any:
        config = v1.ConfigProto()
        for size in sizes:
            pool = config.session_inter_op_thread_pool.add()
            pool.num_threads = size
            pool.global_name = name
        return config

    def ran_on(
        session: Any, fetch: Any, pool: int | None = None, labels: Mapping[int, str] | None = None
    ) -> str:
        options = None if pool is None else v1.RunOptions(inter_op_thread_pool=pool)
        return thread_name(int(session.run(fetch, options=options)), labels)

    def session_pool_threads(
        session: Any, before: ThreadInventory, count: int
    ) -> tuple[list[Any], dict[int, str]]:
        """Size of each of the session's first ``count`` pools, and a label per thread.

        By name where TensorFlow names them (``tf_Compute<k>``); else the new threads that
        run small independent ops on pool ``k``, labelled ``tf_Compute<k>``.
        """
        after = inventory()
        if names_tell(after):
            created = diff(before, after)
            return [created.get(f"tf_Compute{k}", 0) for k in range(count)], {}
        new = {t.tid for t in after.threads} - {t.tid for t in before.threads}
        sizes: list[Any] = []
        labels: dict[int, str] = {}
        for k in range(count):
            threads = threads_running(small_ops(session, k), new)
            sizes.append(threads if isinstance(threads, str) else len(threads))
            if not isinstance(threads, str):
                labels.update(dict.fromkeys(threads, f"tf_Compute{k}"))
        return sizes, labels

    def inter_op_labels(before: ThreadInventory, session: Any) -> dict[int, str]:
        """Label the session's new inter-op threads ``tf_Compute`` where names do not tell."""
        told = identify_pools(before, session=session)
        return dict.fromkeys(told.inter_op, "tf_Compute") if told.method == "behaviour" else {}

    def session_pools() -> dict[str, Any]:
        with tf.Graph().as_default():
            step = thread_id()
            config = pools_config(1, 0)
            before = inventory()
            session = v1.Session(config=config)
            sizes, labels = session_pool_threads(session, before, 2)
            runs = [
                int(session.run(step, options=v1.RunOptions(inter_op_thread_pool=pool)))
                for pool in (0, 1, -1, 0)
            ]
            ran = " ".join(thread_name(tid, labels) for tid in runs)
            names = " ".join(thread_name(tid) for tid in runs)
            matrix = tf.random.uniform((1000, 1000))
            product = tf.reduce_sum(tf.matmul(matrix, matrix))
            told = identify_pools(before, session=session)
            intra = set(told.intra_op)
            on_pool_0 = v1.RunOptions(inter_op_thread_pool=0)
            split = told.undecided or decide(
                lambda: pool_share(lambda: session.run(product, options=on_pool_0), intra),
                "the intra-op pool",
            )
            config.session_inter_op_thread_pool.add().num_threads = 1  # after creation
            try:
                session.run(step, options=v1.RunOptions(inter_op_thread_pool=2))
                added_late = ""
            except tf.errors.OpError as error:
                added_late = f"{type(error).__name__}: {error.message}"
            return {
                "pool_0": sizes[0],
                "pool_1": sizes[1],
                "ran": ran,
                "names": names,
                "added_late": error_line(added_late),
                "ops_split": split,
            }

    def pool_size_0(env: str | None) -> Any:
        config = pools_config(0)
        if env is None:
            config.inter_op_parallelism_threads = 3
        else:
            os.environ["TF_NUM_INTEROP_THREADS"] = env
        with tf.Graph().as_default():
            before = inventory()
            session = v1.Session(config=config)
            count = session_pool_threads(session, before, 1)[0][0]
            session.close()
            return count

    def global_name() -> dict[str, Any]:
        with tf.Graph().as_default():
            step = thread_id()
            before = inventory()
            first = v1.Session(config=pools_config(2, name="shared"))
            sizes, labels = session_pool_threads(first, before, 1)
            out: dict[str, Any] = {"first": sizes[0]}
            out["first_ran"] = ran_on(first, step, labels=labels)
            before = inventory()
            second = v1.Session(config=pools_config(2, name="shared"))
            sizes, more = session_pool_threads(second, before, 1)
            labels.update(more)
            out["second"] = sizes[0]
            out["second_ran"] = ran_on(second, step, labels=labels)
            first.close()
            second.close()
            alive = inventory().threads
            out["left_after_close"] = sum(
                1 for t in alive if labels.get(t.tid, t.name).startswith("tf_Compute0")
            )
            before = inventory()
            other = v1.Session(config=pools_config(3, name="shared"))
            out["other_size_new_threads"] = count_new(before)
            out["other_size_ran"] = ran_on(other, step)
            return out

    def own_inter_op_pool() -> dict[str, Any]:
        with tf.Graph().as_default():
            step = thread_id()
            v1.Session().run(step)  # the shared pools exist from here on
            before = inventory()
            config = v1.ConfigProto(use_per_session_threads=True, inter_op_parallelism_threads=3)
            session = v1.Session(config=config)
            counts = pool_counts(before, session=session)
            labels = inter_op_labels(before, session)
            return {**counts, "ran": ran_on(session, step, labels=labels)}

    def timeout() -> dict[str, Any]:
        with tf.Graph().as_default():
            dequeue = tf.queue.FIFOQueue(1, tf.float32).dequeue()
            session = v1.Session(config=v1.ConfigProto(operation_timeout_in_ms=200))
            out: dict[str, Any] = {}
            for key, options in (("config", None), ("run", v1.RunOptions(timeout_in_ms=800))):
                start = time.perf_counter()
                try:
                    session.run(dequeue, options=options)
                except tf.errors.OpError as error:
                    out[key] = f"{type(error).__name__}: {error.message}"
                out[f"{key}_seconds"] = time.perf_counter() - start
            return out

    def shared_variable(isolate: bool) -> str:
        server = tf.distribute.Server.create_local_server()
        with tf.Graph().as_default():
            variable = tf.Variable(1.0)
            config = v1.ConfigProto(isolate_session_state=isolate)
            v1.Session(server.target, config=config).run(variable.initializer)
            try:
                return str(v1.Session(server.target, config=config).run(variable))
            except tf.errors.OpError as error:
                return type(error).__name__

    def new_threads(config: Any) -> dict[str, Any]:
        with tf.Graph().as_default():
            before = inventory()
            session = v1.Session(config=config)
            devices = len(session.list_devices())
            session.run(tf.reduce_sum(tf.ones((64, 64))))
            counts = pool_counts(before, session=session)
            return {**counts, "all": count_new(before), "devices": devices}

    def device_count(kind: str, count: int) -> dict[str, Any]:
        return new_threads(v1.ConfigProto(device_count={kind: count}))

    def gpu_request(soft: bool) -> str:
        with tf.Graph().as_default():
            with tf.device("/device:GPU:0"):
                total = tf.reduce_sum(tf.ones((2, 2)))
            try:
                v1.Session(config=v1.ConfigProto(allow_soft_placement=soft)).run(total)
            except tf.errors.OpError as error:
                line = next(x for x in error.message.splitlines() if x.startswith("Cannot assign"))
                return f"{type(error).__name__}: {line.split(' {{')[0]}"
            return "ran"

    def filtered() -> dict[str, Any]:
        config = v1.ConfigProto(device_count={"CPU": 2})
        config.device_filters.append("/job:localhost/replica:0/task:0/device:CPU:0")
        with tf.Graph().as_default():
            with tf.device("/device:CPU:1"):
                total = tf.reduce_sum(tf.ones((2, 2)))
            session = v1.Session(config=config)
            return {
                "devices": len(session.list_devices()),
                "ran_on_cpu1": float(session.run(total)),
            }

    def numa(after_default: bool) -> int:
        config = v1.ConfigProto()
        config.experimental.use_numa_affinity = True
        with tf.Graph().as_default():
            if after_default:
                v1.Session().run(tf.reduce_sum(tf.ones((4, 4))))
            before = inventory()
            v1.Session(config=config)
            return count_new(before, "tf_numa_")

    def idle_cpu(disable: bool, after_default: bool = False) -> float:
        # Many tiny steps with pauses: pool threads that spin before sleeping use CPU.
        config = v1.ConfigProto()
        config.experimental.disable_thread_spinning = disable
        with tf.Graph().as_default():
            matrix = tf.random.uniform((40, 40))
            step = tf.reduce_sum(tf.matmul(matrix, matrix)) + tf.reduce_sum(matrix)
            if after_default:
                v1.Session().run(step)
            session = v1.Session(config=config)
            session.run(step)
            pool = {t.tid for t in inventory().threads} - {threading.get_native_id()}
            start = cpu_of(pool)
            for _ in range(250):
                session.run(step)
                time.sleep(0.002)
            return cpu_of(pool) - start

    def executor_late() -> dict[str, str]:
        with tf.Graph().as_default():
            total = tf.reduce_sum(tf.ones((2, 2)))
            config = v1.ConfigProto()
            config.experimental.executor_type = "NO_SUCH_EXECUTOR"
            out = {"created": "", "ran": ""}
            try:
                session = v1.Session(config=config)
                out["created"] = "ok"
                session.run(total)
            except tf.errors.OpError as error:
                out["ran"] = type(error).__name__
            config = v1.ConfigProto()
            session = v1.Session(config=config)
            config.experimental.executor_type = "NO_SUCH_EXECUTOR"  # after creation
            out["changed_after_creation"] = str(float(session.run(total)))
            return out

    def tfrt() -> None:
        config = v1.ConfigProto()
        config.experimental.use_tfrt = True
        with tf.Graph().as_default():
            v1.Session(config=config)

    def run_handler() -> dict[str, int]:
        with tf.Graph().as_default():
            matrix = tf.random.uniform((64, 64))
            step = tf.reduce_sum(tf.matmul(matrix, matrix))
            session = v1.Session()
            session.run(step)
            before = inventory()
            priority = v1.RunOptions()
            priority.experimental.run_handler_pool_options.priority = 3
            session.run(step, options=priority)
            out = {"priority_only": count_new(before)}
            before = inventory()
            pool = v1.RunOptions()
            pool.experimental.use_run_handler_pool = True
            session.run(step, options=pool)
            out["pool"] = count_new(before)
            session.close()
            out["left_after_close"] = sum(diff(before, inventory()).values())
            return out

    def caller_thread() -> dict[str, str]:
        with tf.Graph().as_default():
            with tf.device("/cpu:0"):
                one = thread_id()
            with tf.device("/cpu:1"):
                two = thread_id() + one  # two devices: two executors
            before = inventory()
            session = v1.Session(config=v1.ConfigProto(device_count={"CPU": 2}))
            labels = inter_op_labels(before, session)
            return {
                "single": ran_on(session, one, -1, labels),
                "multi": ran_on(session, two - one, -1, labels),
            }

    def session_run(config: Any, run_options: Any = None, size: int = 1000) -> dict[str, Any]:
        """Run a matmul step; with ``size`` 1000, decide which pools took part in it."""
        with tf.Graph().as_default():
            matrix = tf.random.uniform((size, size))  # not constant-folded away
            product = tf.reduce_sum(tf.matmul(matrix, matrix))
            before = inventory()
            with v1.Session(config=config) as session:
                started = inventory()

                def step() -> None:
                    session.run(product, options=run_options)

                step()
                if size < 1000:
                    return {}
                # A plain session shares the global pools and runs steps on the inter-op
                # one, whatever executor ``config`` picks (a single-threaded one runs
                # every step on the caller: no thread would run the small ops).
                pools = identify_pools(before, started, session=v1.Session())
                if pools.undecided:
                    return {"intra_op_split": pools.undecided, "inter_op_idle": pools.undecided}
                intra, inter = set(pools.intra_op), set(pools.inter_op)
                used = decide(lambda: pool_share(step, inter), "the inter-op pool")
                return {
                    "intra_op_split": decide(lambda: pool_share(step, intra), "the intra-op pool"),
                    "inter_op_idle": used if isinstance(used, str) else not used,
                }

    def executor(name: str) -> Callable[[], dict[str, Any]]:
        def case() -> dict[str, Any]:
            config = v1.ConfigProto()
            config.experimental.executor_type = name
            return session_run(config)

        return case

    def inter_negative() -> dict[str, Any]:
        return session_run(v1.ConfigProto(inter_op_parallelism_threads=-1), size=64)

    def per_session_negative() -> dict[str, Any]:
        config = v1.ConfigProto(inter_op_parallelism_threads=-1, use_per_session_threads=True)
        return session_run(config, size=64)

    def pool_index_past_end() -> dict[str, Any]:
        return session_run(v1.ConfigProto(), v1.RunOptions(inter_op_thread_pool=3), size=8)

    def server_negative() -> None:
        # A tf.distribute.Server sizes its compute pool without DirectSession's
        # "negative means run in the caller's thread" rule.
        config = v1.ConfigProto(inter_op_parallelism_threads=-1)
        tf.distribute.Server.create_local_server(config=config)

    pools = run_forked(session_pools)["value"]
    shared = run_forked(global_name)["value"]
    private = run_forked(own_inter_op_pool)["value"]
    waits = run_forked(timeout)["value"]
    default_threads = run_forked(functools.partial(new_threads, v1.ConfigProto()))["value"]
    isolated_threads = run_forked(
        functools.partial(new_threads, v1.ConfigProto(isolate_session_state=True))
    )["value"]
    period_threads = run_forked(functools.partial(new_threads, v1.ConfigProto(placement_period=1)))[
        "value"
    ]
    cpu_4 = run_forked(functools.partial(device_count, "CPU", 4))["value"]
    gpu_0 = run_forked(functools.partial(device_count, "GPU", 0))["value"]
    cpu_0 = run_forked(functools.partial(device_count, "CPU", 0))
    spin = [run_forked(functools.partial(idle_cpu, disable))["value"] for disable in (False, True)]
    spin_late = run_forked(functools.partial(idle_cpu, True, after_default=True))["value"]
    executor_when = run_forked(executor_late)["value"]
    tfrt_session = run_forked(tfrt)
    handler = run_forked(run_handler)["value"]
    caller = run_forked(caller_thread)["value"]
    filters = run_forked(filtered)["value"]
    single = run_forked(executor("SINGLE_THREADED_EXECUTOR"))
    server = run_forked(server_negative)
    unknown = run_forked(executor("NO_SUCH_EXECUTOR"))
    negative = run_forked(inter_negative)
    per_session = run_forked(per_session_negative)
    past_end = run_forked(pool_index_past_end)
    return {
        "cpus": cpu_count(),
        "single_threaded_ops_split": single["value"]["intra_op_split"],
        "single_threaded_inter_op_idle": single["value"]["inter_op_idle"],
        # The list of registered factories that follows varies; the reason does not.
        "unknown_executor_error": error_line(unknown["error"]).split(" Registered")[0],
        "session_inter_op_negative_exit": negative["exit"],
        "session_inter_op_negative_check": check_failure(negative["stderr"]),
        "per_session_inter_op_negative_exit": per_session["exit"],
        "per_session_inter_op_negative_check": check_failure(per_session["stderr"]),
        "pool_index_past_end_error": error_line(past_end["error"]),
        "server_inter_op_negative_exit": server["exit"],
        "server_inter_op_negative_check": check_failure(server["stderr"]),
        "session_pool_1_threads": pools["pool_0"],
        "session_pool_0_threads": pools["pool_1"],
        "session_pools_ran_on": pools["ran"],
        "session_pool_thread_names": pools["names"],
        "session_pool_added_after_creation_error": pools["added_late"],
        "session_pool_1_ops_split": pools["ops_split"],
        "session_pool_0_config_3": run_forked(functools.partial(pool_size_0, None))["value"],
        "session_pool_0_env_3": run_forked(functools.partial(pool_size_0, "3"))["value"],
        "global_name_first_threads": shared["first"],
        "global_name_second_threads": shared["second"],
        "global_name_ran_on": f"{shared['first_ran']} {shared['second_ran']}",
        "global_name_left_after_close": shared["left_after_close"],
        "global_name_other_size_new_threads": shared["other_size_new_threads"],
        "global_name_other_size_ran_on": shared["other_size_ran"],
        "per_session_new_inter_op": private["inter_op"],
        "per_session_new_intra_op": private["intra_op"],
        "per_session_ran_on": private["ran"],
        "timeout_error": error_line(waits["config"]),
        "timeout_seconds": round(waits["config_seconds"], 1),
        "run_timeout_seconds": round(waits["run_seconds"], 1),
        "run_timeout_overrides": waits["run_seconds"] > waits["config_seconds"] + 0.3,
        "shared_variable_default": run_forked(functools.partial(shared_variable, False))["value"],
        "shared_variable_isolated": run_forked(functools.partial(shared_variable, True))["value"],
        "session_new_threads_default": default_threads["all"],
        "session_new_threads_isolated": isolated_threads["all"],
        "session_new_threads_placement_period_1": period_threads["all"],
        "session_devices_default": default_threads["devices"],
        "session_devices_cpu_4": cpu_4["devices"],
        "session_cpu_4_intra_op": cpu_4["intra_op"],
        "session_devices_gpu_0": gpu_0["devices"],
        "session_cpu_0_error": error_line(cpu_0["error"]),
        "session_gpu_request_hard": run_forked(functools.partial(gpu_request, False))["value"],
        "session_gpu_request_soft": run_forked(functools.partial(gpu_request, True))["value"],
        "session_filtered_to_cpu0_devices": filters["devices"],
        "session_filtered_ran_on_cpu1": filters["ran_on_cpu1"],
        "numa_pool_threads": run_forked(functools.partial(numa, False))["value"],
        "numa_pool_threads_after_default_session": run_forked(functools.partial(numa, True))[
            "value"
        ],
        "numa_nodes": numa_nodes(),
        "spinning_idle_cpu": round(spin[0], 2),
        "no_spinning_idle_cpu": round(spin[1], 2),
        "no_spinning_after_default_idle_cpu": round(spin_late, 2),
        "unknown_executor_session_created": executor_when["created"],
        "unknown_executor_run_error": executor_when["ran"],
        "executor_changed_after_creation_ran": executor_when["changed_after_creation"],
        "use_tfrt_session_error": error_line(tfrt_session["error"]).split(": {")[0],
        "use_tfrt_registered": factories(tfrt_session["error"]),
        "run_handler_priority_only_new_threads": handler["priority_only"],
        "run_handler_pool_new_threads": handler["pool"],
        "run_handler_pool_started_threads": handler["pool"] > 0,
        "run_handler_left_after_close": handler["left_after_close"],
        "caller_thread_single_executor": caller["single"],
        "caller_thread_two_executors": caller["multi"],
        **option_defaults(),
    }
