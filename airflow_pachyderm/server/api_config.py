"""Server-level routes: health, configuration, setup state."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

# The lakeFS API version whose clients (lakefs-sdk 1.88, lakefs 0.16) this server is tested with.
API_VERSION = "1.88.0"

STORAGE_CONFIG = {
    "blockstore_type": "local",
    "blockstore_namespace_example": "local://data/",
    "blockstore_namespace_ValidityRegex": "^[a-z0-9]+://",
    "default_namespace_prefix": "local://",
    "pre_sign_support": False,
    "pre_sign_support_ui": False,
    "import_support": False,
    "import_validity_regex": "^$",
    "pre_sign_multipart_upload": False,
}


def version_config() -> dict:
    from airflow_pachyderm import __version__

    return {
        "version": API_VERSION,
        "version_context": f"airflow-pachyderm {__version__} embedded lakeFS-compatible server",
        "upgrade_recommended": False,
    }


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/healthcheck")
    def health_check() -> Response:
        return Response(status_code=204)

    @api.get("/config")
    def get_config() -> Response:
        return JSONResponse({"version_config": version_config(), "storage_config": STORAGE_CONFIG})

    @api.get("/config/storage")
    def get_storage_config() -> Response:
        return JSONResponse(STORAGE_CONFIG)

    @api.get("/config/version")
    def get_version() -> Response:
        return JSONResponse(version_config())

    @api.get("/setup_lakefs")
    def get_setup_state() -> Response:
        # Credentials come from the environment: there is no interactive setup to do.
        return JSONResponse({"state": "initialized", "comm_prefs_missing": False})

    return api
