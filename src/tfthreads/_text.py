"""Text utilities for what child processes write: drop start-up noise, squeeze to one line.

Used wherever a child's stderr or error message is shown: the worker protocol, sweeps,
measurements and the doctor.
"""

from __future__ import annotations

import re

__all__ = ["filter_startup_noise", "one_line"]

#: Lines TensorFlow prints to stderr at every start on a machine without a GPU.
#: They come before TensorFlow's logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot
#: hide them; they are dropped from what a page shows. Any other line is kept.
#: Lines TensorFlow prints to stderr at every start on a machine without a GPU.
#: They come before TensorFlow's logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot
#: hide them; they are dropped from what a page shows. Any other line is kept.
_STARTUP_NOISE_PATTERNS = (
    r"All log messages before absl::InitializeLog\(\) is called",
    r"cudart_stub\.cc.*Could not find cuda drivers",
    r"cuda_platform\.cc.*failed call to cuInit",
    r"cuda_executor\.cc|cuda_diagnostics\.cc",
    r"cpu_feature_guard\.cc.*This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* rebuild TensorFlow",
    r"oneDNN custom operations are on",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
)


_STARTUP_NOISE = re.compile("|".join(_STARTUP_NOISE_PATTERNS))


def filter_startup_noise(stderr: str) -> str:
    """Drop TensorFlow's start-up chatter from captured stderr and keep everything else.

    Parameters
    ----------
    stderr : str
        Text a TensorFlow process wrote to stderr.

    Returns
    -------
    str
        The same text without the lines TensorFlow prints at every start
        (CUDA probing on a machine without a GPU, CPU-feature notices).

    Examples
    --------
    >>> filter_startup_noise("I0000 cudart_stub.cc:31] Could not find cuda drivers")
    ''
    >>> filter_startup_noise("W0000 op_kernel.cc:1] a real warning")
    'W0000 op_kernel.cc:1] a real warning'
    """
    kept = [line for line in stderr.splitlines(keepends=True) if not _STARTUP_NOISE.search(line)]
    return "".join(kept)


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def one_line(text: str, limit: int = 2000) -> str:
    r"""Squeeze a message into one plain line: no terminal escape codes, at most ``limit``.

    A failure message can carry a child's coloured output or a whole tensor; tables and
    one-line errors show it this way, while JSON keeps the full text.

    A printed array (the values of a tensor that Keras puts in a shape error) becomes
    ``[…]``, so the reason after it stays in view.

    Examples
    --------
    >>> one_line("\x1b[31mError:\x1b[0m  bad\n  input", limit=12)
    'Error: bad …'
    >>> one_line("input [[0. 0. 0. 0. 0. 0. 0. 0.] [1. 1. 1. 1. 1. 1. 1. 1.]]. Expected (None, 64)")
    'input […]. Expected (None, 64)'
    """
    plain = " ".join(_ESCAPES.sub("", text).split())
    plain = _PRINTED_ARRAY.sub("[…]", plain)
    return plain if len(plain) <= limit else plain[: limit - 2].rstrip() + " …"


#: Nested brackets of numbers, 30 characters or more: a printed array.
_PRINTED_ARRAY = re.compile(r"\[[\[\]\d\s.,eE+\-…]{30,}\]")
