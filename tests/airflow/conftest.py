"""Fixtures of the component tests: one real Airflow deployment per test session.

The deployment (api-server, scheduler, dag-processor, triggerer) starts once, when the first
test needs it, and is always torn down, process groups included. Its lakeFS connection
comes from ``AIRFLOW_CONN_LAKEFS_DEFAULT`` and points at a lakeFS-compatible server of its
own: the demo spec names its repositories (training, attributes, code, model, inference),
so they must not meet repositories of other tests on the session-wide server. Tests that
share the deployment use their own repositories or DAGs, or run in the order their module
documents.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow_stack import AirflowStack
from celery_specs import CELERY_SPECS
from celery_stack import CeleryStack, celery_stack
from dag_files import ML_DEMO, DagFiles, write_dag_files, write_pipelines_dag

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.local.airflow import lakefs_connection_env
from airflow_pachyderm.server.process import LakeFSServerProcess

STARTUP_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def demo_lakefs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakeFSServerProcess]:
    with LakeFSServerProcess(data_dir=tmp_path_factory.mktemp("demo-lakefs")) as server:
        yield server


@pytest.fixture(scope="session")
def lakefs(demo_lakefs: LakeFSServerProcess) -> Iterator[LakeFSClient]:
    client = LakeFSClient(
        LakeFSConfig(demo_lakefs.endpoint, demo_lakefs.access_key_id, demo_lakefs.secret_access_key)
    )
    yield client
    client.close()


@pytest.fixture(scope="session")
def dag_files(tmp_path_factory: pytest.TempPathFactory) -> DagFiles:
    return write_dag_files(
        tmp_path_factory.mktemp("airflow-home") / "dags", tmp_path_factory.mktemp("specs")
    )


@pytest.fixture(scope="session")
def airflow_stack(dag_files: DagFiles, demo_lakefs: LakeFSServerProcess) -> Iterator[AirflowStack]:
    stack = AirflowStack(
        dag_files.valid.parent.parent,
        # "outsider" may log in but has no role: the UI plugin's 403 tests need one.
        users={"admin": "admin", "viewer": "viewer", "outsider": ""},
        extra_env={
            **lakefs_connection_env(
                demo_lakefs.endpoint, demo_lakefs.access_key_id, demo_lakefs.secret_access_key
            ),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # The watchers' poll interval (the default, said explicitly).
            "AIRFLOW__PACHYDERM__COMMIT_POLL_INTERVAL": "1",
            # Pausing or unpausing a DAG stops or starts its asset watchers at the next
            # parse of its file: parse often, so that tests do not wait 30 s for it.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
        },
    )
    stack.migrate()
    try:
        stack.start()
        stack.wait_healthy(time.monotonic() + STARTUP_TIMEOUT)
        yield stack
    finally:
        stack.stop()


# -- the CeleryExecutor deployment (test_celery.py) -------------------------------------------


# Module scope: only test_celery.py uses the Celery deployment; it must not idle (two workers,
# a scheduler, PostgreSQL) through the rest of the session.
@pytest.fixture(scope="module")
def celery_lakefs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakeFSServerProcess]:
    """The Celery deployment's lakeFS server (it uses the demo's repository names too)."""
    with LakeFSServerProcess(data_dir=tmp_path_factory.mktemp("celery-lakefs")) as server:
        yield server


@pytest.fixture(scope="module")
def celery_deployment(
    tmp_path_factory: pytest.TempPathFactory, celery_lakefs: LakeFSServerProcess, docker_api: Any
) -> Iterator[CeleryStack]:
    """redis, PostgreSQL, Airflow's components and two Celery workers (a and b), once per
    session; the DAGs folder holds the ml demo and the pipelines of ``celery_specs``."""
    home = tmp_path_factory.mktemp("celery-home")
    write_pipelines_dag(home / "dags", "ml_pipelines", "the ml demo", ML_DEMO / "pipelines.yaml")
    specs = home / "specs.yaml"
    specs.write_text(CELERY_SPECS)
    write_pipelines_dag(home / "dags", "celery_pipelines", "the Celery tests", specs)
    connection = lakefs_connection_env(
        celery_lakefs.endpoint, celery_lakefs.access_key_id, celery_lakefs.secret_access_key
    )
    with celery_stack(home, extra_env=connection) as stack:
        yield stack
