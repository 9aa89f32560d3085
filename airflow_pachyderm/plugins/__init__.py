"""Airflow UI plugin: lakeFS history, provenance and reruns of the pipelines.

Registered through the ``airflow.plugins`` entry point. Airflow's api-server mounts the
FastAPI app under ``/pachyderm``; the external views put it in the navigation and on every
DAG's page (Airflow substitutes ``{DAG_ID}``).

Every task process loads plugins (for their macros): this module stays light, and the app
with its imports is built only when the api-server asks for ``fastapi_apps``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/pachyderm"


@cache
def _fastapi_apps() -> list[dict[str, Any]]:
    from airflow_pachyderm.plugins.app import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Pachyderm pipelines"}]


class PachydermPlugin(AirflowPlugin):
    """Pages: pipelines, commits, files, lineage, rerun (see ``airflow_pachyderm.plugins``)."""

    name = "pachyderm"
    external_views = [
        {
            "name": "Pachyderm pipelines",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "pachyderm",
            "category": "browse",
        },
        {
            "name": "lakeFS history",
            "href": f"{URL_PREFIX}/dags/{{DAG_ID}}",
            "destination": "dag",
            "url_route": "pachyderm-dag",
        },
    ]

    @property  # type: ignore[override]
    def fastapi_apps(self) -> list[dict[str, Any]]:
        return _fastapi_apps()
