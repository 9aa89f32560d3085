"""HTTP calls to the UI plugin of a real deployment, as a given user (or nobody)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from airflow_stack import AirflowStack


def call(
    stack: AirflowStack, method: str, path: str, *, user: str | None, body: Any = None
) -> tuple[int, bytes]:
    """(status, body) of ``method path`` with ``user``'s token (None: anonymous)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(stack.base_url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if user is not None:
        request.add_header("Authorization", f"Bearer {stack.access_token(user)}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
