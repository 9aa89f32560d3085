"""A rich progress bar of files and bytes on stderr (quiet when stderr is not a terminal)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class Transfer:
    """Counts files and bytes of a parallel transfer (one bar: bytes; files beside it);
    thread-safe."""

    def __init__(self, progress: Progress, total_files: int, total_bytes: int, verb: str):
        self._progress = progress
        self._lock = threading.Lock()
        self._total_files = total_files
        self.files = 0
        self.task = progress.add_task(verb, total=total_bytes, files=self._files_text())

    def _files_text(self) -> str:
        return f"{self.files}/{self._total_files} files"

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self._progress.advance(self.task, count)

    def file_done(self) -> None:
        with self._lock:
            self.files += 1
            self._progress.update(self.task, files=self._files_text())


@contextlib.contextmanager
def transfer_progress(total_files: int, total_bytes: int, verb: str) -> Iterator[Transfer]:
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    with progress:
        yield Transfer(progress, total_files, total_bytes, verb)


class CountingReader:
    """A binary file that reports the bytes read; seeking back (a retry) un-counts them."""

    def __init__(self, fh: IO[bytes], transfer: Transfer) -> None:
        self._fh = fh
        self._transfer = transfer
        self._counted = 0

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._counted += len(data)
        self._transfer.add_bytes(len(data))
        return data

    def tell(self) -> int:
        return self._fh.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self._fh.seek(offset, whence)
        if position < self._counted:
            self._transfer.add_bytes(position - self._counted)
            self._counted = position
        return position


class CountingWriter:
    """A binary file that reports the bytes written."""

    def __init__(self, fh: IO[bytes], transfer: Transfer) -> None:
        self._fh = fh
        self._transfer = transfer

    def write(self, data: bytes) -> int:
        written = self._fh.write(data)
        self._transfer.add_bytes(len(data))
        return written
