"""A lakeFS client on ``lakefs-sdk`` with clear errors, safe retries and streaming I/O.

Nothing here knows about Airflow or pipelines: the Airflow hook and the CLI both build on
:class:`LakeFSClient`. The client is composed of one part per concept: the plumbing and
retries (:mod:`~airflow_pachyderm.lakefs.transport`), repositories, branches and tags
(:mod:`~airflow_pachyderm.lakefs.refs`), commits and merges, objects.
"""

from __future__ import annotations

from airflow_pachyderm.lakefs.commits import Commits
from airflow_pachyderm.lakefs.objects import Objects
from airflow_pachyderm.lakefs.refs import Refs
from airflow_pachyderm.lakefs.repositories import Repositories
from airflow_pachyderm.lakefs.transport import (
    CHUNK_SIZE,
    DEFAULT_STORAGE_NAMESPACE_TEMPLATE,
    MAX_PAGE,
    LakeFSConfig,
)


class LakeFSClient(Repositories, Refs, Commits, Objects):
    """Typed access to one lakeFS installation.

    Every method names the repository/ref/path in its errors; see
    :mod:`airflow_pachyderm.lakefs.errors` for the exception types.

    :param config: where lakeFS is; default: read from ``LAKECTL_*`` on first use.
    """


__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_STORAGE_NAMESPACE_TEMPLATE",
    "MAX_PAGE",
    "LakeFSClient",
    "LakeFSConfig",
]
