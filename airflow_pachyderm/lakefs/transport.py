"""The plumbing of the lakeFS client: where lakeFS is, one HTTP pool, errors and retries.

Calls that may be repeated without effect (reads, deletes, resets to a fixed ref) retry with
backoff on connection errors and 5xx answers; calls that create something (commit, merge,
upload, branch creation) retry only when the request provably never left this machine
(connection refused), never after a request may have reached lakeFS.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import lakefs_sdk
import tenacity
import urllib3
from lakefs_sdk.exceptions import ApiException
from pydantic.v1 import ValidationError as SdkValidationError

from airflow_pachyderm.lakefs.errors import (
    BadRequestError,
    LakeFSConnectionError,
    LakeFSError,
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


class Transport:
    """Connection, authentication, error mapping, retries and paging shared by the parts of
    :class:`~airflow_pachyderm.lakefs.client.LakeFSClient`.

    :param config: where lakeFS is; default: read from ``LAKECTL_*`` on first use.
    """

    def __init__(self, config: LakeFSConfig | None = None) -> None:
        self._config = config
        self._api: lakefs_sdk.ApiClient | None = None
        # One client is shared by the transfer threads of a task.
        self._api_lock = threading.Lock()

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
        """Run one lakeFS request ``fn``, turning failures into :class:`LakeFSError`.

        Retries with exponential backoff (tenacity) on 5xx answers and connection errors of
        idempotent calls, and on connection errors of any call that provably never left
        this machine.

        :raises LakeFSError: the subclass matching the HTTP status, or
            :class:`LakeFSConnectionError`, after the last attempt.
        """

        def attempt() -> T:
            try:
                return fn()
            except ApiException as exc:
                error: LakeFSError = error_for_status(exc.status or 0, exc.body, where)
            except SdkValidationError as exc:
                # lakefs-sdk checks names and bodies before sending, as lakeFS would.
                raise BadRequestError(_validation_message(exc), status=400, where=where) from None
            except urllib3.exceptions.HTTPError as exc:
                error = LakeFSConnectionError(
                    f"cannot reach lakeFS at {self.config.base_url}: {_root_cause(exc)}",
                    where=where,
                    never_sent=_never_sent(exc),
                )
            raise error

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.config.retries)),
            wait=tenacity.wait_exponential(multiplier=0.2, max=5.0),
            retry=tenacity.retry_if_exception(lambda exc: _may_retry(exc, idempotent)),
            reraise=True,
        )
        return retrying(attempt)

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


def _may_retry(exc: BaseException, idempotent: bool) -> bool:
    if isinstance(exc, ServerError):
        return idempotent
    if isinstance(exc, LakeFSConnectionError):
        return idempotent or exc.never_sent
    return False


def _root_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)


def _never_sent(exc: urllib3.exceptions.HTTPError) -> bool:
    """True when the request could not have reached the server (connection refused)."""
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError)


def _validation_message(exc: SdkValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(item) for item in error.get("loc", ()))
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or str(exc)
