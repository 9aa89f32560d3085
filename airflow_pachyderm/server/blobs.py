"""Content-addressed object data on local disk.

A blob's address is the sha256 of its bytes and its file lives at ``blobs/ab/<sha256>``:
file names come from hashes only, so no object path can reach outside the data directory.
Data is streamed to a temporary file in the same file system while hashing, fsynced, then
renamed into place, so a crash never leaves a partial blob under a valid address.

The address doubles as a checksum: reads are checked against it (see ``transfer``), and an
upload of content whose stored blob is damaged replaces the blob, which heals every object
pointing at it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from airflow_pachyderm.server.direct_io import SequentialWriter

_HEX = frozenset("0123456789abcdef")
HASH_CHUNK = 1024 * 1024
# Blobs whose hash was checked, with the file's identity then: ranged reads of a big object
# do not re-hash it each time while the file is unchanged. Bounded; cleared when full.
MAX_VERIFIED = 65536

log = logging.getLogger(__name__)


class BlobCorrupt(Exception):
    """A blob's bytes do not hash to its address (bit rot, truncation, tampering)."""

    def __init__(self, address: str, detail: str) -> None:
        super().__init__(f"blob {address} {detail}")
        self.address = address
        self.detail = detail


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
        self._verified: dict[str, tuple[int, ...]] = {}
        # Off only to measure what checking costs (benchmarks/lakefs_server.py).
        self.verify_reads = True
        # Leftovers of uploads interrupted by a crash: never referenced, safe to drop.
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)

    def path(self, address: str) -> Path:
        if len(address) != 64 or not set(address) <= _HEX:
            raise ValueError(f"invalid blob address {address!r}")
        return self.root / address[:2] / address

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    # ---------------------------------------------------------------- checked reads

    def open_checked(self, address: str, size: int) -> BinaryIO:
        """Open a blob whose object says it holds ``size`` bytes.

        Raises ``FileNotFoundError`` when it is missing and :class:`BlobCorrupt` when its
        length differs (a truncated blob is refused before any byte is sent).
        """
        file = self.path(address).open("rb")
        actual = os.fstat(file.fileno()).st_size
        if actual != size:
            file.close()
            raise BlobCorrupt(address, f"holds {actual} bytes where {size} were stored")
        return file

    def verify(self, address: str, file: BinaryIO, *, trust_unchanged: bool = False) -> None:
        """Hash the whole of an open blob.

        ``trust_unchanged`` skips the hash when the file is the one (same inode, size and
        times) that passed the last check: for ranged reads, which would otherwise hash a big
        blob once per range. Raises :class:`BlobCorrupt` when the hash is not the address.
        """
        identity = signature(file)
        if trust_unchanged and self._verified.get(address) == identity:
            return
        sha = hashlib.sha256()
        offset = 0
        while chunk := os.pread(file.fileno(), HASH_CHUNK, offset):
            sha.update(chunk)
            offset += len(chunk)
        if sha.hexdigest() != address:
            raise self.mismatch(address, identity, sha.hexdigest())
        self.mark_verified(address, identity)

    def mark_verified(self, address: str, signature: tuple[int, ...]) -> None:
        if len(self._verified) >= MAX_VERIFIED:
            self._verified.clear()
        self._verified[address] = signature

    def mismatch(self, address: str, signature: tuple[int, ...], digest: str) -> BlobCorrupt:
        """The error for a blob that hashed to ``digest``; remembered while the file stays."""
        self._verified[address] = ("corrupt", *signature)
        return BlobCorrupt(address, f"hashes to {digest}, not to its address")

    def check_known_damage(self, address: str, file: BinaryIO) -> None:
        """Raise :class:`BlobCorrupt` at once if this very file already failed its hash."""
        if self._verified.get(address) == ("corrupt", *signature(file)):
            raise BlobCorrupt(address, "failed its hash check on an earlier read")

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
            if self._intact(address, target):
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

    def _intact(self, address: str, target: Path) -> bool:
        """Whether ``target`` already holds this content; a damaged copy gets replaced."""
        try:
            with self._store.open_checked(address, self._size) as existing:
                self._store.verify(address, existing)
            return True
        except FileNotFoundError:
            return False
        except BlobCorrupt as exc:
            log.warning("replacing damaged %s with the bytes just uploaded", exc)
            return False

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        if not self._file.closed:
            self._file.close()
        self._tmp_path.unlink(missing_ok=True)


def signature(file: BinaryIO) -> tuple[int, ...]:
    """The identity of an open blob file, as :meth:`BlobStore.mark_verified` records it."""
    # Any write to the file (or its replacement) changes one of these.
    st = os.fstat(file.fileno())
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


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
