"""Exceptions raised by tfthreads.

Every error a user can cause carries a one-line message that names the thing that was
wrong, the value given and what is allowed, so that the CLI can print it without a
traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NotSavedError",
    "SettingError",
    "TFThreadsError",
    "TensorFlowUnavailableError",
    "TooLateError",
    "UnsupportedPlatformError",
]


class TFThreadsError(Exception):
    """Base class of every error tfthreads raises on purpose."""


class SettingError(TFThreadsError, ValueError):
    """A setting has a value outside its documented range."""


class NotSavedError(TFThreadsError, OSError):
    """Results were measured but could not all be written to the results file.

    ``result`` holds everything measured, saved or not, so that nothing measured is
    lost: the command line prints it before the error.
    """

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class TooLateError(TFThreadsError, RuntimeError):
    """TensorFlow's runtime was already initialized, so the thread pools are fixed.

    TensorFlow sizes its pools once per process, when the eager context starts: the first
    op, ``tf.config.list_logical_devices()``, building a Keras model or creating a
    ``tf.data`` dataset all start it.
    """


class TensorFlowUnavailableError(TFThreadsError, ImportError):
    """TensorFlow cannot be imported in this environment."""


class UnsupportedPlatformError(TFThreadsError, OSError):
    """The operation needs Linux's ``/proc`` or ``/sys`` file systems."""
