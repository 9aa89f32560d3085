"""Airflow UI plugin: lakeFS history, provenance and reruns of the pipelines.

Registered through the ``airflow.plugins`` entry point. Airflow's api-server mounts the
FastAPI app under ``/pachyderm``; the external views put it in the navigation and on every
DAG's page (Airflow substitutes ``{DAG_ID}``).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/pachyderm"


def _fastapi_apps() -> list[dict]:
    from airflow_pachyderm.plugins.app import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Pachyderm pipelines"}]


class PachydermPlugin(AirflowPlugin):
    """Pages: pipelines, commits, files, lineage, rerun (see ``airflow_pachyderm.plugins``)."""

    name = "pachyderm"
    fastapi_apps = _fastapi_apps()
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
