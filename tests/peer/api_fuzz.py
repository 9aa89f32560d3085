"""Schemathesis against lakeFS's OpenAPI document, limited to what the server implements.

Usage (inside ``with_server.py``, which exports ``LAKECTL_*``)::

    python tests/peer/api_fuzz.py SWAGGER_YML [--repository NAME] [schemathesis run options]

The operations are those of the swagger document whose method and path (parameter names
aside) the server routes; checks: no 5xx, status codes among the documented ones, response
bodies valid against lakeFS's schemas, content types as documented. lakeFS's document is read
from the checkout: no PyPI package ships it, so this runs in the peer script, not in CI.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import yaml
from fastapi.routing import APIRoute

from airflow_pachyderm.server import api_config, api_objects, api_refs
from airflow_pachyderm.server.app import API_PREFIX

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
)
METHODS = ("get", "put", "post", "delete", "head", "patch")


def route_key(path: str) -> str:
    """A path with its parameter names blanked: lakeFS's ``{sourceRef}`` is our ``{source_ref}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def implemented_routes() -> set[tuple[str, str]]:
    routers = [api_config.router(), api_refs.router(None), api_objects.router(None)]  # type: ignore[arg-type]
    routes = set()
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in route.methods:
                    routes.add((method.lower(), route_key(route.path)))
    return routes


def implemented_operations(swagger: Path) -> list[str]:
    """operationIds of the document that the server routes."""
    document = yaml.safe_load(swagger.read_text())
    routes = implemented_routes()
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation and (method, route_key(path)) in routes:
                found.append(operation["operationId"])
    return sorted(found)


# With ``--repository NAME``, path parameters point at an existing repository and its main
# branch, so requests reach the handlers instead of stopping at "repository not found".
FIXED_PATH_PARAMETERS = {
    "branch": "main",
    "ref": "main",
    "leftRef": "main~1",
    "rightRef": "main",
    "sourceRef": "main~1",
    "destinationBranch": "main",
}


# lakeFS's document says getObject answers application/octet-stream, but lakeFS serves the
# object's own content type (controller GetObject sets entry.ContentType); so does this server.
OBJECT_CONTENT_TYPE = """
# The location-headers inference (the server sends none) scans JSON bodies for URLs and
# crashes schemathesis 4.32 on an object path such as "[x" ("Invalid IPv6 URL").
[phases.stateful.inference]
algorithms = ["dependency-analysis"]

[[operations]]
include-operation-id = "getObject"
checks.content_type_conformance.enabled = false
"""


def config_file(repository: str | None, directory: Path) -> Path:
    """A schemathesis.toml: lakeFS's known document/behaviour gap, and with a repository,
    path parameters fixed to it (see FIXED_PATH_PARAMETERS)."""
    # Checks go here, not on the command line, where they would override the per-operation
    # settings below.
    lines = ["[checks]", "enabled = false"]
    lines += [f"{check}.enabled = true" for check in CHECKS]
    if repository:
        values = {"repository": repository, **FIXED_PATH_PARAMETERS}
        lines += ["[parameters]"] + [f'"path.{k}" = "{v}"' for k, v in values.items()]
    path = directory / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n" + OBJECT_CONTENT_TYPE)
    return path


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    swagger, extra = Path(argv[0]), argv[1:]
    operations = implemented_operations(swagger)
    repository = None
    if extra[:1] == ["--repository"]:
        repository, extra = extra[1], extra[2:]
        # Deleting the fixed repository would turn every later request into a 404.
        operations.remove("deleteRepository")
    config = config_file(repository, Path(tempfile.mkdtemp(prefix="api-fuzz-")))
    prefix = ["schemathesis", "--config-file", str(config)]
    print(f"schemathesis: {len(operations)} implemented operations: {' '.join(operations)}")
    base = os.environ["LAKECTL_SERVER_ENDPOINT_URL"] + API_PREFIX
    auth = (
        os.environ["LAKECTL_CREDENTIALS_ACCESS_KEY_ID"]
        + ":"
        + os.environ["LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"]
    )
    command = [*prefix, "run", str(swagger), "--url", base, "--auth", auth]
    command += ["--seed", "14", "--max-examples", "20", "--no-color"]
    for operation_id in operations:
        command += ["--include-operation-id", operation_id]
    os.execvp(command[0], command + extra)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
