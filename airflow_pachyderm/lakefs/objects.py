"""lakeFS objects: list, stat, streaming upload and download, delete, copy."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import lakefs_sdk
import urllib3

from airflow_pachyderm.lakefs.errors import NotFoundError, error_for_status
from airflow_pachyderm.lakefs.transport import CHUNK_SIZE, MAX_PAGE, Transport


class Objects(Transport):
    """Object calls of :class:`~airflow_pachyderm.lakefs.client.LakeFSClient`."""

    def list_objects(
        self,
        repo: str,
        ref: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        after: str = "",
        user_metadata: bool = False,
    ) -> Iterator[lakefs_sdk.ObjectStats]:
        """Objects (and, with a delimiter, common prefixes) under ``prefix``, lazily."""
        api = lakefs_sdk.ObjectsApi(self.api)
        first_after = after

        def fetch(page_after: str, n: int) -> Any:
            return api.list_objects(
                repo,
                ref,
                user_metadata=user_metadata,
                after=page_after or first_after or None,
                amount=n,
                delimiter=delimiter or None,
                prefix=prefix or None,
            )

        return self._paginate(f"{repo}@{ref}/{prefix}", fetch, None)

    def stat(self, repo: str, ref: str, path: str) -> lakefs_sdk.ObjectStats:
        return self._call(
            f"{repo}@{ref}/{path}",
            lambda: lakefs_sdk.ObjectsApi(self.api).stat_object(
                repo, ref, path, user_metadata=True
            ),
            idempotent=True,
        )

    def exists(self, repo: str, ref: str, path: str) -> bool:
        try:
            self.stat(repo, ref, path)
        except NotFoundError:
            return False
        return True

    def upload(
        self,
        repo: str,
        branch: str,
        path: str,
        source: str | os.PathLike[str] | bytes | IO[bytes],
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
        if_absent: bool = False,
    ) -> lakefs_sdk.ObjectStats:
        """Upload to ``branch`` (staged until committed), streaming from disk.

        :param source: a file path, bytes, or a binary file object (read in chunks; its
            size must be known: a real file or a seekable stream).
        :param if_absent: fail with :class:`PreconditionFailedError` if ``path`` exists.
        """
        headers = {"Content-Type": content_type}
        for key, value in (metadata or {}).items():
            headers[f"x-lakefs-meta-{key}"] = value
        if if_absent:
            headers["If-None-Match"] = "*"
        where = f"{repo}@{branch}/{path}"
        query = {"path": path}
        # Writing the same bytes to the same path again is harmless, unless the caller
        # asked to fail when the path exists: then a retry could fail its own first write.
        resend = not if_absent
        api_path = f"/repositories/{quote(repo)}/branches/{quote(branch, safe='')}/objects"

        def send(body: Any, length: int) -> urllib3.BaseHTTPResponse:
            return self._raw(
                "POST", where, api_path, query, body=body,
                headers={**headers, "Content-Length": str(length)},
            )

        if isinstance(source, bytes):
            response = self._call(where, lambda: send(source, len(source)), idempotent=resend)
        elif isinstance(source, (str, os.PathLike)):
            file_path = Path(source)
            size = file_path.stat().st_size

            def send_file() -> urllib3.BaseHTTPResponse:
                with file_path.open("rb") as fh:
                    return send(_chunks(fh), size)

            response = self._call(where, send_file, idempotent=resend)
        else:
            start = source.tell()
            source.seek(0, os.SEEK_END)
            size = source.tell() - start

            def send_stream() -> urllib3.BaseHTTPResponse:
                source.seek(start)  # a retry sends the stream again from its start
                return send(_chunks(source), size)

            response = self._call(where, send_stream, idempotent=resend)
        return lakefs_sdk.ObjectStats.from_json(response.data.decode())

    def open_stream(
        self, repo: str, ref: str, path: str, *, byte_range: tuple[int, int] | None = None
    ) -> urllib3.BaseHTTPResponse:
        """An unread HTTP response for the object; the caller reads and releases it."""
        headers = {}
        if byte_range is not None:
            headers["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        api_path = f"/repositories/{quote(repo)}/refs/{quote(ref, safe='')}/objects"
        return self._call(
            f"{repo}@{ref}/{path}",
            lambda: self._raw(
                "GET", f"{repo}@{ref}/{path}", api_path, {"path": path},
                headers=headers, stream=True,
            ),
            idempotent=True,
        )

    def download(
        self, repo: str, ref: str, path: str, destination: str | os.PathLike[str] | IO[bytes]
    ) -> int:
        """Stream an object to a file path (written atomically) or a binary file object.

        Memory stays bounded by the chunk size whatever the object's size. Returns bytes
        written.
        """
        if not isinstance(destination, (str, os.PathLike)):
            return self._copy_to(repo, ref, path, destination)
        dest = Path(destination)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                written = self._copy_to(repo, ref, path, fh)
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return written

    def _copy_to(self, repo: str, ref: str, path: str, fh: IO[bytes]) -> int:
        response = self.open_stream(repo, ref, path)
        written = 0
        try:
            for chunk in response.stream(CHUNK_SIZE):
                fh.write(chunk)
                written += len(chunk)
        finally:
            response.release_conn()
        return written

    def read_bytes(self, repo: str, ref: str, path: str) -> bytes:
        """The whole object in memory: for small files (specs, manifests, parameters)."""
        response = self.open_stream(repo, ref, path)
        try:
            return response.read()
        finally:
            response.release_conn()

    def delete_object(self, repo: str, branch: str, path: str, *, missing_ok: bool = False) -> None:
        try:
            self._call(
                f"{repo}@{branch}/{path}",
                lambda: lakefs_sdk.ObjectsApi(self.api).delete_object(repo, branch, path),
                idempotent=True,
            )
        except NotFoundError:
            if not missing_ok:
                raise

    def delete_objects(self, repo: str, branch: str, paths: list[str]) -> None:
        """Delete many paths, 1,000 per request; paths already gone are not an error."""
        api = lakefs_sdk.ObjectsApi(self.api)
        for start in range(0, len(paths), MAX_PAGE):
            chunk = paths[start : start + MAX_PAGE]
            result = self._call(
                f"{repo}@{branch} delete {len(chunk)} objects",
                lambda c=chunk: api.delete_objects(
                    repo, branch, lakefs_sdk.PathList(paths=c)
                ),
                idempotent=True,
            )
            failures = [e for e in (result.errors or []) if e.status_code not in (None, 404)]
            if failures:
                first = failures[0]
                raise error_for_status(
                    first.status_code or 500, first.message, f"{repo}@{branch}/{first.path}"
                )

    def copy_object(
        self, repo: str, src_ref: str, src_path: str, dest_branch: str, dest_path: str
    ) -> lakefs_sdk.ObjectStats:
        creation = lakefs_sdk.ObjectCopyCreation(src_path=src_path, src_ref=src_ref)
        return self._call(
            f"{repo}@{dest_branch}/{dest_path}",
            lambda: lakefs_sdk.ObjectsApi(self.api).copy_object(
                repo, dest_branch, dest_path, creation
            ),
            idempotent=True,
        )


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = fh.read(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk
