"""Moving object data between HTTP and the blob store: streamed uploads and ranged reads."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from airflow_pachyderm.server.blobs import BlobInfo, BlobStore, signature
from airflow_pachyderm.server.errors import RangeNotSatisfiable

FLUSH_BYTES = 4 * 1024 * 1024
READ_CHUNK = 1024 * 1024
# Bigger pieces when hashing on the side: fewer hand-overs between the threads.
VERIFY_CHUNK = 4 * 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class BlobSink:
    """Receives an upload chunk by chunk and writes it to a new blob.

    Hashing and disk writes run in a worker thread on buffers of a few MiB while the event
    loop keeps reading the socket, so memory stays bounded and both cores are used.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self._writer = blobs.writer()
        self._chunks: list[bytes] = []  # received, not yet handed to the workers
        self._buffered = 0
        self._pending: asyncio.Future | None = None  # both halves of the last batch
        self._loop = asyncio.get_running_loop()

    async def write(self, chunk: bytes) -> None:
        """Take one received chunk (immutable ``bytes``: it is kept, not copied)."""
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self._pending is not None:
            await self._pending
            self._pending = None
        if self._chunks:
            chunks, self._chunks, self._buffered = self._chunks, [], 0
            self._pending = asyncio.gather(
                self._loop.run_in_executor(None, self._writer.update_checksum, chunks),
                self._loop.run_in_executor(None, self._writer.store, chunks),
            )

    async def finish(self) -> BlobInfo:
        await self._flush()
        await self._flush()
        return await self._loop.run_in_executor(None, self._writer.finish)

    async def abort(self) -> None:
        if self._pending is not None:
            # The upload failed anyway; only make sure the temp file is gone.
            with contextlib.suppress(Exception):
                await self._pending
        self._writer.abort()


def parse_range(header: str, size: int) -> tuple[int, int]:
    """``(start, end_exclusive)`` for a single-range ``Range`` header, as lakeFS serves it."""
    match = _RANGE.match(header.strip())
    if match is None:
        raise RangeNotSatisfiable(f"unsupported Range header {header!r}", size)
    first, last = match.groups()
    if not first:
        if not last:
            raise RangeNotSatisfiable(f"unsupported Range header {header!r}", size)
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    if start >= size or start >= end:
        raise RangeNotSatisfiable(f"range {header!r} is outside the object ({size} bytes)", size)
    return start, end


def read_range(file: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start..end`` of an open (already verified) blob; closes it when done."""
    with file:
        file.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = file.read(min(READ_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def read_verified(blobs: BlobStore, address: str, file: BinaryIO) -> Iterator[bytes]:
    """A whole blob, hashed as it streams; closes it when done.

    The last chunk is held back until the hash matches the address: on a mismatch the
    response ends early (clients see a short body, an error) and :class:`BlobCorrupt` is
    raised, so a client never receives a complete body of wrong bytes. Hashing runs on its
    own thread (hashlib releases the GIL), overlapping with sending the previous chunks.
    """
    with file, ThreadPoolExecutor(1, thread_name_prefix="blob-hash") as hasher:
        identity = signature(file)
        sha = hashlib.sha256()
        held: bytes | None = None
        hashing: Future | None = None
        while chunk := file.read(VERIFY_CHUNK):
            if hashing is not None:
                hashing.result()  # one chunk in flight: ordered updates, bounded memory
            hashing = hasher.submit(sha.update, chunk)
            if held is not None:
                yield held
            held = chunk
        if hashing is not None:
            hashing.result()
        if sha.hexdigest() != address:
            raise blobs.mismatch(address, identity, sha.hexdigest())
        blobs.mark_verified(address, identity)
        if held is not None:
            yield held
