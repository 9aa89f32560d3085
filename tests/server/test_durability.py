"""Crash safety: SIGKILL during writes, then restart; every acknowledged commit is intact."""

from __future__ import annotations

import threading
import time

import lakefs_sdk
import pytest
import urllib3
from lakefs_sdk.exceptions import ApiException

from airflow_pachyderm.server.process import LakeFSServerProcess


def _sdk(server: LakeFSServerProcess) -> lakefs_sdk.ApiClient:
    return lakefs_sdk.ApiClient(
        lakefs_sdk.Configuration(
            host=f"{server.endpoint}/api/v1",
            username=server.access_key_id,
            password=server.secret_access_key,
        )
    )


@pytest.mark.slow
def test_kill_9_during_writes_keeps_acknowledged_commits(tmp_path):
    server = LakeFSServerProcess(data_dir=tmp_path / "data").start()
    try:
        client = _sdk(server)
        lakefs_sdk.RepositoriesApi(client).create_repository(
            lakefs_sdk.RepositoryCreation(name="crash", storage_namespace="local://crash")
        )
        branches = [f"b{i}" for i in range(4)]
        for name in branches:
            lakefs_sdk.BranchesApi(client).create_branch(
                "crash", lakefs_sdk.BranchCreation(name=name, source="main")
            )
        acknowledged: dict[str, list[tuple[str, str, bytes]]] = {b: [] for b in branches}
        stop = threading.Event()
        http = urllib3.PoolManager(
            headers=urllib3.make_headers(
                basic_auth=f"{server.access_key_id}:{server.secret_access_key}"
            )
        )

        def writer(branch: str) -> None:
            commits = lakefs_sdk.CommitsApi(_sdk(server))
            n = 0
            while not stop.is_set():
                data = f"{branch}-{n}".encode() * 500
                try:
                    response = http.request(
                        "POST",
                        f"{server.endpoint}/api/v1/repositories/crash/branches/{branch}/objects"
                        f"?path=f{n}",
                        body=data,
                        retries=False,
                    )
                    if response.status != 201:
                        return
                    commit = commits.commit(
                        "crash", branch, lakefs_sdk.CommitCreation(message=f"{branch} {n}")
                    )
                except (ApiException, urllib3.exceptions.HTTPError, OSError):
                    return  # the server died under us: only acknowledged commits count
                acknowledged[branch].append((commit.id, f"f{n}", data))
                n += 1

        threads = [threading.Thread(target=writer, args=(b,)) for b in branches]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(30)
        assert all(acknowledged[b] for b in branches), "writers made no progress before the kill"

        server.start()
        client = _sdk(server)
        refs = lakefs_sdk.RefsApi(client)
        objects = lakefs_sdk.ObjectsApi(client)
        for branch, commits in acknowledged.items():
            log_ids = []
            after = ""
            while True:
                page = refs.log_commits("crash", branch, after=after, amount=1000)
                log_ids += [c.id for c in page.results]
                if not page.pagination.has_more:
                    break
                after = page.pagination.next_offset
            for commit_id, path, data in commits:
                assert commit_id in log_ids
                assert bytes(objects.get_object("crash", commit_id, path)) == data
            last_id, _, _ = commits[-1]
            listed = objects.list_objects("crash", last_id, amount=1000).results
            assert len(listed) == len(commits)
    finally:
        server.close()


def test_restart_keeps_state(tmp_path):
    server = LakeFSServerProcess(data_dir=tmp_path / "data").start()
    try:
        client = _sdk(server)
        lakefs_sdk.RepositoriesApi(client).create_repository(
            lakefs_sdk.RepositoryCreation(name="keep", storage_namespace="local://keep")
        )
        path = tmp_path / "f"
        path.write_bytes(b"kept")
        lakefs_sdk.ObjectsApi(client).upload_object("keep", "main", "f", content=str(path))
        commit = lakefs_sdk.CommitsApi(client).commit(
            "keep", "main", lakefs_sdk.CommitCreation(message="m")
        )
        server.restart()
        client = _sdk(server)
        head = lakefs_sdk.BranchesApi(client).get_branch("keep", "main")
        assert head.commit_id == commit.id
        assert bytes(lakefs_sdk.ObjectsApi(client).get_object("keep", "main", "f")) == b"kept"
    finally:
        server.close()
