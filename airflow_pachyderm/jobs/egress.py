"""Egress: mirror an output commit's files to external storage after the job.

The destination comes from the spec's ``egress.URL``. ``file://`` is handled here;
``s3://`` (and S3-compatible stores) through the Amazon provider's S3Hook, by the
operator. The destination ends up holding exactly the commit's files: files of removed
datums are deleted there too. Only files that differ are written: the destination's
fingerprint of a file (an S3 ETag, a file's MD5) is compared with the lakeFS checksum (the
MD5 of simple uploads) and size. Copies overwrite, so a retried egress gives the same result.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, NamedTuple, Protocol
from urllib.parse import urlparse

from airflow_pachyderm.errors import EgressError
from airflow_pachyderm.jobs.job import RESERVED_PREFIX
from airflow_pachyderm.lakefs.client import LakeFSClient

SUPPORTED_SCHEMES = ("file", "s3")


class Stored(NamedTuple):
    """What a destination holds at a path: its size and an MD5-like fingerprint."""

    size: int
    fingerprint: str


class Sink(Protocol):
    """A destination: write one file, list what is there, delete some of it."""

    def write(self, path: str, fh: IO[bytes]) -> None: ...

    def existing(self) -> dict[str, Stored]: ...

    def delete(self, paths: list[str]) -> None: ...


class MirrorResult(NamedTuple):
    written: int
    deleted: int
    unchanged: int


def mirror_commit(client: LakeFSClient, repo: str, commit: str, sink: Sink) -> MirrorResult:
    """Make ``sink`` hold exactly the output files of ``repo@commit``: write those it lacks or
    holds with other contents, delete those the commit no longer has.

    The provider's bookkeeping (``_pachyderm/``) stays in lakeFS. The destination is listed
    once, before any write.
    """
    before = sink.existing()
    seen: set[str] = set()
    written = 0
    for obj in client.list_objects(repo, commit):
        if obj.path_type != "object" or obj.path.startswith(RESERVED_PREFIX):
            continue
        seen.add(obj.path)
        if before.get(obj.path) == Stored(obj.size_bytes or 0, obj.checksum.strip('"')):
            continue
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as fh:
            client.download(repo, commit, obj.path, fh)
            fh.seek(0)
            sink.write(obj.path, fh)
        written += 1
    extra = sorted(set(before) - seen)
    if extra:
        sink.delete(extra)
    return MirrorResult(written, len(extra), len(seen) - written)


class FileSink:
    """A directory given as ``file:///absolute/path`` (files replaced atomically)."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        root = Path(parsed.path)
        if parsed.netloc not in ("", "localhost") or not root.is_absolute():
            raise EgressError(f"egress URL {url!r}: a file:// URL needs an absolute path")
        self.root = root

    def _target(self, path: str) -> Path:
        target = (self.root / path).resolve()
        if self.root.resolve() not in target.parents:
            raise EgressError(f"egress: output path {path!r} would leave {self.root}")
        return target

    def write(self, path: str, fh: IO[bytes]) -> None:
        target = self._target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(fh, out)
        os.replace(tmp, target)

    def existing(self) -> dict[str, Stored]:
        if not self.root.is_dir():
            return {}
        return {
            p.relative_to(self.root).as_posix(): Stored(p.stat().st_size, _md5(p))
            for p in self.root.rglob("*")
            if p.is_file()
        }

    def delete(self, paths: list[str]) -> None:
        for path in paths:
            self._target(path).unlink(missing_ok=True)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # an S3-style fingerprint, not security
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def scheme_of(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme not in SUPPORTED_SCHEMES:
        raise EgressError(
            f"egress URL {url!r}: scheme {scheme!r} is not supported; use one of "
            + ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
        )
    return scheme
