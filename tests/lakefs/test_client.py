"""LakeFSClient and LakeFSHook against the real embedded server process."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import tracemalloc
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from airflow_pachyderm.lakefs import (
    BadRequestError,
    ConflictError,
    LakeFSClient,
    LakeFSConfig,
    LakeFSConnectionError,
    NotFoundError,
    PreconditionFailedError,
    ServerError,
    UnauthorizedError,
)


@pytest.fixture
def client(lakefs_server) -> LakeFSClient:
    config = LakeFSConfig(
        endpoint=lakefs_server.endpoint,
        access_key_id=lakefs_server.access_key_id,
        secret_access_key=lakefs_server.secret_access_key,
    )
    c = LakeFSClient(config)
    yield c
    c.close()


@pytest.fixture
def repo(client: LakeFSClient) -> str:
    name = f"hook-{uuid.uuid4().hex[:10]}"
    client.create_repository(name)
    return name


def test_config_from_lakectl_variables(lakefs_server) -> None:
    env = {
        "LAKECTL_SERVER_ENDPOINT_URL": lakefs_server.endpoint + "/api/v1",
        "LAKECTL_CREDENTIALS_ACCESS_KEY_ID": lakefs_server.access_key_id,
        "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY": lakefs_server.secret_access_key,
    }
    config = LakeFSConfig.from_env(env)
    assert config.base_url == lakefs_server.endpoint
    LakeFSClient(config).health_check()


def test_config_from_env_names_missing_variables() -> None:
    with pytest.raises(Exception, match="LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"):
        LakeFSConfig.from_env({"LAKECTL_SERVER_ENDPOINT_URL": "http://127.0.0.1:1",
                               "LAKECTL_CREDENTIALS_ACCESS_KEY_ID": "x"})


def test_secret_not_in_repr(lakefs_server) -> None:
    config = LakeFSConfig(lakefs_server.endpoint, "AKID", "very-secret-value")
    assert "very-secret-value" not in repr(config)


def test_bad_credentials_are_unauthorized(lakefs_server) -> None:
    bad = LakeFSClient(LakeFSConfig(lakefs_server.endpoint, lakefs_server.access_key_id, "nope"))
    with pytest.raises(UnauthorizedError) as info:
        bad.get_repository("anything")
    assert info.value.status == 401
    assert "anything" in str(info.value)


def test_repository_lifecycle(client: LakeFSClient) -> None:
    name = f"life-{uuid.uuid4().hex[:8]}"
    created = client.create_repository(name, default_branch="trunk")
    assert created.default_branch == "trunk"
    assert created.storage_namespace == f"local://{name}"
    assert client.create_repository(name, exist_ok=True).id == name
    with pytest.raises(ConflictError):
        client.create_repository(name)
    assert name in {r.id for r in client.list_repositories(prefix="life-")}
    client.delete_repository(name)
    assert not client.repository_exists(name)
    client.delete_repository(name, missing_ok=True)
    with pytest.raises(BadRequestError):
        client.create_repository("Bad_Name!")


def test_errors_name_repo_ref_and_path(client: LakeFSClient, repo: str) -> None:
    with pytest.raises(NotFoundError) as info:
        client.stat(repo, "main", "no/such/file.csv")
    assert f"{repo}@main/no/such/file.csv" in str(info.value)
    with pytest.raises(NotFoundError) as info:
        client.get_branch(repo, "ghost")
    assert f"{repo}@ghost" in str(info.value)
    client.create_branch(repo, "dev", "main")
    with pytest.raises(ConflictError):
        client.create_branch(repo, "dev", "main")
    # A retried task finds its branch again instead of failing.
    head = client.get_branch(repo, "dev")
    assert client.create_branch(repo, "dev", "main", exist_ok=True) == head


def test_refs_resolve_like_lakefs(client: LakeFSClient, repo: str) -> None:
    commits = []
    for i in range(3):
        client.upload(repo, "main", f"f{i}.txt", f"v{i}".encode())
        commits.append(client.commit(repo, "main", f"c{i}", metadata={"i": str(i)}).id)
    assert all(len(c) == 64 for c in commits)
    assert client.resolve_ref(repo, "main") == commits[2]
    assert client.resolve_ref(repo, "main~1") == commits[1]
    assert client.resolve_ref(repo, "main~2") == commits[0]
    assert client.resolve_ref(repo, "main^1") == commits[1]
    assert client.resolve_ref(repo, commits[0][:12]) == commits[0]
    client.create_tag(repo, "v1", "main~1")
    assert client.resolve_ref(repo, "v1") == commits[1]
    assert client.get_tag(repo, "v1") == commits[1]
    # main@ ignores uncommitted changes; main sees them.
    client.upload(repo, "main", "dirty.txt", b"x")
    assert client.resolve_ref(repo, "main@") == commits[2]
    assert client.exists(repo, "main", "dirty.txt")
    assert not client.exists(repo, "main@", "dirty.txt")
    assert client.get_commit(repo, "main").metadata == {"i": "2"}
    with pytest.raises(ConflictError):
        client.create_tag(repo, "v1", "main")
    assert [t.id for t in client.list_tags(repo)] == ["v1"]
    client.delete_tag(repo, "v1")
    with pytest.raises(NotFoundError):
        client.get_tag(repo, "v1")


def test_commit_without_changes_is_refused(client: LakeFSClient, repo: str) -> None:
    with pytest.raises(BadRequestError):
        client.commit(repo, "main", "nothing")
    commit = client.commit(repo, "main", "nothing but allowed", allow_empty=True)
    assert client.resolve_ref(repo, "main") == commit.id


def test_log_and_listing_are_lazy_and_paginated(client: LakeFSClient, repo: str) -> None:
    for i in range(1050):
        client.commit(repo, "main", f"empty {i}", allow_empty=True)
    log = client.log_commits(repo, "main")
    first = next(log)
    assert first.message == "empty 1049"
    assert sum(1 for _ in log) == 1050  # 1049 more plus "Repository created"
    assert [c.message for c in client.log_commits(repo, "main", amount=3)] == [
        "empty 1049", "empty 1048", "empty 1047"
    ]

    paths = [f"data/{i:05d}.txt" for i in range(1100)]
    for path in paths:
        client.upload(repo, "main", path, b"x")
    listed = [o.path for o in client.list_objects(repo, "main", prefix="data/")]
    assert listed == paths
    after = [o.path for o in client.list_objects(repo, "main", prefix="data/", after=paths[1097])]
    assert after == paths[1098:]
    top = list(client.list_objects(repo, "main", delimiter="/"))
    assert [(o.path, o.path_type) for o in top] == [("data/", "common_prefix")]


def test_streaming_round_trip_has_bounded_memory(
    client: LakeFSClient, repo: str, tmp_path: Path
) -> None:
    size = 48 * 1024 * 1024
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as fh:
        block = os.urandom(1024 * 1024)
        for i in range(size // len(block)):
            chunk = bytes([i % 256]) + block[1:]
            fh.write(chunk)
            digest.update(chunk)
    tracemalloc.start()
    try:
        stats = client.upload(repo, "main", "big/file.bin", source)
        target = tmp_path / "back.bin"
        written = client.download(repo, "main", "big/file.bin", target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.size_bytes == size
    assert written == size
    back = hashlib.sha256()
    with target.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
    # The file never sits in memory: a few chunk buffers at most.
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak} bytes for a {size}-byte file"


def test_upload_sources_metadata_and_if_absent(client: LakeFSClient, repo: str) -> None:
    client.upload(repo, "main", "a.txt", io.BytesIO(b"from a file object"),
                  metadata={"owner": "ml"}, content_type="text/plain")
    stats = client.stat(repo, "main", "a.txt")
    assert stats.metadata == {"owner": "ml"}
    assert stats.content_type == "text/plain"
    assert client.read_bytes(repo, "main", "a.txt") == b"from a file object"
    with pytest.raises(PreconditionFailedError):
        client.upload(repo, "main", "a.txt", b"again", if_absent=True)
    assert client.read_bytes(repo, "main", "a.txt") == b"from a file object"


def test_diff_merge_revert_reset(client: LakeFSClient, repo: str) -> None:
    client.upload(repo, "main", "keep.txt", b"1")
    client.upload(repo, "main", "gone.txt", b"1")
    base = client.commit(repo, "main", "base").id
    client.create_branch(repo, "feature", "main")
    client.upload(repo, "feature", "new.txt", b"2")
    client.delete_object(repo, "feature", "gone.txt")
    uncommitted = {(d.path, d.type) for d in client.diff_uncommitted(repo, "feature")}
    assert uncommitted == {("new.txt", "added"), ("gone.txt", "removed")}
    client.commit(repo, "feature", "feature work")
    assert {(d.path, d.type) for d in client.diff(repo, "main", "feature")} == uncommitted
    merged = client.merge(repo, "feature", "main", message="merge feature",
                          metadata={"why": "test"})
    assert client.resolve_ref(repo, "main") == merged
    assert not client.exists(repo, "main", "gone.txt")

    head = client.revert(repo, "main", merged, parent_number=1)
    assert head != merged
    assert client.exists(repo, "main", "gone.txt")
    assert not client.exists(repo, "main", "new.txt")

    client.upload(repo, "main", "scratch.txt", b"x")
    client.reset_branch(repo, "main")
    assert not client.exists(repo, "main", "scratch.txt")

    client.hard_reset_branch(repo, "main", base)
    assert client.resolve_ref(repo, "main") == base
    client.delete_branch(repo, "feature")
    assert not client.branch_exists(repo, "feature")
    client.delete_branch(repo, "feature", missing_ok=True)


def test_merge_conflict_is_a_conflict_error(client: LakeFSClient, repo: str) -> None:
    client.upload(repo, "main", "same.txt", b"base")
    client.commit(repo, "main", "base")
    client.create_branch(repo, "other", "main")
    client.upload(repo, "main", "same.txt", b"main side")
    client.commit(repo, "main", "main side")
    client.upload(repo, "other", "same.txt", b"other side")
    client.commit(repo, "other", "other side")
    with pytest.raises(ConflictError):
        client.merge(repo, "other", "main")
    client.merge(repo, "other", "main", strategy="source-wins")
    assert client.read_bytes(repo, "main", "same.txt") == b"other side"


def test_delete_many_objects(client: LakeFSClient, repo: str) -> None:
    paths = [f"x/{i}" for i in range(1200)]
    for path in paths:
        client.upload(repo, "main", path, b".")
    client.commit(repo, "main", "many")
    client.delete_objects(repo, "main", [*paths[:1100], "x/never-existed"])
    remaining = [o.path for o in client.list_objects(repo, "main", prefix="x/")]
    assert sorted(remaining) == sorted(paths[1100:])


class _FlakyHandler(BaseHTTPRequestHandler):
    """Answers 503 to everything and counts requests by method."""

    counts: dict[str, int] = {}

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        type(self).counts[self.command] = type(self).counts.get(self.command, 0) + 1
        body = b'{"message": "unavailable"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _fail

    def log_message(self, *args: object) -> None:
        return


def test_idempotent_calls_retry_and_others_do_not() -> None:
    _FlakyHandler.counts = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        flaky = LakeFSClient(LakeFSConfig(endpoint, "a", "b", retries=3))
        with pytest.raises(ServerError):
            flaky.get_branch("repo", "main")
        assert _FlakyHandler.counts.get("GET") == 3
        with pytest.raises(ServerError):
            flaky.commit("repo", "main", "must not be sent twice")
        assert _FlakyHandler.counts.get("POST") == 1
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_server_is_a_connection_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = LakeFSClient(LakeFSConfig(f"http://127.0.0.1:{port}", "a", "b", retries=2))
    started = time.monotonic()
    with pytest.raises(LakeFSConnectionError, match=f"127.0.0.1:{port}"):
        client.get_repository("repo")
    assert time.monotonic() - started < 10


def test_object_entries_list_what_list_objects_lists(
    client: LakeFSClient, repo: str, monkeypatch
) -> None:
    import airflow_pachyderm.lakefs.objects as objects_module

    for path, data in {"a.txt": b"1", "d/b.txt": b"22", "d/c.txt": b"333", "e.txt": b""}.items():
        client.upload(repo, "main", path, data)
    client.commit(repo, "main", "four files")
    monkeypatch.setattr(objects_module, "MAX_PAGE", 2)  # several pages
    expected = [(o.path, o.checksum, o.size_bytes) for o in client.list_objects(repo, "main")]
    assert [tuple(e) for e in client.iter_object_entries(repo, "main")] == expected
    assert [e.path for e in client.iter_object_entries(repo, "main", prefix="d/")] == [
        "d/b.txt", "d/c.txt",
    ]
    with pytest.raises(NotFoundError):
        list(client.iter_object_entries(repo, "no-such-branch"))
