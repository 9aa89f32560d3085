"""Egress: copy an output commit's files to external storage after the job.

The destination comes from the spec's ``egress.URL``. ``file://`` is handled here;
``s3://`` (and S3-compatible stores) through the Amazon provider's S3Hook, by the
operator. Copies overwrite, so a retried egress gives the same result.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from airflow_pachyderm.jobs.job import RESERVED_PREFIX
from airflow_pachyderm.lakefs.client import LakeFSClient

Writer = Callable[[str, IO[bytes]], None]
SUPPORTED_SCHEMES = ("file", "s3")


class EgressError(ValueError):
    """The egress URL cannot be used."""


def export_commit(client: LakeFSClient, repo: str, commit: str, write: Writer) -> int:
    """Hand every output file of ``repo@commit`` to ``write(path, fileobj)``; return count.

    The provider's bookkeeping (``_pachyderm/``) stays in lakeFS.
    """
    count = 0
    for obj in client.list_objects(repo, commit):
        if obj.path_type != "object" or obj.path.startswith(RESERVED_PREFIX):
            continue
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as fh:
            client.download(repo, commit, obj.path, fh)
            fh.seek(0)
            write(obj.path, fh)
        count += 1
    return count


def file_writer(url: str) -> Writer:
    """Writes under the directory of a ``file://`` URL (atomically per file)."""
    parsed = urlparse(url)
    root = Path(parsed.path)
    if parsed.netloc not in ("", "localhost") or not root.is_absolute():
        raise EgressError(f"egress URL {url!r}: a file:// URL needs an absolute path")

    def write(path: str, fh: IO[bytes]) -> None:
        target = (root / path).resolve()
        if root.resolve() not in target.parents:
            raise EgressError(f"egress: output path {path!r} would leave {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(fh, out)
        os.replace(tmp, target)

    return write


def scheme_of(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme not in SUPPORTED_SCHEMES:
        raise EgressError(
            f"egress URL {url!r}: scheme {scheme!r} is not supported; use one of "
            + ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
        )
    return scheme
