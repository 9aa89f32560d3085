"""Session-wide fixtures shared by all test packages.

``lakefs_server`` is one real embedded lakeFS-compatible server process for the whole run;
``lakefs_client`` is a configured ``lakefs_sdk.ApiClient`` for it; ``repo_name`` is a fresh
repository (default branch ``main``) for one test.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from airflow_pachyderm.server.process import LakeFSServerProcess


@pytest.fixture(scope="session")
def lakefs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakeFSServerProcess]:
    with LakeFSServerProcess(data_dir=tmp_path_factory.mktemp("lakefs-data")) as server:
        yield server


@pytest.fixture
def lakefs_client(lakefs_server: LakeFSServerProcess):
    import lakefs_sdk

    configuration = lakefs_sdk.Configuration(
        host=f"{lakefs_server.endpoint}/api/v1",
        username=lakefs_server.access_key_id,
        password=lakefs_server.secret_access_key,
    )
    with lakefs_sdk.ApiClient(configuration) as client:
        yield client


@pytest.fixture
def repo_name(lakefs_client) -> str:
    import lakefs_sdk

    name = f"test-{secrets.token_hex(6)}"
    lakefs_sdk.RepositoriesApi(lakefs_client).create_repository(
        lakefs_sdk.RepositoryCreation(name=name, storage_namespace=f"local://{name}")
    )
    return name


PYTHON_IMAGE = "airflow-pachyderm/python:latest"
SKLEARN_IMAGE = "airflow-pachyderm/python-sklearn:latest"


@pytest.fixture(scope="session")
def docker_api():
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as err:
        pytest.fail(
            f"these tests need a running Docker daemon (docker.from_env().ping() failed: "
            f"{err}); start Docker and run docker/build-images.sh",
            pytrace=False,
        )
    missing = []
    for image in (PYTHON_IMAGE, SKLEARN_IMAGE):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            missing.append(image)
    if missing:
        pytest.fail(
            f"missing Docker image(s) {', '.join(missing)}: run docker/build-images.sh",
            pytrace=False,
        )
    return client.api


@pytest.fixture(scope="session")
def remote_docker(docker_api, tmp_path_factory: pytest.TempPathFactory):
    """A second dockerd on 127.0.0.1 whose containers see the test tree as an empty tmpfs
    (see remote_dockerd.py), holding the python image; yields its ``RemoteDockerd``."""
    from remote_dockerd import remote_dockerd

    with remote_dockerd([PYTHON_IMAGE], hidden=tmp_path_factory.getbasetemp()) as daemon:
        yield daemon
