"""Objects: uploads (multipart and raw), reads (ranged), stat, listing, delete, copy."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException


def _status(call, *args, **kwargs) -> int:
    with pytest.raises(ApiException) as err:
        call(*args, **kwargs)
    return err.value.status


def test_multipart_upload_through_sdk(api, repo_name, tmp_path):
    source = tmp_path / "data.csv"
    source.write_bytes(b"a,b\n1,2\n")
    stats = api.objects.upload_object(repo_name, "main", "dir/data.csv", content=str(source))
    assert stats.path == "dir/data.csv"
    assert stats.size_bytes == 8
    assert stats.checksum == hashlib.md5(b"a,b\n1,2\n").hexdigest()
    assert stats.content_type == "text/csv"
    assert api.read(repo_name, "main", "dir/data.csv") == b"a,b\n1,2\n"


def test_raw_upload_with_metadata_and_stat(api, repo_name):
    stats = api.put(
        repo_name,
        "main",
        "m.bin",
        b"\x00\x01",
        **{"X-Lakefs-Meta-Owner": "ml", "Content-Type": "application/x-test"},
    )
    assert stats["metadata"] == {"owner": "ml"}
    stat = api.objects.stat_object(repo_name, "main", "m.bin")
    assert (stat.path_type, stat.size_bytes, stat.content_type) == (
        "object",
        2,
        "application/x-test",
    )
    assert stat.metadata == {"owner": "ml"}
    assert stat.physical_address and isinstance(stat.mtime, int)
    assert api.objects.stat_object(repo_name, "main", "m.bin", user_metadata=False).metadata is None


def test_if_none_match_star_is_412_when_path_exists(api, repo_name):
    api.put(repo_name, "main", "once", b"1", **{"If-None-Match": "*"})
    api.commit(repo_name, "main", "c")
    response = api.request(
        "POST",
        f"/repositories/{repo_name}/branches/main/objects",
        body=b"2",
        headers={"If-None-Match": "*", "Content-Type": "application/octet-stream"},
        path="once",
    )
    assert response.status == 412
    assert api.read(repo_name, "main", "once") == b"1"


def test_bad_paths_are_400(api, repo_name):
    for bad in ("", "a\x00b"):
        response = api.request(
            "POST",
            f"/repositories/{repo_name}/branches/main/objects",
            body=b"x",
            headers={"Content-Type": "application/octet-stream"},
            path=bad,
        )
        assert response.status == 400, bad
        assert "path" in response.json()["message"]


def test_upload_to_missing_branch_or_repo_is_404(api, repo_name):
    response = api.request(
        "POST", f"/repositories/{repo_name}/branches/nope/objects", body=b"x", path="p"
    )
    assert response.status == 404
    assert _status(api.objects.stat_object, repo_name, "main", "missing") == 404
    assert _status(api.objects.stat_object, "no-such-repo", "main", "p") == 404


def test_ranged_reads_and_head(api, repo_name):
    data = bytes(range(256)) * 4
    api.put(repo_name, "main", "r", data)
    assert bytes(api.objects.get_object(repo_name, "main", "r", range="bytes=10-19")) == data[10:20]
    assert bytes(api.objects.get_object(repo_name, "main", "r", range="bytes=1000-")) == data[1000:]
    assert bytes(api.objects.get_object(repo_name, "main", "r", range="bytes=-5")) == data[-5:]
    partial = api.request(
        "GET",
        f"/repositories/{repo_name}/refs/main/objects",
        path="r",
        headers={"Range": "bytes=0-99"},
    )
    assert partial.status == 206
    assert partial.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    outside = api.request(
        "GET",
        f"/repositories/{repo_name}/refs/main/objects",
        path="r",
        headers={"Range": "bytes=5000-"},
    )
    assert outside.status == 416
    assert outside.headers["Content-Range"] == f"bytes */{len(data)}"
    head = api.request("HEAD", f"/repositories/{repo_name}/refs/main/objects", path="r")
    assert head.status == 200 and head.headers["Content-Length"] == str(len(data))
    etag = head.headers["ETag"]
    cached = api.request(
        "GET",
        f"/repositories/{repo_name}/refs/main/objects",
        path="r",
        headers={"If-None-Match": etag},
    )
    assert cached.status == 304
    api.objects.head_object(repo_name, "main", "r")
    assert _status(api.objects.head_object, repo_name, "main", "nope") == 404


def test_20mb_round_trip_keeps_checksum(api, repo_name, tmp_path):
    data = os.urandom(20 * 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    stats = api.objects.upload_object(repo_name, "main", "big.bin", content=str(source))
    assert stats.size_bytes == len(data)
    assert stats.checksum == hashlib.md5(data).hexdigest()
    api.commit(repo_name, "main", "big")
    back = api.read(repo_name, "main", "big.bin")
    assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()


def test_listing_paginates_over_1000_objects_with_delimiter(api, repo_name):
    paths = [f"data/{i:05d}.txt" for i in range(1100)] + ["data/sub/x", "data/sub/y", "top"]

    def put(path: str) -> None:
        api.put(repo_name, "main", path, path.encode())

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, paths[:600]))
    api.commit(repo_name, "main", "half")  # half committed, half staged: listings merge both
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, paths[600:]))
    api.objects.delete_object(repo_name, "main", "data/00003.txt")
    expected = sorted(set(paths) - {"data/00003.txt"})

    listed, after = [], ""
    while True:
        page = api.objects.list_objects(repo_name, "main", after=after, amount=1000)
        listed += [o.path for o in page.results]
        if not page.pagination.has_more:
            break
        after = page.pagination.next_offset
    assert listed == expected

    top = api.objects.list_objects(repo_name, "main", delimiter="/")
    assert [(o.path, o.path_type) for o in top.results] == [
        ("data/", "common_prefix"),
        ("top", "object"),
    ]
    assert top.results[0].checksum == "" and top.results[0].mtime == 0
    inner = api.objects.list_objects(
        repo_name, "main", prefix="data/", delimiter="/", after="data/01099.txt"
    )
    assert [o.path for o in inner.results] == ["data/sub/"]
    small = api.objects.list_objects(repo_name, "main", prefix="data/sub/", amount=1)
    assert [o.path for o in small.results] == ["data/sub/x"] and small.pagination.has_more
    # main@ is the committed state: the staged deletion of data/00003.txt does not show.
    assert api.paths(repo_name, "main@", prefix="data/0000") == [
        f"data/{i:05d}.txt" for i in range(10)
    ]


def test_delete_objects_and_tombstones(api, repo_name):
    for path in ("a", "b", "c"):
        api.put(repo_name, "main", path, path.encode())
    api.commit(repo_name, "main", "abc")
    api.objects.delete_object(repo_name, "main", "a")
    result = api.objects.delete_objects(
        repo_name, "main", lakefs_sdk.PathList(paths=["b", "not-there", "bad\x00"])
    )
    assert [(e.path, e.status_code) for e in result.errors] == [("bad\x00", 400)]
    assert api.paths(repo_name, "main") == ["c"]
    assert api.paths(repo_name, "main@") == ["a", "b", "c"]
    diff = api.branches.diff_branch(repo_name, "main").results
    assert [(d.path, d.type) for d in diff] == [("a", "removed"), ("b", "removed")]
    assert _status(api.objects.delete_object, repo_name, "main", "a") == 404
    api.commit(repo_name, "main", "deleted")
    assert api.paths(repo_name, "main@") == ["c"]


def test_copy_object(api, repo_name):
    api.put(repo_name, "main", "src", b"payload", **{"X-Lakefs-Meta-K": "v"})
    api.commit(repo_name, "main", "src")
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dst", source="main"))
    copied = api.objects.copy_object(
        repo_name,
        "dst",
        "copy/of/src",
        lakefs_sdk.ObjectCopyCreation(src_path="src", src_ref="main"),
    )
    assert copied.path == "copy/of/src" and copied.metadata == {"k": "v"}
    assert api.read(repo_name, "dst", "copy/of/src") == b"payload"
    assert (
        _status(
            api.objects.copy_object,
            repo_name,
            "dst",
            "x",
            lakefs_sdk.ObjectCopyCreation(src_path="missing"),
        )
        == 404
    )


def test_reupload_of_committed_content_is_no_change(api, repo_name):
    api.put(repo_name, "main", "same", b"v1")
    api.commit(repo_name, "main", "v1")
    api.put(repo_name, "main", "same", b"v1")
    assert api.branches.diff_branch(repo_name, "main").results == []
    api.put(repo_name, "main", "same", b"v2")
    assert [d.type for d in api.branches.diff_branch(repo_name, "main").results] == ["changed"]
