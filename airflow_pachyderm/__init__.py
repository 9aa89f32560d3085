"""airflow-pachyderm: Pachyderm-style versioned data pipelines for Apache Airflow on lakeFS."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_provider_info", "load_pipelines"]


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's provider registry."""
    from airflow_pachyderm.lakefs.connection import (
        CONN_TYPE,
        HOOK_CLASS,
        provider_ui_field_behaviour,
    )

    return {
        "package-name": "airflow-pachyderm",
        "name": "Pachyderm pipelines on lakeFS",
        "description": "Pachyderm-style data-driven, versioned ML pipelines on lakeFS.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "lakeFS",
                "external-doc-url": "https://docs.lakefs.io/",
                "tags": ["software"],
            }
        ],
        "hooks": [
            {
                "integration-name": "lakeFS",
                "python-modules": ["airflow_pachyderm.lakefs.hook"],
            }
        ],
        "sensors": [
            {
                "integration-name": "lakeFS",
                "python-modules": ["airflow_pachyderm.sensors.lakefs"],
            }
        ],
        "triggers": [
            {
                "integration-name": "lakeFS",
                "python-modules": ["airflow_pachyderm.triggers.commits"],
            }
        ],
        "config": {
            "pachyderm": {
                "description": "Pipelines generated from Pachyderm-style specs.",
                "options": {
                    "commit_poll_interval": {
                        "description": "Seconds between two polls of an input branch's "
                        "head by its asset watcher (one request per watched branch).",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "5",
                        "default": "1",
                    }
                },
            }
        },
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": HOOK_CLASS,
                "ui-field-behaviour": provider_ui_field_behaviour(),
            }
        ],
    }


def load_pipelines(
    path: str,
    namespace: dict[str, Any] | None = None,
    *,
    lakefs_conn_id: str = "lakefs_default",
) -> dict[str, Any]:
    """Build one Airflow DAG per pipeline spec found under ``path``.

    :param path: a spec file or a directory of spec files (``*.yaml``, ``*.yml``,
        ``*.json``), relative paths resolved against the calling DAG file's directory.
    :param namespace: the DAG file's ``globals()``; the DAGs are put there so the
        dag-processor finds them.
    :param lakefs_conn_id: the Airflow connection to lakeFS used by the pipelines' tasks.
    :return: the DAGs by dag_id.
    :raises airflow_pachyderm.spec.SpecErrors: a spec is invalid; the message lists every
        error as ``FILE:LINE:COL: field.path: message``.
    """
    from airflow_pachyderm.dag_factory import load_pipelines as _load

    return _load(path, namespace, lakefs_conn_id=lakefs_conn_id, _caller_depth=2)
