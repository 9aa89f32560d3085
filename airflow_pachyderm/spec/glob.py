"""Glob checks for specs: the datum engine's own parser, so a spec that validates also plans."""

from __future__ import annotations

from airflow_pachyderm.datums.errors import GlobError as _EngineGlobError
from airflow_pachyderm.datums.glob import compile_glob


class GlobError(ValueError):
    """A glob pattern that Pachyderm would not accept; the message says how to fix it."""


def check_glob(pattern: str) -> int:
    """Validate ``pattern`` and return its number of capture groups ``( )``.

    Capture groups are what ``joinOn``/``groupBy`` refer to as ``$1``, ``$2``...
    """
    if not pattern.startswith("/"):
        # Pachyderm would imply the '/', but a spec says what it means.
        raise GlobError(
            f"glob {pattern!r} must start with '/': it is matched from the repo root, "
            f"write {('/' + pattern)!r}"
        )
    try:
        return compile_glob(pattern).groups
    except _EngineGlobError as exc:
        raise GlobError(str(exc)) from None
