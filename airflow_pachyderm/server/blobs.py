"""Content-addressed object data on local disk.

A blob's address is the sha256 of its bytes and its file lives at ``blobs/ab/<sha256>``:
file names come from hashes only, so no object path can reach outside the data directory.
Data is streamed to a temporary file in the same file system while hashing, fsynced, then
renamed into place, so a crash never leaves a partial blob under a valid address.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from airflow_pachyderm.server.direct_io import SequentialWriter

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class BlobInfo:
    address: str  # sha256 hex
    checksum: str  # md5 hex: lakeFS reports the object's ETag, an MD5 for simple uploads
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        # Leftovers of uploads interrupted by a crash: never referenced, safe to drop.
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)

    def path(self, address: str) -> Path:
        if len(address) != 64 or not set(address) <= _HEX:
            raise ValueError(f"invalid blob address {address!r}")
        return self.root / address[:2] / address

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put(self, data: bytes) -> BlobInfo:
        writer = self.writer()
        try:
            writer.write(data)
            return writer.finish()
        except BaseException:
            writer.abort()
            raise


class BlobWriter:
    """Streams one blob to disk; ``finish`` makes it durable and returns its address."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp, prefix="upload-")
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._out = SequentialWriter(fd)
        self._tmp_path = Path(name)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha = hashlib.sha256()
        self._size = 0

    def write(self, chunk: bytes) -> None:
        self.update_checksum((chunk,))
        self.store((chunk,))

    # The two halves of ``write``; both release the GIL, so they can run on two threads.
    # They take the chunks as received (no joining into one buffer: copies cost as much CPU
    # as hashing on a large upload).

    def update_checksum(self, chunks: Sequence[bytes]) -> None:
        for chunk in chunks:
            self._md5.update(chunk)

    def store(self, chunks: Sequence[bytes]) -> None:
        for chunk in chunks:
            self._sha.update(chunk)
            self._size += len(chunk)
        self._out.write(chunks)

    def finish(self) -> BlobInfo:
        try:
            self._out.close()
        except BaseException:
            self.abort()
            raise
        address = self._sha.hexdigest()
        target = self._store.path(address)
        try:
            if target.exists():
                # Same content already stored (and fsynced when it was written).
                self._file.close()
                self._tmp_path.unlink(missing_ok=True)
            else:
                os.fsync(self._file.fileno())
                self._file.close()
                _ensure_dir(target.parent)
                os.replace(self._tmp_path, target)
                _fsync_dir(target.parent)
        except BaseException:
            self.abort()
            raise
        return BlobInfo(address=address, checksum=self._md5.hexdigest(), size=self._size)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        if not self._file.closed:
            self._file.close()
        self._tmp_path.unlink(missing_ok=True)


def _ensure_dir(directory: Path) -> None:
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    _fsync_dir(directory.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
