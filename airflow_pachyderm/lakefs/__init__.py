"""lakeFS access: a client on lakefs-sdk and its Airflow hook (nothing about pipelines).

Names are imported lazily so that light modules of this package (the connection form used
by ``get_provider_info``, naming rules) do not pay for importing lakefs-sdk.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LakeFSClient": "airflow_pachyderm.lakefs.client",
    "LakeFSConfig": "airflow_pachyderm.lakefs.client",
    "BadRequestError": "airflow_pachyderm.lakefs.errors",
    "ConflictError": "airflow_pachyderm.lakefs.errors",
    "LakeFSConnectionError": "airflow_pachyderm.lakefs.errors",
    "LakeFSError": "airflow_pachyderm.lakefs.errors",
    "NotFoundError": "airflow_pachyderm.lakefs.errors",
    "PreconditionFailedError": "airflow_pachyderm.lakefs.errors",
    "ServerError": "airflow_pachyderm.lakefs.errors",
    "UnauthorizedError": "airflow_pachyderm.lakefs.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
