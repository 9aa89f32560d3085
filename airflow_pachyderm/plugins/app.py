"""The plugin's FastAPI app, mounted by Airflow's api-server under ``/pachyderm``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse

from airflow_pachyderm.plugins import lineage_view, views_browse, views_rerun
from airflow_pachyderm.plugins.security import CurrentUser

STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


def create_app() -> FastAPI:
    """All routes need an authenticated Airflow user (each depends on ``CurrentUser``)."""
    app = FastAPI(title="Pachyderm pipelines on lakeFS", docs_url=None, redoc_url=None,
                  openapi_url=None)
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
