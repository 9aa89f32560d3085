"""The FastAPI application: lakeFS's ``/api/v1`` routes, HTTP basic auth, lakeFS error bodies."""

from __future__ import annotations

import base64
import binascii
import errno
import hmac
import logging
import shutil
import sqlite3
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_pachyderm.server import api_config, api_objects, api_refs
from airflow_pachyderm.server.errors import ApiError, InsufficientStorage, RangeNotSatisfiable
from airflow_pachyderm.server.store import Store

API_PREFIX = "/api/v1"
# As in lakeFS, these answer without credentials.
PUBLIC_PATHS = frozenset({f"{API_PREFIX}/healthcheck", f"{API_PREFIX}/setup_lakefs"})

log = logging.getLogger(__name__)


class BasicAuth:
    """ASGI middleware: every ``/api/v1`` request needs the configured key pair."""

    def __init__(self, app: ASGIApp, access_key_id: str, secret_access_key: str) -> None:
        self.app = app
        self._expected = f"{access_key_id}:{secret_access_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            protected = path.startswith(API_PREFIX) and path not in PUBLIC_PATHS
            if protected and not self._authorized(scope):
                response = JSONResponse({"message": "error authenticating request"}, 401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() != b"basic":
                    return False
                try:
                    given = base64.b64decode(token.strip(), validate=True)
                except (binascii.Error, ValueError):
                    return False
                return hmac.compare_digest(given, self._expected)
        return False


class StrictUtf8:
    """ASGI middleware: refuse (400) a URL whose path or query is not UTF-8 once decoded.

    Starlette decodes invalid bytes to U+FFFD, which would make ``col%FFx`` and ``col%FEx``
    the same object path; object paths are keys, so they must arrive exactly as sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = invalid_utf8(scope.get("raw_path") or b"", scope.get("query_string", b""))
            if problem:
                await JSONResponse({"message": problem}, 400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def invalid_utf8(raw_path: bytes, query: bytes) -> str | None:
    """What is not UTF-8 in a raw request path and query string, or None."""
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return "request path is not valid UTF-8 (after percent-decoding)"
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        shown = name.decode("ascii", "replace")
        try:
            unquote_to_bytes(name).decode("utf-8")
            unquote_to_bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return f"query parameter {shown!r} is not valid UTF-8 (after percent-decoding)"
    return None


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the file system is out of space."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.Error) and (
            getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "disk is full" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def create_app(store: Store, access_key_id: str, secret_access_key: str) -> ASGIApp:
    app = FastAPI(
        title="airflow-pachyderm lakeFS-compatible server",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        headers = {}
        if isinstance(exc, RangeNotSatisfiable):
            headers["Content-Range"] = f"bytes */{exc.size}"
        return JSONResponse({"message": exc.message}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse({"message": "invalid request: " + "; ".join(problems)}, 400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"message": str(exc.detail)}, exc.status_code)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error serving %s %s", request.method, request.url.path)
        return JSONResponse({"message": f"internal error: {type(exc).__name__}"}, 500)

    # Storage errors are answered here (not re-raised like any other exception, which
    # would also drop the client's keep-alive connection).
    @app.exception_handler(OSError)
    @app.exception_handler(sqlite3.Error)
    async def storage_error(request: Request, exc: Exception) -> Response:
        if not disk_full(exc):
            log.error("storage error serving %s %s", request.method, request.url.path,
                      exc_info=exc)  # fmt: skip
            return JSONResponse({"message": f"internal error: {type(exc).__name__}"}, 500)
        free = shutil.disk_usage(store.data_dir).free
        log.error(
            "no space left on the device of the data directory %s (%d bytes free) while "
            "serving %s %s: %s",
            store.data_dir, free, request.method, request.url.path, exc,
        )  # fmt: skip
        full = InsufficientStorage("no space left on device: the server's storage is full")
        return JSONResponse({"message": full.message}, full.status)

    app.include_router(api_config.router(), prefix=API_PREFIX)
    app.include_router(api_refs.router(store), prefix=API_PREFIX)
    app.include_router(api_objects.router(store), prefix=API_PREFIX)
    return BasicAuth(StrictUtf8(app), access_key_id, secret_access_key)
