"""A small client of Airflow 3's REST API (``/api/v2``) for ``rerun``: token, trigger, poll.

The deployment comes from ``AIRFLOW_PACHYDERM_AIRFLOW_URL``, ``..._USER`` and ``..._PASSWORD``
(what ``airflow-pachyderm up`` prints); with no user, the password is taken as a ready token.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import urllib3

from airflow_pachyderm.cli_data.common import CommandError

URL_ENV = "AIRFLOW_PACHYDERM_AIRFLOW_URL"
USER_ENV = "AIRFLOW_PACHYDERM_AIRFLOW_USER"
PASSWORD_ENV = "AIRFLOW_PACHYDERM_AIRFLOW_PASSWORD"


@dataclass
class AirflowAPI:
    """One Airflow deployment. Every failure raises :class:`CommandError` with the HTTP status."""

    url: str
    user: str = ""
    password: str = field(default="", repr=False)
    _token: str = field(default="", repr=False)
    _http: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(maxsize=2))

    @classmethod
    def from_env(cls) -> AirflowAPI | None:
        """The configured deployment, or None when ``AIRFLOW_PACHYDERM_AIRFLOW_URL`` is unset."""
        url = os.environ.get(URL_ENV, "").rstrip("/")
        if not url:
            return None
        return cls(url, os.environ.get(USER_ENV, ""), os.environ.get(PASSWORD_ENV, ""))

    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        try:
            response = self._http.request(
                method, self.url + path, headers=headers,
                body=None if body is None else json.dumps(body),
                timeout=urllib3.Timeout(connect=10, read=60), retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise CommandError(f"cannot reach Airflow at {self.url}: {exc}") from None
        if response.status >= 400:
            detail = response.data.decode("utf-8", "replace")[:300]
            with contextlib.suppress(ValueError, AttributeError):
                detail = str(json.loads(detail).get("detail", detail))
            raise CommandError(f"Airflow {method} {path}: HTTP {response.status}: {detail}")
        return json.loads(response.data or b"null")

    def token(self) -> str:
        if not self._token:
            if not self.user:
                if not self.password:
                    raise CommandError(f"{URL_ENV} is set but no credentials: set {USER_ENV} and "
                                   f"{PASSWORD_ENV}")
                self._token = self.password
            else:
                answer = self._request("POST", "/auth/token",
                                       {"username": self.user, "password": self.password},
                                       auth=False)
                self._token = answer["access_token"]
        return self._token

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/dags/{quote(dag_id)}")

    def trigger(self, dag_id: str, conf: dict[str, Any], note: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if note:
            body["note"] = note
        return self._request("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", body)

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self._request(
            "GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        )
        return answer.get("task_instances", [])
