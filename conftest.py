"""Test-session set-up that must happen before anything imports Airflow.

Airflow reads its configuration at import time, so the isolated AIRFLOW_HOME, the DAGs
folder and the switches below are set here, in the root conftest, which pytest loads first.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_home = Path(tempfile.mkdtemp(prefix="airflow-pachyderm-tests-"))
atexit.register(shutil.rmtree, _home, ignore_errors=True)
(_home / "dags").mkdir()
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_home / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"
os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = "airflow-pachyderm-tests-only"
os.environ["AIRFLOW__CORE__FERNET_KEY"] = ""
# Tests never fall back to a developer's own lakeFS settings by accident.
for _name in list(os.environ):
    if _name.startswith("LAKECTL_"):
        del os.environ[_name]
