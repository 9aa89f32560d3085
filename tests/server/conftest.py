"""Helpers for the server's contract tests: the lakefs-sdk APIs and raw HTTP access."""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import dataclass

import lakefs_sdk
import pytest
import urllib3

from airflow_pachyderm.server.process import LakeFSServerProcess


@dataclass
class Api:
    """The lakefs-sdk API groups, plus raw requests for what the sdk cannot express."""

    server: LakeFSServerProcess
    client: lakefs_sdk.ApiClient
    http: urllib3.PoolManager

    def __post_init__(self) -> None:
        self.repos = lakefs_sdk.RepositoriesApi(self.client)
        self.branches = lakefs_sdk.BranchesApi(self.client)
        self.commits = lakefs_sdk.CommitsApi(self.client)
        self.objects = lakefs_sdk.ObjectsApi(self.client)
        self.refs = lakefs_sdk.RefsApi(self.client)
        self.tags = lakefs_sdk.TagsApi(self.client)
        self.config = lakefs_sdk.ConfigApi(self.client)
        self.experimental = lakefs_sdk.ExperimentalApi(self.client)

    def auth_headers(self, key: str | None = None, secret: str | None = None) -> dict[str, str]:
        pair = f"{key or self.server.access_key_id}:{secret or self.server.secret_access_key}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def request(self, method: str, route: str, body=None, headers=None, **query):
        url = f"{self.server.endpoint}/api/v1{route}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return self.http.request(
            method,
            url,
            body=body,
            headers={**self.auth_headers(), **(headers or {})},
            preload_content=True,
        )

    def put(self, repo: str, branch: str, path: str, data: bytes, **headers: str) -> dict:
        """Raw ``application/octet-stream`` upload, as the ``lakefs`` wrapper sends it."""
        response = self.request(
            "POST",
            f"/repositories/{repo}/branches/{branch}/objects",
            body=data,
            headers={"Content-Type": "application/octet-stream", **headers},
            path=path,
        )
        assert response.status == 201, response.data
        return response.json()

    def commit(self, repo: str, branch: str, message: str = "c", **kwargs) -> lakefs_sdk.Commit:
        return self.commits.commit(
            repo, branch, lakefs_sdk.CommitCreation(message=message, **kwargs)
        )

    def read(self, repo: str, ref: str, path: str) -> bytes:
        return bytes(self.objects.get_object(repo, ref, path))

    def paths(self, repo: str, ref: str, **kwargs) -> list[str]:
        return [o.path for o in self.objects.list_objects(repo, ref, **kwargs).results]


@pytest.fixture
def api(lakefs_server: LakeFSServerProcess, lakefs_client: lakefs_sdk.ApiClient) -> Api:
    return Api(lakefs_server, lakefs_client, urllib3.PoolManager(maxsize=8))
