"""Validation of repository, branch and tag names and of object paths (lakeFS rules)."""

from __future__ import annotations

from airflow_pachyderm.lakefs.names import BRANCH_NAME, REPOSITORY_NAME, TAG_NAME
from airflow_pachyderm.server.errors import BadRequest

MAX_PATH_BYTES = 4096


def check_repository_name(name: str) -> str:
    if not REPOSITORY_NAME.fullmatch(name):
        raise BadRequest(
            f"repository name {name!r} is invalid: use 3-63 characters of a-z, 0-9 and '-', "
            "starting with a letter or a digit"
        )
    return name


def check_branch_name(name: str) -> str:
    if not BRANCH_NAME.fullmatch(name):
        raise BadRequest(
            f"branch name {name!r} is invalid: use letters, digits, '_' and '-', "
            "starting with a letter, digit or '_'"
        )
    return name


def check_tag_name(name: str) -> str:
    if not TAG_NAME.fullmatch(name):
        raise BadRequest(
            f"tag name {name!r} is invalid: use letters, digits, '_', '-' and '.', "
            "starting with a letter, digit or '_'"
        )
    return name


def check_object_path(path: str, field: str = "path") -> str:
    """Object paths are opaque keys (never file names), but must be non-empty, NUL-free text."""
    if not path:
        raise BadRequest(f"{field} must not be empty")
    if "\x00" in path:
        raise BadRequest(f"{field} {path!r} contains a NUL character")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise BadRequest(f"{field} is longer than {MAX_PATH_BYTES} bytes")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"{field} {path!r} is not valid UTF-8") from exc
    return path
