"""Shared test configuration.

Tests that need a fresh interpreter (TensorFlow fixes its pools once per process) use the
library's one runner, :func:`tfthreads.isolation.run_snippet`, as the docs and gallery do.
"""
