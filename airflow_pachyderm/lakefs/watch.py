"""Watching lakeFS branches for new commits, without blocking an event loop.

One poll is one cheap request (``GET .../branches/{branch}``, the head commit id); the commit
itself is read only when the head changed. Failures never end a watch: it backs off, logs
once per outage of an endpoint (not once per branch or per poll), and resumes.

This module knows lakeFS only; the Airflow triggers built on it live in
:mod:`airflow_pachyderm.triggers`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

from airflow_pachyderm.lakefs.client import LakeFSClient, LakeFSConfig
from airflow_pachyderm.lakefs.errors import LakeFSError, NotFoundError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_POLL_INTERVAL = 1.0
# Longest wait between two polls while lakeFS does not answer: the resume delay after an
# outage, against one request per branch per this many seconds during it.
MAX_BACKOFF = 10.0
# One poll must not hang a watch: a slow lakeFS counts as an unreachable one.
POLL_TIMEOUT = 10.0


@dataclass(frozen=True)
class CommitInfo:
    """A commit seen at the head of a branch: what a trigger reports."""

    repo: str
    branch: str
    commit: str
    committer: str = ""
    message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    creation_date: int = 0
    parents: tuple[str, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["parents"] = list(self.parents)
        return payload


class _Outages:
    """Which endpoints are failing, so that an outage is logged once, not per poll/branch."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}

    def failed(self, endpoint: str, where: str, error: Exception) -> None:
        if endpoint not in self._since:
            self._since[endpoint] = time.monotonic()
            log.warning(
                "lakeFS at %s is not answering (%s: %s); watches of its branches back off "
                "(up to %.0f s between polls) and resume when it is back",
                endpoint, where, error, MAX_BACKOFF,
            )

    def recovered(self, endpoint: str) -> None:
        since = self._since.pop(endpoint, None)
        if since is not None:
            log.warning("lakeFS at %s answers again after %.1f s", endpoint,
                        time.monotonic() - since)


OUTAGES = _Outages()


def _client(config: LakeFSConfig) -> LakeFSClient:
    # The watch does its own retrying (with backoff); one attempt per poll.
    return LakeFSClient(replace(config, retries=1, timeout=POLL_TIMEOUT))


async def poll(
    config: LakeFSConfig,
    probe: Callable[[LakeFSClient], T],
    where: str,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> AsyncIterator[T]:
    """Yield ``probe(client)`` after every successful call, every ``poll_interval`` seconds.

    Runs until cancelled; the probe runs in a worker thread. A probe raising NotFoundError
    (a repository or branch that does not exist yet) is waited for, logged once; any other
    failure backs off exponentially up to ``MAX_BACKOFF`` seconds (one log line per outage).
    """
    client = _client(config)
    endpoint = config.base_url
    delay = poll_interval
    missing_logged = False
    try:
        while True:
            try:
                value = await asyncio.to_thread(probe, client)
            except NotFoundError:
                OUTAGES.recovered(endpoint)
                if not missing_logged:
                    log.info("waiting for %s to exist", where)
                    missing_logged = True
                delay = max(poll_interval, 5.0)
            except (LakeFSError, OSError) as exc:
                OUTAGES.failed(endpoint, where, exc)
                delay = min(max(delay * 2, poll_interval), MAX_BACKOFF)
            else:
                OUTAGES.recovered(endpoint)
                missing_logged = False
                delay = poll_interval
                yield value
            await asyncio.sleep(delay)
    finally:
        client.close()


def watch_heads(
    config: LakeFSConfig,
    repo: str,
    branch: str,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> AsyncIterator[str]:
    """Yield the head commit id of ``repo@branch`` after every successful poll."""
    return poll(config, lambda client: client.get_branch(repo, branch), f"{repo}@{branch}",
                poll_interval=poll_interval)


async def read_commit(config: LakeFSConfig, repo: str, branch: str, commit_id: str) -> CommitInfo:
    """The details of one commit (one request, retried by the caller's next poll)."""
    client = _client(config)
    try:
        commit = await asyncio.to_thread(client.get_commit, repo, commit_id)
    finally:
        client.close()
    return CommitInfo(
        repo=repo,
        branch=branch,
        commit=commit.id,
        committer=commit.committer or "",
        message=commit.message or "",
        metadata=dict(commit.metadata or {}),
        creation_date=int(commit.creation_date or 0),
        parents=tuple(commit.parents or ()),
    )


def changed_under(client: LakeFSClient, repo: str, base: str, head: str, prefix: str) -> bool:
    """Whether anything under ``prefix`` differs between commits ``base`` and ``head``."""
    return next(iter(client.diff(repo, base, head, prefix=prefix)), None) is not None


def path_present(client: LakeFSClient, repo: str, ref: str, path: str) -> bool:
    """Whether ``path`` exists at ``ref`` (ending with ``/``: any object under it).

    A ref that does not exist (yet) has no paths.
    """
    try:
        if path.endswith("/"):
            return next(iter(client.list_objects(repo, ref, prefix=path)), None) is not None
        return client.exists(repo, ref, path)
    except NotFoundError:
        return False


async def changed_since(
    config: LakeFSConfig, repo: str, base: str, head: str, prefix: str
) -> bool:
    """:func:`changed_under`, without blocking the event loop."""
    client = _client(config)
    try:
        return await asyncio.to_thread(changed_under, client, repo, base, head, prefix)
    finally:
        client.close()
