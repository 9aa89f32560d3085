"""Getting a Docker API client: from an Airflow connection when one is named, else from the
environment (DOCKER_HOST and friends). The only place in runners/ that touches Airflow.

The connection names the *daemon* (the Docker provider's own ``docker_conn_id`` names a
registry login; its daemon URL is an operator argument): host ``tcp://10.0.0.5`` (or
``unix:///var/run/docker.sock``, or a bare host name, read as ``tcp://``), port ``2376``,
and for TLS the extras ``tls_ca_cert``, ``tls_client_cert``, ``tls_client_key`` (paths on
the worker). Images must already be on that daemon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_pachyderm.runners.base import RunnerError

if TYPE_CHECKING:
    import docker


def daemon_url(host: str, port: int | None) -> str:
    """The Docker base URL of a connection's ``host`` and ``port``.

    :raises RunnerError: no host, or a port on a Unix socket.
    """
    if not host:
        raise RunnerError("the Docker connection has no host: set it to the daemon's URL")
    if "://" not in host:
        host = f"tcp://{host}"
    if port:
        if host.startswith("unix://"):
            raise RunnerError(f"the Docker connection's host {host!r} is a socket: drop the port")
        host = f"{host.rstrip('/')}:{port}"
    return host


def docker_api_client(docker_conn_id: str | None = None) -> docker.APIClient:
    """A client for the daemon of Airflow connection ``docker_conn_id``, else of the
    environment. :raises RunnerError: the connection has no usable host."""
    if docker_conn_id:
        from airflow.providers.docker.hooks.docker import DockerHook
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(docker_conn_id)
        extra = conn.extra_dejson
        tls = False
        if any(extra.get(k) for k in ("tls_ca_cert", "tls_client_cert", "tls_client_key")):
            tls = DockerHook.construct_tls_config(
                ca_cert=extra.get("tls_ca_cert"),
                client_cert=extra.get("tls_client_cert"),
                client_key=extra.get("tls_client_key"),
            )
        url = daemon_url(conn.host or "", conn.port)
        # docker_conn_id=None: that argument is a registry login in the Docker provider.
        return DockerHook(docker_conn_id=None, base_url=url, tls=tls).api_client
    import docker

    return docker.from_env().api
