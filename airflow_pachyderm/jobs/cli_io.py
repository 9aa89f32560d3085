"""Keeping a command's stdout for its results while Airflow logs to stdout."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def results_stdout() -> Iterator[TextIO]:
    """Send everything written to fd 1 (Airflow's logs included) to stderr meanwhile, and
    yield a stream on the real stdout for the command's machine-readable results."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    results = os.fdopen(os.dup(saved), "w")
    try:
        yield results
    finally:
        results.flush()
        results.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
