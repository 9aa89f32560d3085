"""Exceptions for lakeFS failures, named after what went wrong and where.

:class:`LakeFSError`, their base, is part of the provider's error tree
(:mod:`airflow_pachyderm.errors`).
"""

from __future__ import annotations

import json

from airflow_pachyderm.errors import LakeFSError


class BadRequestError(LakeFSError):
    retryable = False
    status = 400


class UnauthorizedError(LakeFSError):
    retryable = False
    status = 401


class ForbiddenError(LakeFSError):
    retryable = False
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
    """lakeFS could not be reached (refused, reset, timed out).

    :param never_sent: the request provably never left this machine (connection refused),
        so even a call that creates something may be sent again.
    """

    def __init__(
        self, message: str, *, status: int | None = None, where: str = "",
        never_sent: bool = False,
    ) -> None:
        super().__init__(message, status=status, where=where)
        self.never_sent = never_sent


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
