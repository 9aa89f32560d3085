"""Causes 1-3: stored object data is checked against its content address on every read.

Faults are injected on disk, in the blob files the server wrote: a flipped byte, a
truncation, a deletion, a flipped byte in an object too big to hash before sending, and a
``kill -9`` of the server in the middle of an upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawhttp import RawClient

from airflow_pachyderm.server.process import LakeFSServerProcess
from airflow_pachyderm.server.transfer import VERIFY_CHUNK

BIG = 9 * 1024 * 1024  # above the size hashed before the first byte (8 MiB)


def blob_file(stats: dict) -> Path:
    address = stats["physical_address"]
    assert address.startswith("local://")
    return Path(address.removeprefix("local://"))


def flip_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_flipped_byte_is_never_served(raw: RawClient, where: str) -> None:
    repo = raw.new_repo()
    data = secrets.token_bytes(200_000)
    stats = raw.upload(repo, "data/file.bin", data)
    blob = blob_file(stats)
    assert raw.get(repo, "main", "data/file.bin").body == data  # healthy first
    flip_byte(blob, {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where])

    for ranged in (False, True):
        if ranged:  # even ten bytes far from the damage are refused
            raw.conn.request(
                "GET",
                f"/api/v1/repositories/{repo}/refs/main/objects?path=data/file.bin",
                headers={"Authorization": raw.auth, "Range": "bytes=0-9"},
            )
            response = raw.conn.getresponse()
            status, body = response.status, response.read()
        else:
            reply = raw.get(repo, "main", "data/file.bin")
            status, body = reply.status, reply.body
        assert status == 500, body
        message = body.decode()
        assert "data/file.bin" in message and blob.name in message and "corrupt" in message
    # Metadata still answers; the client can tell what is damaged.
    assert raw.call("GET", f"/repositories/{repo}/refs/main/objects/stat?path=data/file.bin"
                    ).status == 200  # fmt: skip


def test_same_content_uploaded_again_heals_every_object_using_it(raw: RawClient) -> None:
    repo = raw.new_repo()
    data = secrets.token_bytes(50_000)
    blob = blob_file(raw.upload(repo, "a.bin", data))
    raw.commit(repo)
    flip_byte(blob, 10)
    assert raw.get(repo, "main", "a.bin").status == 500
    # A new object with the same content: the writer replaces the damaged blob.
    raw.upload(repo, "b.bin", data)
    assert raw.get(repo, "main", "b.bin").body == data
    assert raw.get(repo, "main", "a.bin").body == data  # the committed object too
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


@pytest.mark.parametrize("cut", [0, 1, 4096, 199_999])
def test_truncated_blob_is_refused_before_any_byte(raw: RawClient, cut: int) -> None:
    repo = raw.new_repo()
    data = secrets.token_bytes(200_000)
    blob = blob_file(raw.upload(repo, "t.bin", data))
    os.truncate(blob, cut)
    reply = raw.get(repo, "main", "t.bin")
    assert reply.status == 500
    assert f"holds {cut} bytes where 200000 were stored" in reply.message
    assert "t.bin" in reply.message and blob.name in reply.message
    assert raw.reconnects == 0  # an error response, not a connection cut mid-body
    raw.upload(repo, "again.bin", data)  # heals
    assert raw.get(repo, "main", "t.bin").body == data


def test_deleted_blob_is_gone_and_named(raw: RawClient) -> None:
    repo = raw.new_repo()
    blob = blob_file(raw.upload(repo, "d.bin", b"x" * 1000 + secrets.token_bytes(16)))
    blob.unlink()
    reply = raw.get(repo, "main", "d.bin")
    assert reply.status == 410
    assert "d.bin" in reply.message and blob.name in reply.message


@pytest.mark.parametrize("offset", [0, BIG - 1])
def test_big_object_with_a_flipped_byte_is_cut_short(raw: RawClient, offset: int) -> None:
    """Too big to hash first: streamed while hashing, the last chunk held back until the
    hash matches, so the client gets a short body (an error), never all the wrong bytes."""
    repo = raw.new_repo()
    data = secrets.token_bytes(BIG)
    blob = blob_file(raw.upload(repo, "big.bin", data))
    assert raw.get(repo, "main", "big.bin").body == data
    flip_byte(blob, offset)
    raw.conn.request(
        "GET",
        f"/api/v1/repositories/{repo}/refs/main/objects?path=big.bin",
        headers={"Authorization": raw.auth},
    )
    response = raw.conn.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert len(info.value.partial) <= BIG - (BIG % VERIFY_CHUNK or VERIFY_CHUNK)
    raw.conn.close()
    # Known damaged now: the next read is refused before any byte, naming object and blob.
    reply = raw.get(repo, "main", "big.bin")
    assert reply.status == 500 and "big.bin" in reply.message and blob.name in reply.message
    raw.upload(repo, "heal.bin", data)
    assert raw.get(repo, "main", "big.bin").body == data


def test_kill_9_mid_upload_leaves_no_blob_and_keeps_what_was_there(tmp_path: Path) -> None:
    with LakeFSServerProcess(data_dir=tmp_path / "data") as server:
        raw = RawClient(server)
        repo = raw.new_repo()
        kept = secrets.token_bytes(100_000)
        raw.upload(repo, "kept.bin", kept)
        assert raw.commit(repo).status == 201
        raw.close()
        sent = threading.Event()

        def body() -> Iterator[bytes]:
            for _ in range(64):
                yield secrets.token_bytes(1 << 20)
                sent.set()
                time.sleep(0.02)

        def upload() -> None:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn.request(
                    "POST",
                    f"/api/v1/repositories/{repo}/branches/main/objects?path=partial.bin",
                    body=body(),
                    headers={"Authorization": raw.auth, "Transfer-Encoding": "chunked"},
                    encode_chunked=True,
                )
                conn.getresponse().read()

        uploader = threading.Thread(target=upload)
        uploader.start()
        assert sent.wait(30)
        time.sleep(0.3)  # a few MiB in flight, some flushed to the temporary file
        server.kill()
        uploader.join(30)
        server.start()
        raw = RawClient(server)
        assert raw.get(repo, "main", "partial.bin").status == 404
        assert raw.get(repo, "main", "kept.bin").body == kept
        blobs = tmp_path / "data" / "blobs"
        assert list((blobs / "tmp").iterdir()) == []
        for blob in blobs.glob("??/*"):  # every stored blob is whole
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
        raw.close()
