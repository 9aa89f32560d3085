"""A local content-addressed cache of input files.

Each input file is downloaded once per machine, keyed by its content checksum, and then
hard-linked into the per-datum directories that containers see. Cached files are made
read-only (0444) so that a container, or a careless caller, cannot change a cached file
behind the back of the other datums sharing it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from airflow_pachyderm.errors import CacheError

# Keys become file names: allow what checksums, digests and etags look like.
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+=-]{0,199}$")


def link_or_copy(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Hard-link ``src`` to ``dest``; copy instead when they live on different filesystems."""
    try:
        os.link(src, dest)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o444)


class ContentCache:
    """Files stored under ``root`` by content key, fetched at most once.

    Safe for concurrent callers in several threads or processes: every fetch writes a
    private temporary file that is renamed into place atomically; when two callers race, both
    renames land the same content and the later one simply replaces the earlier.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives (it may not exist yet)."""
        if not _KEY_RE.match(key):
            # Anything else (paths, URLs, very long ids) is hashed into a safe name.
            key = "h-" + hashlib.sha256(key.encode()).hexdigest()
        # Two-character fan-out keeps directories small with millions of entries.
        return self.root / key[:2] / key

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def ensure(self, key: str, fetch: Callable[[BinaryIO], None]) -> Path:
        """Return the cached file for ``key``, calling ``fetch(stream)`` only when it is missing.

        ``fetch`` writes the content into the binary stream it is given; it should stream in
        chunks rather than build the whole content in memory.
        """
        final = self.path(key)
        if final.is_file():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="fetch-")
        try:
            with os.fdopen(fd, "wb") as stream:
                fetch(stream)
            os.chmod(tmp_name, 0o444)
            os.replace(tmp_name, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return final

    def link_into(self, key: str, dest: str | os.PathLike[str]) -> Path:
        """Make ``dest`` (whose parent must exist) a hard link to the cached entry for ``key``."""
        src = self.path(key)
        if not src.is_file():
            raise CacheError(f"cache entry {key!r} is missing from {self.root}")
        link_or_copy(src, dest)
        return Path(dest)
