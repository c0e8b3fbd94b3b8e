"""Build the step callables of workloads, inside the worker (imports TensorFlow).

Each builder returns a :class:`Step`: a callable doing one unit of work, and how much
work that is (floating-point operations or items), so rates can be reported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tfthreads.workloads import WorkloadSpec


@dataclass(frozen=True)
class Step:
    """One unit of work and its size."""

    run: Callable[[], object]
    items: int
    unit: str
    flops: float = 0.0


def _matmul(tf: Any, n: int) -> Step:
    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    return Step(lambda: tf.linalg.matmul(a, b).numpy(), 1, "matmul", flops=2.0 * n**3)


def _branches(tf: Any, k: int, n: int, depth: int) -> Step:
    inputs = [tf.random.stateless_normal((n, n), seed=(i, 0)) * 0.01 for i in range(k)]

    def chains(xs: list[Any]) -> Any:
        # k chains with no data dependencies between them: only the inter-op pool can
        # run them at the same time.
        outs = []
        for x in xs:
            y = x
            for _ in range(depth):
                y = tf.tanh(tf.linalg.matmul(y, x))
            outs.append(tf.reduce_sum(y))
        return tf.add_n(outs)

    graph = tf.function(chains)
    graph(inputs)  # trace once here, not in the timed loop
    return Step(lambda: graph(inputs).numpy(), k, "branches", flops=2.0 * n**3 * depth * k)


def _mlp(tf: Any, batch: int, width: int) -> Step:
    keras = tf.keras
    model = keras.Sequential(
        [
            keras.Input((256,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    x = tf.random.stateless_normal((batch, 256), seed=(5, 6))
    flops = 2.0 * batch * (256 * width + width * width + width * 10)
    # model(x) rather than model.predict(x): predict builds a tf.data pipeline per call,
    # which dominates small batches.
    return Step(lambda: model(x, training=False).numpy(), batch, "inferences", flops=flops)


def _conv2d(tf: Any, batch: int, size: int, channels: int) -> Step:
    layer = tf.keras.layers.Conv2D(channels, 3, padding="same")
    x = tf.random.stateless_normal((batch, size, size, channels), seed=(7, 8))
    layer(x)  # build the kernel outside the timed loop
    flops = 2.0 * batch * size * size * channels * channels * 9
    return Step(lambda: layer(x).numpy(), batch, "images", flops=flops)


def _data_map(tf: Any, elements: int, n: int) -> Step:
    def work(i: Any) -> Any:
        x = tf.random.stateless_normal((n, n), seed=tf.stack([i, i]))
        return tf.reduce_sum(tf.linalg.matmul(x, x))

    dataset = (
        tf.data.Dataset.range(elements)
        .map(work, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(32)
        .prefetch(tf.data.AUTOTUNE)
    )

    def one_epoch() -> None:
        for _ in dataset:
            pass

    return Step(one_epoch, elements, "elements", flops=2.0 * n**3 * elements)


def _keras_model(tf: Any, path: str, input_shape: list[int]) -> Step:
    model = tf.keras.models.load_model(path, compile=False)
    x = tf.random.stateless_normal(input_shape, seed=(9, 10))
    model(x, training=False)
    return Step(lambda: model(x, training=False), input_shape[0], "inferences")


def _user_callable(reference: str) -> Step:
    module_name, function_name = reference.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    step = function()
    if not callable(step):
        raise TypeError(
            f"workload {reference!r}: the function must return a step callable, "
            f"got {type(step).__name__}"
        )
    return Step(step, 1, "steps")


def build_step(tf: Any, spec: WorkloadSpec) -> Step:
    """Build the step of ``spec`` with the imported TensorFlow module ``tf``."""
    params = spec.params
    if spec.kind == "keras":
        return _keras_model(tf, spec.target, list(params["input_shape"]))
    if spec.kind == "callable":
        return _user_callable(spec.target)
    builders: dict[str, Callable[..., Step]] = {
        "matmul": _matmul,
        "branches": _branches,
        "mlp_latency": _mlp,
        "mlp_throughput": _mlp,
        "conv2d": _conv2d,
        "data_map": _data_map,
    }
    return builders[spec.target](tf, **params)
