"""A lakeFS client on ``lakefs-sdk`` with clear errors, safe retries and streaming I/O.

Nothing here knows about Airflow or pipelines: the Airflow hook and the CLI both build on
:class:`LakeFSClient`. Calls that may be repeated without effect (reads, deletes, resets to a
fixed ref) retry with backoff on connection errors and 5xx answers; calls that create
something (commit, merge, upload, branch creation) retry only when the request provably
never left this machine (connection refused), never after a request may have reached lakeFS.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote, urlencode

import lakefs_sdk
import urllib3
from lakefs_sdk.exceptions import ApiException
from pydantic.v1 import ValidationError as SdkValidationError

from airflow_pachyderm.lakefs.errors import (
    BadRequestError,
    LakeFSConnectionError,
    LakeFSError,
    NotFoundError,
    ServerError,
    error_for_status,
)

T = TypeVar("T")

DEFAULT_STORAGE_NAMESPACE_TEMPLATE = "local://{repo}"
CHUNK_SIZE = 1024 * 1024
MAX_PAGE = 1000


@dataclass(frozen=True)
class LakeFSConfig:
    """Where lakeFS is and how to authenticate.

    :param endpoint: base URL of the lakeFS server, with or without ``/api/v1``.
    :param access_key_id: lakeFS access key id.
    :param secret_access_key: lakeFS secret access key (never logged).
    :param storage_namespace_template: namespace for repositories this provider creates,
        ``{repo}`` replaced by the repository name, e.g. ``s3://bucket/{repo}``.
    :param retries: attempts for idempotent calls (and for calls never sent).
    :param timeout: seconds to wait for lakeFS to answer one request.
    """

    endpoint: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    storage_namespace_template: str = DEFAULT_STORAGE_NAMESPACE_TEMPLATE
    retries: int = 4
    timeout: float = 60.0

    @property
    def base_url(self) -> str:
        url = self.endpoint.rstrip("/")
        if url.endswith("/api/v1"):
            url = url[: -len("/api/v1")]
        return url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LakeFSConfig:
        """Read the variables lakeFS's own clients (lakectl, ``lakefs``) read."""
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in (
                "LAKECTL_SERVER_ENDPOINT_URL",
                "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
                "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
            )
            if not env.get(name)
        ]
        if missing:
            raise LakeFSError(
                "lakeFS is not configured: set " + ", ".join(missing)
                + " or configure an Airflow connection of type 'lakefs'"
            )
        return cls(
            endpoint=env["LAKECTL_SERVER_ENDPOINT_URL"],
            access_key_id=env["LAKECTL_CREDENTIALS_ACCESS_KEY_ID"],
            secret_access_key=env["LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"],
            storage_namespace_template=env.get(
                "LAKEFS_STORAGE_NAMESPACE_TEMPLATE", DEFAULT_STORAGE_NAMESPACE_TEMPLATE
            ),
        )

    def storage_namespace(self, repo: str) -> str:
        return self.storage_namespace_template.replace("{repo}", repo)


