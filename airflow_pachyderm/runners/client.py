"""Getting a Docker API client: from an Airflow connection when one is named, else from the
environment (DOCKER_HOST and friends). The only place in runners/ that touches Airflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker


def docker_api_client(docker_conn_id: str | None = None) -> docker.APIClient:
    if docker_conn_id:
        from airflow.providers.docker.hooks.docker import DockerHook

        return DockerHook(docker_conn_id=docker_conn_id).api_client
    import docker

    return docker.from_env().api
