"""Moving files into and out of a container through the Docker API (tar archives).

The remote-daemon path of the runner: a daemon on another host cannot see this worker's
directories, so instead of bind mounts the runner uploads inputs with ``put_archive`` and
downloads ``/pfs/out`` with ``get_archive``. Archives are built from host files without
holding them in memory (a spooled temporary file), and downloads are read as a stream.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from airflow_pachyderm.runners.base import OutputError

if TYPE_CHECKING:
    import docker

LOCAL_BASE_URLS = ("http+docker://localhost", "http+docker://localnpipe")
TRANSFER_ENV = "AIRFLOW_PACHYDERM_DOCKER_TRANSFER"
TRANSFERS = ("bind", "archive")
_SPOOL_BYTES = 16 * 1024 * 1024


def transfer_for(api: docker.APIClient, requested: str | None = None) -> str:
    """``"bind"`` for a daemon on this host's Unix socket, else ``"archive"``.

    :param requested: ``"bind"`` or ``"archive"`` to override the guess (also from the
        ``AIRFLOW_PACHYDERM_DOCKER_TRANSFER`` environment variable), e.g. ``bind`` for a TCP
        daemon that does run on this host.
    :raises ValueError: an unknown ``requested`` value.
    """
    choice = requested or os.environ.get(TRANSFER_ENV) or None
    if choice is not None:
        if choice not in TRANSFERS:
            raise ValueError(
                f"Docker transfer {choice!r} (argument or ${TRANSFER_ENV}): use one of "
                + ", ".join(TRANSFERS)
            )
        return choice
    return "bind" if api.base_url in LOCAL_BASE_URLS else "archive"


@dataclass(frozen=True)
class Owner:
    """Who owns uploaded files inside the container, as numeric ids."""

    uid: int
    gid: int

    @property
    def user(self) -> str:
        return f"{self.uid}:{self.gid}"


ROOT = Owner(0, 0)


class TarBuilder:
    """A tar archive of directories, host files and small texts, spooled to disk."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        # Closed by upload(): the builder outlives any one with-block.
        self._fh = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        self._tar = tarfile.open(fileobj=self._fh, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._dirs: set[str] = set()
        self.count = 0

    def _info(
        self, name: str, kind: bytes, mode: int, owner: Owner | None = None
    ) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        owner = owner or self.owner
        info.uid, info.gid = owner.uid, owner.gid
        return info

    def directory(self, name: str, mode: int = 0o755, parents: Owner | None = None) -> None:
        """Add ``name`` (relative) and its missing parents (0755, owned by ``parents`` or the
        builder's owner) as directories."""
        parts = PurePosixPath(name).parts
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if path in self._dirs:
                continue
            self._dirs.add(path)
            leaf = depth == len(parts)
            info = self._info(
                path, tarfile.DIRTYPE, mode if leaf else 0o755, None if leaf else parents
            )
            self._tar.addfile(info)
            self.count += 1

    def file(self, name: str, source: Path, mode: int = 0o444) -> None:
        """Add the host file ``source`` as ``name`` (parents as 0755 directories)."""
        parent = str(PurePosixPath(name).parent)
        if parent != ".":
            self.directory(parent)
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = os.stat(source).st_size
        with open(source, "rb") as fh:
            self._tar.addfile(info, fh)
        self.count += 1

    def text(self, name: str, data: str, mode: int = 0o444) -> None:
        raw = data.encode("utf-8")
        parent = str(PurePosixPath(name).parent)
        if parent != ".":
            self.directory(parent)
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(raw)
        self._tar.addfile(info, io.BytesIO(raw))
        self.count += 1

    def tree(
        self, name: str, source: Path, dir_mode: int = 0o755, parents: Owner | None = None
    ) -> None:
        """Add the host directory ``source`` (files and directories only) as ``name``;
        ``parents``: the owner of ``name``'s parents (default: the builder's owner)."""
        self.directory(name, dir_mode, parents)
        for dirpath, dirnames, filenames in os.walk(source):
            rel = os.path.relpath(dirpath, source)
            base = name if rel == "." else f"{name}/{rel.replace(os.sep, '/')}"
            for sub in sorted(dirnames):
                self.directory(f"{base}/{sub}")
            for leaf in sorted(filenames):
                self.file(f"{base}/{leaf}", Path(dirpath) / leaf)

    def upload(self, api: docker.APIClient, container_id: str, dest: str = "/") -> None:
        """Extract the archive at ``dest`` in the container; the builder is spent after."""
        self._tar.close()
        self._fh.seek(0)
        try:
            api.put_archive(container_id, dest, _chunks(self._fh))
        finally:
            self._fh.close()


def _chunks(fh, size: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := fh.read(size):
        yield chunk


class _StreamReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (Docker's archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def download_dir(
    api: docker.APIClient, container_id: str, path: str, dest: Path, datum_id: str
) -> None:
    """Copy the container directory ``path``'s contents into the host directory ``dest``.

    Only regular files and directories come through; hard links become copies of their
    target. Anything else (symbolic links, devices, fifos) and names that would leave ``dest``
    fail the datum, as they do on the bind-mount path.

    :raises OutputError: an entry that cannot be an output (its path relative to ``path``).
    """
    chunks, _stat = api.get_archive(container_id, path)
    dest.mkdir(parents=True, exist_ok=True)
    top = PurePosixPath(path).name
    with tarfile.open(fileobj=io.BufferedReader(_StreamReader(chunks)), mode="r|") as tar:
        for member in tar:
            rel = _relative(member.name, top, datum_id)
            if rel is None:
                if not member.isdir():
                    raise OutputError(datum_id, "", "the datum's out directory was replaced")
                continue
            target = dest / rel
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isreg():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has data
                with open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
            elif member.islnk():
                linked = _relative(member.linkname, top, datum_id)
                if linked is None or not (dest / linked).is_file():
                    raise OutputError(datum_id, rel, "a hard link to a file outside /pfs/out")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(dest / linked, target)
            elif member.issym():
                raise OutputError(datum_id, rel, "symbolic links are not allowed in outputs")
            else:
                raise OutputError(
                    datum_id, rel, "only regular files and directories are allowed in outputs"
                )


def _relative(name: str, top: str, datum_id: str) -> str | None:
    """``name`` of an archive of directory ``top`` relative to it; None for ``top`` itself.

    :raises OutputError: a name that would leave the directory.
    """
    parts = PurePosixPath(name).parts
    if not parts or parts[0] != top or any(p in ("..", "/") for p in parts):
        raise OutputError(datum_id, name, "path escapes /pfs/out")
    return "/".join(parts[1:]) or None