class LakeFSClient:
    """Typed access to one lakeFS installation.

    Every method names the repository/ref/path in its errors; see
    :mod:`airflow_pachyderm.lakefs.errors` for the exception types.
    """

    def __init__(self, config: LakeFSConfig | None = None) -> None:
        self._config = config
        self._api: lakefs_sdk.ApiClient | None = None
        # One client is shared by the transfer threads of a task.
        self._api_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------

    @property
    def config(self) -> LakeFSConfig:
        if self._config is None:
            self._config = self._load_config()
        return self._config

    def _load_config(self) -> LakeFSConfig:
        return LakeFSConfig.from_env()

    @property
    def api(self) -> lakefs_sdk.ApiClient:
        with self._api_lock:
            if self._api is None:
                cfg = self.config
                sdk_config = lakefs_sdk.Configuration(
                    host=cfg.api_url, username=cfg.access_key_id, password=cfg.secret_access_key
                )
                # Retries are decided here, per call, knowing whether the call is idempotent.
                sdk_config.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=2)
                self._api = lakefs_sdk.ApiClient(sdk_config)
            return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def _call(self, where: str, fn: Callable[[], T], *, idempotent: bool) -> T:
        attempts = max(1, self.config.retries)
        delay = 0.2
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except ApiException as exc:
                error: LakeFSError = error_for_status(exc.status or 0, exc.body, where)
                retry = idempotent and isinstance(error, ServerError)
            except SdkValidationError as exc:
                # lakefs-sdk checks names and bodies before sending, as lakeFS would.
                raise BadRequestError(_validation_message(exc), status=400, where=where) from None
            except urllib3.exceptions.HTTPError as exc:
                error = LakeFSConnectionError(
                    f"cannot reach lakeFS at {self.config.base_url}: {_root_cause(exc)}",
                    where=where,
                )
                retry = idempotent or _never_sent(exc)
            if not retry or attempt == attempts:
                raise error
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    def _timeout(self) -> float:
        return self.config.timeout

    def _paginate(
        self, where: str, fetch: Callable[[str, int], Any], amount: int | None
    ) -> Iterator[Any]:
        """Yield results page by page; ``fetch(after, page_size)`` returns a list object."""
        after = ""
        remaining = amount
        while remaining is None or remaining > 0:
            page_size = MAX_PAGE if remaining is None else min(MAX_PAGE, remaining)
            page = self._call(
                where, lambda a=after, n=page_size: fetch(a, n), idempotent=True
            )
            yield from page.results
            if remaining is not None:
                remaining -= len(page.results)
            if not page.pagination.has_more or not page.results:
                return
            after = page.pagination.next_offset

    def _headers(self) -> dict[str, str]:
        cfg = self.config
        token = base64.b64encode(f"{cfg.access_key_id}:{cfg.secret_access_key}".encode())
        return {"Authorization": f"Basic {token.decode()}"}

    def _raw(
        self,
        method: str,
        where: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        url = self.config.api_url + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        all_headers = {**self._headers(), **(headers or {})}
        pool = self.api.rest_client.pool_manager
        response = pool.request(
            method,
            url,
            body=body,
            headers=all_headers,
            preload_content=not stream,
            timeout=urllib3.Timeout(connect=10.0, read=self._timeout()),
            retries=False,
        )
        if response.status >= 400:
            data = response.read() if stream else response.data
            response.release_conn()
            raise error_for_status(response.status, data, where)
        return response

    # -- health and configuration --------------------------------------------------------

    def health_check(self) -> None:
        """Raise unless lakeFS answers and accepts the credentials."""
        self._call("healthcheck", lambda: lakefs_sdk.HealthCheckApi(self.api).health_check(),
                   idempotent=True)
        self._call("config", lambda: lakefs_sdk.ConfigApi(self.api).get_config(),
                   idempotent=True)

    def version(self) -> str:
        cfg = self._call(
            "config", lambda: lakefs_sdk.ConfigApi(self.api).get_config(), idempotent=True
        )
        return cfg.version_config.version if cfg.version_config else ""

    # -- repositories ---------------------------------------------------------------------

    def create_repository(
        self,
        repo: str,
        *,
        storage_namespace: str | None = None,
        default_branch: str = "main",
        exist_ok: bool = False,
    ) -> lakefs_sdk.Repository:
        """Create ``repo``; with ``exist_ok`` return the existing one instead of failing."""
        if exist_ok:
            with contextlib.suppress(NotFoundError):
                return self.get_repository(repo)
        def create() -> lakefs_sdk.Repository:
            creation = lakefs_sdk.RepositoryCreation(
                name=repo,
                storage_namespace=storage_namespace or self.config.storage_namespace(repo),
                default_branch=default_branch,
            )
            return lakefs_sdk.RepositoriesApi(self.api).create_repository(creation)

        try:
            return self._call(f"repository {repo}", create, idempotent=False)
        except LakeFSError as exc:
            if exist_ok and exc.status == 409:  # created concurrently
                return self.get_repository(repo)
            raise

    def get_repository(self, repo: str) -> lakefs_sdk.Repository:
        return self._call(
            f"repository {repo}",
            lambda: lakefs_sdk.RepositoriesApi(self.api).get_repository(repo),
            idempotent=True,
        )

    def repository_exists(self, repo: str) -> bool:
        try:
            self.get_repository(repo)
        except NotFoundError:
            return False
        return True

    def list_repositories(self, prefix: str = "") -> Iterator[lakefs_sdk.Repository]:
        api = lakefs_sdk.RepositoriesApi(self.api)
        return self._paginate(
            "repositories",
            lambda after, n: api.list_repositories(prefix=prefix or None, after=after, amount=n),
            None,
        )

    def delete_repository(self, repo: str, *, missing_ok: bool = False) -> None:
        try:
            self._call(
                f"repository {repo}",
                lambda: lakefs_sdk.RepositoriesApi(self.api).delete_repository(repo),
                idempotent=True,
            )
        except NotFoundError:
            if not missing_ok:
                raise

    # -- branches -------------------------------------------------------------------------

    def create_branch(
        self, repo: str, branch: str, source: str, *, exist_ok: bool = False
    ) -> str:
        """Create ``branch`` at ``source`` (any ref); return the branch's head commit id.

        With ``exist_ok`` an existing branch is kept as it is (its head is returned), which
        is what a retried task wants.
        """
        where = f"{repo}@{branch}"
        if exist_ok:
            with contextlib.suppress(NotFoundError):
                return self.get_branch(repo, branch)
        try:
            return self._call(
                where,
                lambda: lakefs_sdk.BranchesApi(self.api).create_branch(
                    repo, lakefs_sdk.BranchCreation(name=branch, source=source)
                ),
                idempotent=False,
            ).strip()
        except LakeFSError as exc:
            if exist_ok and exc.status == 409:
                return self.get_branch(repo, branch)
            raise

    def get_branch(self, repo: str, branch: str) -> str:
        """The commit id the branch points at."""
        ref = self._call(
            f"{repo}@{branch}",
            lambda: lakefs_sdk.BranchesApi(self.api).get_branch(repo, branch),
            idempotent=True,
        )
        return ref.commit_id

    def branch_exists(self, repo: str, branch: str) -> bool:
        try:
            self.get_branch(repo, branch)
        except NotFoundError:
            return False
        return True

    def list_branches(self, repo: str, prefix: str = "") -> Iterator[lakefs_sdk.Ref]:
        api = lakefs_sdk.BranchesApi(self.api)
        return self._paginate(
            f"{repo} branches",
            lambda after, n: api.list_branches(repo, prefix=prefix or None, after=after, amount=n),
            None,
        )

    def delete_branch(self, repo: str, branch: str, *, missing_ok: bool = False) -> None:
        try:
            self._call(
                f"{repo}@{branch}",
                lambda: lakefs_sdk.BranchesApi(self.api).delete_branch(repo, branch),
                idempotent=True,
            )
        except NotFoundError:
            if not missing_ok:
                raise

    def reset_branch(self, repo: str, branch: str, *, path: str | None = None) -> None:
        """Discard uncommitted changes on ``branch`` (all, or those under ``path``)."""
        creation = (
            lakefs_sdk.ResetCreation(type="reset")
            if path is None
            else lakefs_sdk.ResetCreation(
                type="common_prefix" if path.endswith("/") else "object", path=path
            )
        )
        self._call(
            f"{repo}@{branch}",
            lambda: lakefs_sdk.BranchesApi(self.api).reset_branch(repo, branch, creation),
            idempotent=True,
        )

    def hard_reset_branch(self, repo: str, branch: str, ref: str, *, force: bool = False) -> None:
        """Point ``branch`` at ``ref`` (lakeFS marks this experimental; history is left)."""
        self._call(
            f"{repo}@{branch}",
            lambda: lakefs_sdk.ExperimentalApi(self.api).hard_reset_branch(
                repo, branch, ref, force=force
            ),
            idempotent=True,
        )

    def revert(
        self,
        repo: str,
        branch: str,
        ref: str,
        *,
        parent_number: int = 0,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Add a commit on ``branch`` undoing ``ref``; return the new head commit id."""
        creation = lakefs_sdk.RevertCreation(
            ref=ref,
            parent_number=parent_number,
            commit_overrides=lakefs_sdk.CommitOverrides(
                message=message, metadata=dict(metadata or {})
            )
            if (message or metadata)
            else None,
        )
        self._call(
            f"{repo}@{branch} revert {ref}",
            lambda: lakefs_sdk.BranchesApi(self.api).revert_branch(repo, branch, creation),
            idempotent=False,
        )
        return self.get_branch(repo, branch)

    # -- commits and refs -----------------------------------------------------------------

    def commit(
        self,
        repo: str,
        branch: str,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        allow_empty: bool = False,
    ) -> lakefs_sdk.Commit:
        creation = lakefs_sdk.CommitCreation(
            message=message, metadata=dict(metadata or {}), allow_empty=allow_empty
        )
        return self._call(
            f"{repo}@{branch} commit",
            lambda: lakefs_sdk.CommitsApi(self.api).commit(repo, branch, creation),
            idempotent=False,
        )

    def get_commit(self, repo: str, ref: str) -> lakefs_sdk.Commit:
        """The commit a ref (branch, tag, id or prefix, ``main~2``, ``main@``) points at."""
        return self._call(
            f"{repo}@{ref}",
            lambda: lakefs_sdk.CommitsApi(self.api).get_commit(repo, ref),
            idempotent=True,
        )

    def resolve_ref(self, repo: str, ref: str) -> str:
        """Resolve any lakeFS ref to a full 64-hex commit id."""
        return self.get_commit(repo, ref).id

    def log_commits(
        self, repo: str, ref: str, *, amount: int | None = None, first_parent: bool = False
    ) -> Iterator[lakefs_sdk.Commit]:
        """Commits reachable from ``ref``, newest first, fetched lazily page by page.

        (Not named ``log``: Airflow hooks use that name for their logger.)
        """
        api = lakefs_sdk.RefsApi(self.api)
        return self._paginate(
            f"{repo}@{ref} log",
            lambda after, n: api.log_commits(
                repo, ref, after=after, amount=n, first_parent=first_parent or None
            ),
            amount,
        )

    def log_page(
        self, repo: str, ref: str, *, after: str = "", amount: int = 50,
        first_parent: bool = False,
    ) -> tuple[list[lakefs_sdk.Commit], str]:
        """One page of :meth:`log_commits` (a UI's page): the commits and the offset of the
        next page (``""`` on the last page)."""
        api = lakefs_sdk.RefsApi(self.api)
        page = self._call(
            f"{repo}@{ref} log",
            lambda: api.log_commits(
                repo, ref, after=after or None, amount=amount,
                first_parent=first_parent or None,
            ),
            idempotent=True,
        )
        more = page.pagination.has_more and page.results
        return list(page.results), (page.pagination.next_offset if more else "")

    def diff(
        self, repo: str, left_ref: str, right_ref: str, *, prefix: str = ""
    ) -> Iterator[lakefs_sdk.Diff]:
        """Changes from ``left_ref`` to ``right_ref`` (what merging right into left adds)."""
        api = lakefs_sdk.RefsApi(self.api)
        return self._paginate(
            f"{repo} diff {left_ref}...{right_ref}",
            lambda after, n: api.diff_refs(
                repo, left_ref, right_ref, after=after, amount=n, prefix=prefix or None
            ),
            None,
        )

    def diff_uncommitted(
        self, repo: str, branch: str, *, prefix: str = ""
    ) -> Iterator[lakefs_sdk.Diff]:
        api = lakefs_sdk.BranchesApi(self.api)
        return self._paginate(
            f"{repo}@{branch} uncommitted",
            lambda after, n: api.diff_branch(
                repo, branch, after=after, amount=n, prefix=prefix or None
            ),
            None,
        )

    def merge(
        self,
        repo: str,
        source_ref: str,
        destination_branch: str,
        *,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
        strategy: str | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Merge ``source_ref`` into ``destination_branch``; return the merge commit id."""
        merge = lakefs_sdk.Merge(
            message=message,
            metadata=dict(metadata or {}),
            strategy=strategy,
            allow_empty=allow_empty,
        )
        result = self._call(
            f"{repo} merge {source_ref} into {destination_branch}",
            lambda: lakefs_sdk.RefsApi(self.api).merge_into_branch(
                repo, source_ref, destination_branch, merge=merge
            ),
            idempotent=False,
        )
        return result.reference

    # -- tags -----------------------------------------------------------------------------

    def create_tag(self, repo: str, tag: str, ref: str) -> str:
        creation = lakefs_sdk.TagCreation(id=tag, ref=ref)
        result = self._call(
            f"{repo} tag {tag}",
            lambda: lakefs_sdk.TagsApi(self.api).create_tag(repo, creation),
            idempotent=False,
        )
        return result.commit_id

    def get_tag(self, repo: str, tag: str) -> str:
        return self._call(
            f"{repo} tag {tag}",
            lambda: lakefs_sdk.TagsApi(self.api).get_tag(repo, tag),
            idempotent=True,
        ).commit_id

    def list_tags(self, repo: str, prefix: str = "") -> Iterator[lakefs_sdk.Ref]:
        api = lakefs_sdk.TagsApi(self.api)
        return self._paginate(
            f"{repo} tags",
            lambda after, n: api.list_tags(repo, prefix=prefix or None, after=after, amount=n),
            None,
        )

    def delete_tag(self, repo: str, tag: str) -> None:
        self._call(
            f"{repo} tag {tag}",
            lambda: lakefs_sdk.TagsApi(self.api).delete_tag(repo, tag),
            idempotent=True,
        )

    # -- objects --------------------------------------------------------------------------

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


def _root_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)


def _never_sent(exc: urllib3.exceptions.HTTPError) -> bool:
    """True when the request could not have reached the server (connection refused)."""
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError)


__all__ = ["LakeFSClient", "LakeFSConfig"]


def _validation_message(exc: SdkValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(item) for item in error.get("loc", ()))
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or str(exc)
