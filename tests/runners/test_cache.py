from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from airflow_pachyderm.runners.cache import CacheError, ContentCache, link_or_copy


def test_fetches_once_and_hard_links(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls = []

    def fetch(stream) -> None:
        calls.append(1)
        stream.write(b"row1\nrow2\n")

    first = cache.ensure("abc123", fetch)
    second = cache.ensure("abc123", fetch)
    assert first == second
    assert len(calls) == 1
    assert first.read_bytes() == b"row1\nrow2\n"
    assert stat.S_IMODE(first.stat().st_mode) == 0o444

    dest = tmp_path / "datum" / "a.csv"
    dest.parent.mkdir()
    cache.link_into("abc123", dest)
    assert dest.read_bytes() == b"row1\nrow2\n"
    assert os.stat(dest).st_ino == os.stat(first).st_ino
    assert first.stat().st_nlink == 2


def test_failed_fetch_leaves_no_entry(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)

    def broken(stream) -> None:
        stream.write(b"partial")
        raise ConnectionError("lakeFS went away")

    with pytest.raises(ConnectionError):
        cache.ensure("k1", broken)
    assert "k1" not in cache
    assert list((tmp_path / ".tmp").iterdir()) == []
    assert cache.ensure("k1", lambda s: s.write(b"full")).read_bytes() == b"full"


def test_concurrent_callers_get_complete_content(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)
    payload = os.urandom(256 * 1024)
    barrier = threading.Barrier(8)
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def fetch(stream) -> None:
        for i in range(0, len(payload), 4096):
            stream.write(payload[i : i + 4096])

    def worker() -> None:
        try:
            barrier.wait()
            seen.append(cache.ensure("shared", fetch).read_bytes())
        except BaseException as err:  # surfaced in the main thread below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen) == 8
    assert all(content == payload for content in seen)


def test_unsafe_keys_are_hashed_into_file_names(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)
    path = cache.ensure("../../etc/passwd", lambda s: s.write(b"x"))
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert path.name.startswith("h-")


def test_link_into_missing_entry_names_key(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "c")
    with pytest.raises(CacheError, match="'nope'"):
        cache.link_into("nope", tmp_path / "x")


def test_link_or_copy_falls_back_to_copy_across_filesystems(tmp_path: Path) -> None:
    # /dev/shm is a tmpfs, so a hard link from tmp_path into it crosses filesystems.
    shm = Path("/dev/shm")
    src = tmp_path / "src"
    src.write_bytes(b"data")
    if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.fail("/dev/shm is on the same filesystem as tmp_path; cannot test the copy path")
    dest = shm / f"airflow-pachyderm-test-{os.getpid()}"
    try:
        link_or_copy(src, dest)
        assert dest.read_bytes() == b"data"
        assert os.stat(dest).st_ino != os.stat(src).st_ino
        assert stat.S_IMODE(dest.stat().st_mode) == 0o444
    finally:
        dest.unlink(missing_ok=True)
