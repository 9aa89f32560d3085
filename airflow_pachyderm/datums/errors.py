"""Errors raised by the datum engine; each message names the input, file or field at fault.

The classes live in :mod:`airflow_pachyderm.errors` (the provider's one error tree).
"""

from __future__ import annotations

from airflow_pachyderm.errors import DatumError, GlobError, ManifestError, OutputCollisionError

__all__ = ["DatumError", "GlobError", "ManifestError", "OutputCollisionError"]
