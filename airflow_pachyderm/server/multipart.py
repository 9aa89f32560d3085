"""A streaming reader for the one file part of a ``multipart/form-data`` upload.

lakefs-sdk uploads objects as a form with one part named ``content``. The part is handed to
a sink chunk by chunk, so an upload of any size needs only a small, bounded buffer.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

from airflow_pachyderm.server.errors import BadRequest

MAX_HEADER_BYTES = 16 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_NAME = re.compile(r'(?:^|;)\s*name="([^"]*)"', re.IGNORECASE)


def boundary_of(content_type: str) -> bytes:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise BadRequest("multipart/form-data Content-Type has no boundary")
    return match.group(1).encode("latin-1")


class _Reader:
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks.__aiter__()
        self.buf = bytearray()

    async def fill(self) -> bool:
        try:
            self.buf += await self._chunks.__anext__()
        except StopAsyncIteration:
            return False
        return True


async def read_part(
    chunks: AsyncIterator[bytes],
    boundary: bytes,
    part_name: str,
    write: Callable[[bytes], Awaitable[None]],
) -> str:
    """Stream the body of the part named ``part_name`` to ``write``; return its Content-Type."""
    reader = _Reader(chunks)
    delimiter = b"--" + boundary
    while (at := reader.buf.find(delimiter)) < 0:
        del reader.buf[: max(0, len(reader.buf) - len(delimiter))]
        if not await reader.fill():
            raise BadRequest("multipart body does not contain its boundary")
    del reader.buf[: at + len(delimiter)]
    body_end = b"\r\n" + delimiter
    while True:
        while len(reader.buf) < 2:
            if not await reader.fill():
                raise BadRequest("multipart body ended unexpectedly")
        if reader.buf[:2] == b"--":
            raise BadRequest(f"multipart body has no part named {part_name!r}")
        while (end := reader.buf.find(b"\r\n\r\n")) < 0:
            if len(reader.buf) > MAX_HEADER_BYTES or not await reader.fill():
                raise BadRequest("multipart part headers are missing or too long")
        name, content_type = _parse_headers(bytes(reader.buf[2:end]))
        del reader.buf[: end + 4]
        wanted = name == part_name
        keep = len(body_end) - 1
        while (at := reader.buf.find(body_end)) < 0:
            if len(reader.buf) > keep:
                if wanted:
                    await write(bytes(reader.buf[:-keep]))
                del reader.buf[:-keep]
            if not await reader.fill():
                raise BadRequest("multipart body ended before its closing boundary")
        if wanted:
            if at:
                await write(bytes(reader.buf[:at]))
            return content_type
        del reader.buf[: at + len(body_end)]


def _parse_headers(raw: bytes) -> tuple[str, str]:
    name = ""
    content_type = "application/octet-stream"
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-disposition":
            match = _NAME.search(value)
            if match:
                name = match.group(1)
        elif key == "content-type" and value.strip():
            content_type = value.strip()
    return name, content_type
