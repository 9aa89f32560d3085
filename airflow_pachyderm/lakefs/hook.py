"""Airflow hook for lakeFS (connection type ``lakefs``)."""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

from airflow.sdk import BaseHook

from airflow_pachyderm.compat import AirflowNotFoundException
from airflow_pachyderm.lakefs.client import (
    DEFAULT_STORAGE_NAMESPACE_TEMPLATE,
    LakeFSClient,
    LakeFSConfig,
)
from airflow_pachyderm.lakefs.connection import CONN_TYPE, UI_FIELD_BEHAVIOUR

log = logging.getLogger(__name__)


class LakeFSHook(BaseHook):
    """
    Interact with lakeFS through ``lakefs-sdk``: :meth:`get_conn` returns the
    :class:`~airflow_pachyderm.lakefs.client.LakeFSClient` for the connection.

    The connection's host is the lakeFS endpoint URL, login the access key id, password
    the secret access key; extra may hold ``storage_namespace`` (a template such as
    ``s3://bucket/{repo}`` for repositories the provider creates) plus ``retries`` and
    ``timeout``. When no such Airflow connection exists (for example on a laptop, outside
    Airflow) the variables lakeFS's own clients read are used instead:
    ``LAKECTL_SERVER_ENDPOINT_URL``, ``LAKECTL_CREDENTIALS_ACCESS_KEY_ID``,
    ``LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY``.

    :param lakefs_conn_id: Airflow connection id of type ``lakefs``.
    """

    conn_name_attr = "lakefs_conn_id"
    default_conn_name = "lakefs_default"
    conn_type = CONN_TYPE
    hook_name = "lakeFS"

    def __init__(self, lakefs_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lakefs_conn_id = lakefs_conn_id
        self._client: LakeFSClient | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return copy.deepcopy(UI_FIELD_BEHAVIOUR)

    def _load_config(self) -> LakeFSConfig:
        try:
            conn = self.get_connection(self.lakefs_conn_id)
        except AirflowNotFoundException:
            conn = None
        return self.config_from_connection(conn, self.lakefs_conn_id)

    @classmethod
    async def aconfig(cls, lakefs_conn_id: str = default_conn_name) -> LakeFSConfig:
        """The connection's settings, read without blocking an event loop (for triggers).

        :raises AirflowNotFoundException: no such connection and no ``LAKECTL_*`` variables.
        """
        try:
            aget = getattr(BaseHook, "aget_connection", None)
            if aget is not None:
                conn = await aget(lakefs_conn_id)
            else:  # Airflow versions without the async accessor
                from asgiref.sync import sync_to_async

                conn = await sync_to_async(BaseHook.get_connection)(lakefs_conn_id)
        except AirflowNotFoundException:
            conn = None
        return cls.config_from_connection(conn, lakefs_conn_id)

    @staticmethod
    def config_from_connection(conn: Any | None, lakefs_conn_id: str) -> LakeFSConfig:
        """Settings from an Airflow connection, or from ``LAKECTL_*`` when there is none.

        :raises AirflowNotFoundException: ``conn`` is None and ``LAKECTL_*`` are not set.
        """
        if conn is None:
            # Only a missing connection falls back: a failing secrets backend or a typo in
            # a configured deployment must not silently point at another lakeFS.
            if os.environ.get("LAKECTL_SERVER_ENDPOINT_URL"):
                log.warning("no Airflow connection %r: using the LAKECTL_* variables",
                            lakefs_conn_id)
                return LakeFSConfig.from_env()
            raise AirflowNotFoundException(
                f"The conn_id `{lakefs_conn_id}` isn't defined (and LAKECTL_* are not set)"
            )
        extra = conn.extra_dejson or {}
        host = conn.host or ""
        if conn.port and "://" in host and host.count(":") == 1:
            host = f"{host}:{conn.port}"
        if "://" not in host:
            scheme = conn.schema or "http"
            host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
        return LakeFSConfig(
            endpoint=host,
            access_key_id=conn.login or "",
            secret_access_key=conn.password or "",
            storage_namespace_template=extra.get(
                "storage_namespace", DEFAULT_STORAGE_NAMESPACE_TEMPLATE
            ),
            retries=int(extra.get("retries", 4)),
            timeout=float(extra.get("timeout", 60.0)),
        )

    def get_conn(self) -> LakeFSClient:
        """The client for this connection (made on first use, then reused).

        :raises AirflowNotFoundException: no such connection and no ``LAKECTL_*`` variables.
        """
        if self._client is None:
            self._client = LakeFSClient(self._load_config())
        return self._client

    @property
    def config(self) -> LakeFSConfig:
        """The connection's settings.

        :raises AirflowNotFoundException: no such connection and no ``LAKECTL_*`` variables.
        """
        return self.get_conn().config

    def test_connection(self) -> tuple[bool, str]:
        """Used by the Test button of the connection form."""
        try:
            client = self.get_conn()
            client.health_check()
            version = client.version()
        except Exception as exc:
            return False, str(exc)
        return True, f"Connected to lakeFS {version} at {client.config.base_url}".replace(
            "  ", " "
        )
