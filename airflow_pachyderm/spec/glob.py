"""Glob checks for specs: the datum engine's own parser, so a spec that validates also plans."""

from __future__ import annotations

from airflow_pachyderm.datums.glob import compile_glob
from airflow_pachyderm.errors import GlobError

__all__ = ["GlobError", "check_glob"]


def check_glob(pattern: str) -> int:
    """Validate ``pattern`` and return its number of capture groups ``( )``.

    Capture groups are what ``joinOn``/``groupBy`` refer to as ``$1``, ``$2``...

    :raises GlobError: a pattern Pachyderm would not accept; the message says how to fix it.
    """
    if not pattern.startswith("/"):
        # Pachyderm would imply the '/', but a spec says what it means.
        raise GlobError(
            f"glob {pattern!r} must start with '/': it is matched from the repo root, "
            f"write {('/' + pattern)!r}"
        )
    return compile_glob(pattern).groups
