"""Egress: mirror an output commit's files to external storage after the job.

The destination comes from the spec's ``egress.URL``. ``file://`` is handled here;
``s3://`` (and S3-compatible stores) through the Amazon provider's S3Hook, by the
operator. The destination ends up holding exactly the commit's files: files of removed
datums are deleted there too. Copies overwrite, so a retried egress gives the same result.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlparse

from airflow_pachyderm.errors import EgressError
from airflow_pachyderm.jobs.job import RESERVED_PREFIX
from airflow_pachyderm.lakefs.client import LakeFSClient

SUPPORTED_SCHEMES = ("file", "s3")


class Sink(Protocol):
    """A destination: write one file, list what is there, delete some of it."""

    def write(self, path: str, fh: IO[bytes]) -> None: ...

    def existing(self) -> Iterable[str]: ...

    def delete(self, paths: list[str]) -> None: ...


def mirror_commit(client: LakeFSClient, repo: str, commit: str, sink: Sink) -> tuple[int, int]:
    """Copy every output file of ``repo@commit`` to ``sink`` and delete what the commit no
    longer has; return ``(files written, files deleted)``.

    The provider's bookkeeping (``_pachyderm/``) stays in lakeFS.
    """
    written: set[str] = set()
    for obj in client.list_objects(repo, commit):
        if obj.path_type != "object" or obj.path.startswith(RESERVED_PREFIX):
            continue
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as fh:
            client.download(repo, commit, obj.path, fh)
            fh.seek(0)
            sink.write(obj.path, fh)
        written.add(obj.path)
    extra = sorted(set(sink.existing()) - written)
    if extra:
        sink.delete(extra)
    return len(written), len(extra)


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

    def existing(self) -> Iterable[str]:
        if not self.root.is_dir():
            return []
        return [p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()]

    def delete(self, paths: list[str]) -> None:
        for path in paths:
            self._target(path).unlink(missing_ok=True)


def scheme_of(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme not in SUPPORTED_SCHEMES:
        raise EgressError(
            f"egress URL {url!r}: scheme {scheme!r} is not supported; use one of "
            + ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
        )
    return scheme
