"""A job whose containers run on a Docker daemon that cannot see the worker's directories.

The daemon is named by an Airflow Docker connection, as a deployment would name it; the
output commit must hold the same files as the same job run on the local daemon.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from jobkit import JobDriver, make_repo, per_file_spec

from airflow_pachyderm.runners.cache import ContentCache
from airflow_pachyderm.runners.docker import DockerRunner

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CMD = [
    "sh", "-c",
    'mkdir -p /pfs/out/upper && tr a-z A-Z < "$data" > "/pfs/out/upper/$(basename "$data")" '
    '&& wc -c < "$data" > "/pfs/out/$(basename "$data").len"',
]  # fmt: skip


def _files(lakefs, repo: str, commit: str) -> dict[str, bytes]:
    return {
        o.path: lakefs.read_bytes(repo, commit, o.path)
        for o in lakefs.list_objects(repo, commit)
        if o.path_type == "object" and not o.path.startswith("_pachyderm/")
    }


def test_job_on_a_remote_daemon_commits_what_the_local_one_does(
    lakefs, driver, remote_docker, tmp_path, monkeypatch
) -> None:
    data = make_repo(lakefs, {f"f{i}.txt": f"file number {i}\n".encode() for i in range(5)})
    local_spec = per_file_spec("local", data, CMD)
    remote_spec = per_file_spec("remote", data, CMD)
    url = urlparse(remote_docker.url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_REMOTE_DOCKER",
        json.dumps({"conn_type": "docker", "host": f"tcp://{url.hostname}", "port": url.port}),
    )
    remote_runner = DockerRunner(docker_conn_id="remote_docker")
    assert remote_runner.transfer == "archive"
    remote = JobDriver(lakefs, tmp_path / "remote-work", ContentCache(tmp_path / "remote-cache"),
                       runner=remote_runner)  # fmt: skip

    local_commit = driver.run(local_spec).commit
    remote_commit = remote.run(remote_spec).commit

    local_files = _files(lakefs, local_spec.output_repo, local_commit)
    assert len(local_files) == 10
    assert local_files["upper/f3.txt"] == b"FILE NUMBER 3\n"
    assert _files(lakefs, remote_spec.output_repo, remote_commit) == local_files
