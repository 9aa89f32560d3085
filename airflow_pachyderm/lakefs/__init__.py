"""lakeFS access: a client on lakefs-sdk, its Airflow hook, and provenance metadata."""

from airflow_pachyderm.lakefs.client import LakeFSClient, LakeFSConfig
from airflow_pachyderm.lakefs.errors import (
    BadRequestError,
    ConflictError,
    LakeFSConnectionError,
    LakeFSError,
    NotFoundError,
    PreconditionFailedError,
    ServerError,
    UnauthorizedError,
)

__all__ = [
    "BadRequestError",
    "ConflictError",
    "LakeFSClient",
    "LakeFSConfig",
    "LakeFSConnectionError",
    "LakeFSError",
    "NotFoundError",
    "PreconditionFailedError",
    "ServerError",
    "UnauthorizedError",
]
