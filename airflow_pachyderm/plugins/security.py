"""Who may see and do what in the plugin: Airflow's own auth manager decides.

Plugin FastAPI apps are mounted without any protection, so every route depends on
:func:`current_user` (Airflow's ``get_user``: a bearer token or the UI's session cookie,
401 without one) and checks DAG permissions through the auth manager: reading a pipeline's
data needs read access to its DAG, a rerun needs permission to create runs of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


CurrentUser = Annotated[Any, Depends(get_user)]


def can_read_dag(user: Any, dag_id: str) -> bool:
    """Whether ``user`` may read DAG ``dag_id`` (and so its pipeline's data)."""
    return bool(
        _auth_manager().is_authorized_dag(method="GET", details=DagDetails(id=dag_id), user=user)
    )


def can_trigger_dag(user: Any, dag_id: str) -> bool:
    """Whether ``user`` may create runs of DAG ``dag_id``."""
    return bool(
        _auth_manager().is_authorized_dag(
            method="POST",
            access_entity=DagAccessEntity.RUN,
            details=DagDetails(id=dag_id),
            user=user,
        )
    )


def require_any_dag(user: Any, dag_ids: Iterable[str], what: str) -> None:
    """Pass when ``user`` may read one of ``dag_ids``.

    :raises HTTPException: 403 naming ``what`` otherwise (also when no DAG is involved:
        data outside every pipeline is not the plugin's to show).
    """
    if not any(can_read_dag(user, dag_id) for dag_id in dag_ids):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"no permission to read {what}")


def require_trigger(user: Any, dag_id: str) -> None:
    """:raises HTTPException: 403 unless ``user`` may trigger DAG ``dag_id``."""
    if not can_trigger_dag(user, dag_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"no permission to trigger runs of DAG {dag_id!r}"
        )


def user_token(request: Request) -> str:
    """The caller's own Airflow token (bearer header, else the UI's cookie), so that calls
    made on the user's behalf carry exactly the user's rights."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = request.cookies.get(COOKIE_NAME_JWT_TOKEN, "")
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated")
    return token
