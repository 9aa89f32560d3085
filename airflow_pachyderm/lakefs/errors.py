"""Exceptions for lakeFS failures, named after what went wrong and where."""

from __future__ import annotations

import json


class LakeFSError(Exception):
    """A lakeFS call failed. ``status`` is the HTTP status (0 when none was received)."""

    status: int = 0

    def __init__(self, message: str, *, status: int | None = None, where: str = "") -> None:
        self.where = where
        self.server_message = message
        if status is not None:
            self.status = status
        text = f"{where}: {message}" if where else message
        if self.status:
            text += f" (HTTP {self.status})"
        super().__init__(text)


class BadRequestError(LakeFSError):
    status = 400


class UnauthorizedError(LakeFSError):
    status = 401


class ForbiddenError(LakeFSError):
    status = 403


class NotFoundError(LakeFSError):
    status = 404


class ConflictError(LakeFSError):
    status = 409


class PreconditionFailedError(LakeFSError):
    status = 412


class ServerError(LakeFSError):
    """lakeFS answered with a 5xx status."""


class LakeFSConnectionError(LakeFSError):
    """lakeFS could not be reached (refused, reset, timed out)."""


_BY_STATUS: dict[int, type[LakeFSError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
}


def server_message(body: bytes | str | None) -> str:
    """The ``message`` of a lakeFS error body, or the body itself."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(parsed, dict) and "message" in parsed:
        return str(parsed["message"])
    return text.strip()


def error_for_status(status: int, body: bytes | str | None, where: str) -> LakeFSError:
    """Build the exception matching an HTTP status and a lakeFS error body."""
    message = server_message(body) or f"HTTP {status}"
    if status >= 500:
        return ServerError(message, status=status, where=where)
    cls = _BY_STATUS.get(status, LakeFSError)
    return cls(message, status=status, where=where)
