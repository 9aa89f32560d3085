"""Raw HTTP for the hardening tests on one keep-alive connection, fresh repos.

Requests are written byte for byte (percent-encoding included) so that the tests send the
same shapes of input an attacker would, not what a client library would clean up.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import urllib.parse
from dataclasses import dataclass, field

from airflow_pachyderm.server.process import LakeFSServerProcess


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self):
        return json.loads(self.body)

    @property
    def message(self) -> str:
        return self.json().get("message", "")


@dataclass
class RawClient:
    """HTTP/1.1 to the server on one connection; ``reconnects`` counts dropped connections."""

    server: LakeFSServerProcess
    conn: http.client.HTTPConnection = field(init=False)
    reconnects: int = 0

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=60)
        pair = f"{self.server.access_key_id}:{self.server.secret_access_key}"
        self.auth = "Basic " + base64.b64encode(pair.encode()).decode()

    def call(self, method: str, target: str, body: bytes | dict | None = None) -> Reply:
        """``target`` is sent as written (after ``/api/v1``): quote it yourself."""
        headers = {"Authorization": self.auth}
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            headers["Content-Type"] = "application/octet-stream"
        sock = self.conn.sock
        self.conn.request(method, "/api/v1" + target, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if sock is not None and self.conn.sock is not sock:
            self.reconnects += 1
        if response.getheader("connection", "").lower() == "close":
            self.reconnects += 1
            self.conn.close()
        return Reply(response.status, data, {k.lower(): v for k, v in response.getheaders()})

    def new_repo(self) -> str:
        name = f"rel-{secrets.token_hex(5)}"
        reply = self.call(
            "POST", "/repositories", {"name": name, "storage_namespace": f"local://{name}"}
        )
        assert reply.status == 201, reply.body
        return name

    def upload(self, repo: str, path: str, data: bytes, branch: str = "main") -> dict:
        reply = self.call("POST", f"/repositories/{repo}/branches/{branch}/objects?path="
                          + urllib.parse.quote(path, safe=""), data)  # fmt: skip
        assert reply.status == 201, reply.body
        return reply.json()

    def commit(self, repo: str, branch: str = "main", **fields) -> Reply:
        return self.call(
            "POST", f"/repositories/{repo}/branches/{branch}/commits", {"message": "m", **fields}
        )

    def get(self, repo: str, ref: str, path: str) -> Reply:
        return self.call(
            "GET", f"/repositories/{repo}/refs/{ref}/objects?path=" + urllib.parse.quote(path)
        )

    def close(self) -> None:
        self.conn.close()


def q(text: str) -> str:
    """Percent-encode everything but unreserved characters (keeps U+10FFFF etc. exact)."""
    return urllib.parse.quote(text, safe="")
