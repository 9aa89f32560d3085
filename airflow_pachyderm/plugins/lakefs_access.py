"""The plugin's lakeFS client: built from the Airflow connection, kept server-side.

lakeFS credentials stay in the api-server; the browser only ever talks to the plugin.
"""

from __future__ import annotations

import threading

from airflow_pachyderm.lakefs.client import LakeFSClient, LakeFSConfig
from airflow_pachyderm.lakefs.hook import LakeFSHook

CONN_ID = LakeFSHook.default_conn_name
_lock = threading.Lock()
_clients: dict[LakeFSConfig, LakeFSClient] = {}


def lakefs_config(conn_id: str = CONN_ID) -> LakeFSConfig:
    """Settings of connection ``conn_id`` as the api-server sees them (env, DB, secrets).

    :raises AirflowNotFoundException: no such connection and no ``LAKECTL_*`` settings.
    """
    from airflow.models.connection import Connection

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
    except Exception as exc:  # "not defined": fall back to LAKECTL_*, as the hook does
        if "isn't defined" not in str(exc):
            raise
        conn = None
    return LakeFSHook.config_from_connection(conn, conn_id)


def lakefs_client(conn_id: str = CONN_ID) -> LakeFSClient:
    """One client per configuration, shared by the requests (its pool is thread-safe)."""
    config = lakefs_config(conn_id)
    with _lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = LakeFSClient(config)
        return client
