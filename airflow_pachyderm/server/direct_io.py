"""Sequential file writes that bypass the page cache where the file system allows it.

Writing a large upload through the page cache costs more CPU than hashing it (the kernel
allocates and charges a fresh page per 4 KiB), and the blob is fsynced anyway. With
``O_DIRECT`` the data goes from one reused, page-aligned buffer straight to the device.
File systems that refuse ``O_DIRECT`` (some overlays, network file systems) get ordinary
writes. The price: the first read of a fresh blob comes from the device, not from memory (it
pays the page allocation the write skipped), which a blob written and never read soon saves.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
from collections.abc import Sequence

BUFFER_BYTES = 4 * 1024 * 1024  # a multiple of every logical block size in use
_DIRECT = getattr(os, "O_DIRECT", 0)


class SequentialWriter:
    """Appends chunks to ``fd`` (opened for writing at offset 0); :meth:`close` writes the
    unaligned tail. Not thread-safe: one writer thread at a time."""

    def __init__(self, fd: int, direct: bool = True) -> None:
        self.fd = fd
        self.direct = direct and _enable_direct(fd)
        self._buffer = mmap.mmap(-1, BUFFER_BYTES) if self.direct else None
        self._used = 0

    def write(self, chunks: Sequence[bytes]) -> None:
        if self._buffer is None:
            _write_all(self.fd, chunks)
            return
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                take = min(len(view), BUFFER_BYTES - self._used)
                self._buffer[self._used : self._used + take] = view[:take]
                self._used += take
                view = view[take:]
                if self._used == BUFFER_BYTES:
                    self._write_buffer(BUFFER_BYTES)

    def close(self) -> None:
        """Write what is buffered (an O_DIRECT write needs whole blocks: the tail goes plain)."""
        if self._buffer is None:
            return
        if self._used:
            _disable_direct(self.fd)
            self.direct = False
            _write_all(self.fd, [memoryview(self._buffer)[: self._used]])
            self._used = 0
        self._buffer.close()
        self._buffer = None

    def _write_buffer(self, length: int) -> None:
        assert self._buffer is not None
        view = memoryview(self._buffer)[:length]
        try:
            written = os.write(self.fd, view)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            # Accepted at open but not for this write: carry on without O_DIRECT.
            _disable_direct(self.fd)
            self.direct = False
            written = 0
        if written < length:  # short write (a full disk?): the rest goes plain
            _disable_direct(self.fd)
            self.direct = False
            _write_all(self.fd, [view[written:]])
        view.release()
        self._used = 0


def _enable_direct(fd: int) -> bool:
    if not _DIRECT:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _DIRECT)
    except OSError:
        return False
    return True


def _disable_direct(fd: int) -> None:
    with contextlib.suppress(OSError):
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~_DIRECT)


def _write_all(fd: int, chunks: Sequence[bytes | memoryview]) -> None:
    views = [memoryview(c) for c in chunks if len(c)]
    while views:
        written = os.writev(fd, views[:_IOV_MAX])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


_IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024)
