"""Errors raised by the server's storage layer, mapped to lakeFS's HTTP status codes.

lakeFS answers every failure with ``{"message": ...}`` and a status code chosen by the kind
of error (see its controller's error mapping); each class here is one of those kinds.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base class: an error the API reports to the client with ``status``."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PreconditionFailed(ApiError):
    status = 412


class RangeNotSatisfiable(ApiError):
    status = 416

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class DataCorrupt(ApiError):
    """Stored object data no longer matches its checksum; it is never served."""

    status = 500


class InsufficientStorage(ApiError):
    """The data directory's file system is full (WebDAV's 507; lakeFS itself has no code
    for it and would answer 500)."""

    status = 507


class NoChanges(BadRequest):
    """A commit or merge that would not change anything (lakeFS: ``ErrNoChanges``)."""

    def __init__(self, what: str = "commit") -> None:
        super().__init__(f"{what}: no changes")


class DirtyBranch(BadRequest):
    """The branch has uncommitted changes (lakeFS: ``ErrDirtyBranch``, 400).

    The message is lakeFS's own: clients (the ``lakefs`` wrapper's transactions) match on it.
    """

    def __init__(self, branch: str) -> None:
        super().__init__("uncommitted changes (dirty branch)")
        self.branch = branch


class MergeConflict(Conflict):
    """A three-way merge (or revert) found paths changed differently on both sides."""

    def __init__(self, paths: list[str]) -> None:
        shown = ", ".join(paths[:20])
        more = f" (and {len(paths) - 20} more)" if len(paths) > 20 else ""
        super().__init__(f"conflict found: {len(paths)} conflicting path(s): {shown}{more}")
        self.paths = paths
