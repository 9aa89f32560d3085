"""The FastAPI application: lakeFS's ``/api/v1`` routes, HTTP basic auth, lakeFS error bodies."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_pachyderm.server import api_config, api_objects, api_refs
from airflow_pachyderm.server.errors import ApiError, RangeNotSatisfiable
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

    app.include_router(api_config.router(), prefix=API_PREFIX)
    app.include_router(api_refs.router(store), prefix=API_PREFIX)
    app.include_router(api_objects.router(store), prefix=API_PREFIX)
    return BasicAuth(app, access_key_id, secret_access_key)
