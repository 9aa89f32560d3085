"""Causes 4-8 and the bind warning: hostile request values get 4xx (never 500, never a
dropped keep-alive connection), a full disk gets 507 and a log line naming the data dir."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawhttp import RawClient, q

from airflow_pachyderm.server.cli import loopback
from airflow_pachyderm.server.process import LakeFSServerProcess, free_port

# Code points at the edges of what successor() must step over: the last one, the one before
# the surrogates, the last BMP one, and the plain ASCII case for comparison.
EDGE_CHARS = ["\U0010ffff", "\ud7ff", "\uffff", "z"]


# ---------------------------------------------------------------- 4: invalid UTF-8 in paths


@pytest.mark.parametrize("encoded", ["%FF", "%FE", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%80"])
def test_object_path_that_is_not_utf8_is_refused(raw: RawClient, encoded: str) -> None:
    repo = raw.new_repo()
    objects = f"/repositories/{repo}/branches/main/objects"
    reply = raw.call("POST", f"{objects}?path=col{encoded}x", b"one")
    assert reply.status == 400 and "'path' is not valid UTF-8" in reply.message
    # Same for every place a key is read from: prefix, after, the path in a URL.
    listing = f"/repositories/{repo}/refs/main/objects/ls"
    assert raw.call("GET", f"{listing}?prefix=a{encoded}").status == 400
    assert raw.call("GET", f"{listing}?after=a{encoded}").status == 400
    assert raw.call("GET", f"/repositories/{repo}/branches/a{encoded}").status == 400
    assert raw.reconnects == 0


def test_distinct_bytes_stay_distinct_keys(raw: RawClient) -> None:
    repo = raw.new_repo()
    objects = f"/repositories/{repo}/branches/main/objects"
    assert raw.call("POST", f"{objects}?path=col%FFx", b"first").status == 400
    assert raw.call("POST", f"{objects}?path=col%FEx", b"second").status == 400
    # Valid multi-byte neighbours are two keys, each reading back its own bytes.
    raw.upload(repo, "col\u00ffx", b"first")
    raw.upload(repo, "col\u00fex", b"second")
    assert raw.get(repo, "main", "col\u00ffx").body == b"first"
    assert raw.get(repo, "main", "col\u00fex").body == b"second"


# ---------------------------------------------------------------- 5: prefixes at the edges


def listing_targets(repo: str, edge: str) -> Iterator[tuple[str, str]]:
    for value in (edge, "a" + edge, "a/" + edge + edge):
        v = q(value)
        yield "repositories", f"/repositories?prefix={v}&after={v}"
        yield "branches", f"/repositories/{repo}/branches?prefix={v}&after={v}"
        yield "tags", f"/repositories/{repo}/tags?prefix={v}&after={v}"
        for delimiter in ("/", edge, value):
            d = q(delimiter)
            yield "objects", f"/repositories/{repo}/refs/main/objects/ls?prefix={v}&delimiter={d}"
            yield "objects-after", (
                f"/repositories/{repo}/refs/main/objects/ls?after={v}&delimiter={d}"
            )
            yield "diff", (
                f"/repositories/{repo}/refs/main~1/diff/main?prefix={v}&after={v}&delimiter={d}"
            )
            yield "branch-diff", (
                f"/repositories/{repo}/branches/main/diff?after={v}&delimiter={d}&prefix={v}"
            )


@pytest.mark.parametrize("edge", EDGE_CHARS, ids=["U+10FFFF", "U+D7FF", "U+FFFF", "z"])
def test_listing_at_code_point_edges_answers_correctly(raw: RawClient, edge: str) -> None:
    repo = raw.new_repo()
    keys = ["a", "a/" + edge, "a/" + edge + edge, "a/" + edge + "/x", "a" + edge, "b"]
    keys = [k for k in keys if k[-1:] < "\ud800" or k[-1:] >= "\ue000"]  # valid UTF-8 only
    for key in keys:
        raw.upload(repo, key, key.encode("utf-8"))
    raw.commit(repo)
    raw.upload(repo, "a/" + edge + "/y", b"staged")
    for kind, target in listing_targets(repo, edge):
        reply = raw.call("GET", target)
        assert reply.status == 200, (kind, target, reply.body)
    # The answers are right, not only not 500: everything under "a/<edge>" and nothing else.
    reply = raw.call("GET", f"/repositories/{repo}/refs/main/objects/ls?prefix={q('a/' + edge)}")
    listed = [r["path"] for r in reply.json()["results"]]
    assert listed == sorted(k for k in [*keys, "a/" + edge + "/y"] if k.startswith("a/" + edge))
    reply = raw.call(
        "GET", f"/repositories/{repo}/refs/main/objects/ls?prefix=a/&delimiter={q(edge)}"
    )
    folded = [r["path"] for r in reply.json()["results"]]
    assert folded == ["a/" + edge]
    # Resetting a prefix ending with the edge character drops exactly what is under it.
    reset = raw.call(
        "PUT", f"/repositories/{repo}/branches/main", {"type": "common_prefix", "path": "a/" + edge}
    )
    assert reset.status == 204, reset.body
    diff = raw.call("GET", f"/repositories/{repo}/branches/main/diff").json()["results"]
    assert diff == []
    assert raw.reconnects == 0


def test_lone_surrogates_in_json_bodies_are_refused(raw: RawClient) -> None:
    repo = raw.new_repo()
    raw.upload(repo, "x", b"x")
    body = b'{"type": "common_prefix", "path": "a\\ud800"}'
    raw.conn.request(
        "PUT",
        f"/api/v1/repositories/{repo}/branches/main",
        body=body,
        headers={"Authorization": raw.auth, "Content-Type": "application/json"},
    )
    response = raw.conn.getresponse()
    assert response.status == 400 and b"not valid UTF-8" in response.read()
    raw.conn.request(
        "POST",
        f"/api/v1/repositories/{repo}/branches/main/commits",
        body=b'{"message": "m\\udfff"}',
        headers={"Authorization": raw.auth, "Content-Type": "application/json"},
    )
    response = raw.conn.getresponse()
    assert response.status == 400 and b"not valid UTF-8" in response.read()


# ---------------------------------------------------------------- 6 and 7: huge numbers


@pytest.mark.parametrize("digits", [19, 4301, 10_000])
@pytest.mark.parametrize("sign", ["~", "^"])
def test_huge_ref_modifier_is_a_bad_request(raw: RawClient, sign: str, digits: int) -> None:
    repo = raw.new_repo()
    raw.upload(repo, "x", b"x")
    raw.commit(repo)
    ref = "main" + sign + "9" * digits
    for target in (
        f"/repositories/{repo}/commits/{ref}",
        f"/repositories/{repo}/refs/{ref}/objects/ls",
        f"/repositories/{repo}/refs/{ref}/diff/main",
    ):
        reply = raw.call("GET", target)
        assert reply.status == 400, reply.body
        assert "at most 18 digits" in reply.message
    assert raw.call("GET", f"/repositories/{repo}/commits/main{sign}2").status == 404
    assert raw.reconnects == 0


@pytest.mark.parametrize("date", [2**63, 10**30, -(2**63) - 1, 253_402_300_800, -62_135_596_801])
def test_commit_date_outside_what_a_timestamp_holds_is_a_bad_request(
    raw: RawClient, date: int
) -> None:
    repo = raw.new_repo()
    raw.upload(repo, "x", b"x")
    reply = raw.commit(repo, date=date)
    assert reply.status == 400, reply.body
    assert "date" in reply.message
    ok = raw.commit(repo, date=253_402_300_799)  # 9999-12-31T23:59:59Z is fine
    assert ok.status == 201 and ok.json()["creation_date"] == 253_402_300_799
    assert raw.reconnects == 0


# ---------------------------------------------------------------- 8: disk full


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("the full-disk test mounts a 2 MiB tmpfs: run it as root (CI does)")
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_full_disk_answers_507_and_logs_where(small_disk: Path) -> None:
    data_dir = small_disk / "data"
    with LakeFSServerProcess(data_dir=data_dir) as server:
        raw = RawClient(server)
        repo = raw.new_repo()
        raw.upload(repo, "small", b"fits")
        assert raw.commit(repo).status == 201
        # Upload: the blob does not fit.
        reply = raw.call(
            "POST", f"/repositories/{repo}/branches/main/objects?path=big", b"\0" * (3 << 20)
        )
        assert reply.status == 507, reply.body
        assert "no space left" in reply.message
        raw.upload(repo, "staged", b"to commit")
        # Fill what is left with a file of our own, then upload, commit, create a repository.
        filler = small_disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb", buffering=0) as f:
            while True:
                f.write(b"\0" * 4096)
        objects = f"/repositories/{repo}/branches/main/objects"
        statuses = {raw.call("POST", f"{objects}?path=p{n}", b"y" * 8192).status for n in range(20)}
        assert statuses == {507}
        commit = raw.commit(repo, message="x" * 100_000)
        assert commit.status == 507, commit.body
        created = raw.call(
            "POST",
            "/repositories",
            {"name": "r-" + "x" * 60, "storage_namespace": "local://" + "n" * 200_000},
        )
        assert created.status == 507, created.body
        # State stayed consistent: after freeing space everything works again.
        filler.unlink()
        assert raw.get(repo, "main", "small").body == b"fits"
        raw.upload(repo, "after", b"works")
        assert raw.commit(repo).status == 201
        raw.close()
    log = server.log_path.read_text()
    assert f"no space left on the device of the data directory {data_dir}" in log
    assert "Traceback" not in log


# ---------------------------------------------------------------- bind warning


def test_binding_all_interfaces_warns_it_is_a_development_server(tmp_path: Path) -> None:
    port = free_port("0.0.0.0")
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_pachyderm.server", "--host", "0.0.0.0", "--port",
         str(port), "--data-dir", str(tmp_path / "data")],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if "lakeFS-compatible server on" in line or not line:
                break
        text = "".join(lines)
        assert "warning: binding 0.0.0.0: this is a development server" in text
    finally:
        process.terminate()
        process.wait(15)
    hosts = ("127.0.0.1", "::1", "localhost", "127.1.2.3", "0.0.0.0", "::", "10.0.0.1")
    assert [loopback(h) for h in hosts] == [True, True, True, True, False, False, False]
