"""The plugin as Airflow loads it: from its entry point, light for task processes."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from airflow_pachyderm.plugins import URL_PREFIX, PachydermPlugin


def test_the_entry_point_names_the_plugin() -> None:
    (entry,) = [e for e in entry_points(group="airflow.plugins") if e.name == "pachyderm"]
    assert entry.load() is PachydermPlugin


def test_loading_the_plugin_does_not_build_the_app() -> None:
    # Task processes load every plugin; only the api-server reads fastapi_apps.
    code = (
        "import sys\n"
        "from airflow_pachyderm.plugins import PachydermPlugin\n"
        "PachydermPlugin().external_views\n"
        "assert 'airflow_pachyderm.plugins.app' not in sys.modules\n"
        "assert 'airflow.api_fastapi.core_api.security' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_api_server_gets_one_app_under_the_prefix() -> None:
    plugin = PachydermPlugin()
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX
    assert plugin.fastapi_apps[0]["app"] is app["app"]  # built once
