"""The plugin's FastAPI app, mounted by Airflow's api-server under ``/pachyderm``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.responses import FileResponse

from airflow_pachyderm.plugins import lineage_view, views_browse, views_rerun
from airflow_pachyderm.plugins.security import CurrentUser

STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


def create_app() -> FastAPI:
    """All routes need an authenticated Airflow user (each depends on ``CurrentUser``)."""
    app = FastAPI(title="Pachyderm pipelines on lakeFS", docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.middleware("http")
    async def server_timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The plugin's own time per request (benchmarks/ui_pages.py reads it).
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1e3:.2f}"
        return response

    app.include_router(views_browse.router)
    app.include_router(lineage_view.router)
    app.include_router(views_rerun.router)

    @app.get("/static/{name}")
    def static(name: str, user: CurrentUser) -> FileResponse:
        path = STATIC / name
        if path.suffix not in STATIC_TYPES or path.parent != STATIC or not path.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
        return FileResponse(path, media_type=STATIC_TYPES[path.suffix])

    return app
