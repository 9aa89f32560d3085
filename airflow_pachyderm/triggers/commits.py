"""Triggers that watch lakeFS: new commits on a branch, and paths appearing at a ref.

- :class:`LakeFSCommitEventTrigger` is an event trigger for ``AssetWatcher``: the DAG factory
  attaches it to every input asset ``lakefs://<repo>/<branch>``, so a new head commit
  creates an asset event (and so a DAG run) in the triggerer, with the commit as payload.
- :class:`LakeFSCommitTrigger` and :class:`LakeFSFileTrigger` fire once, for the deferrable
  sensors of :mod:`airflow_pachyderm.sensors`.

All of them poll with one cheap request per interval (see :mod:`airflow_pachyderm.lakefs.watch`)
and never block the triggerer's event loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Hashable
from typing import Any

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from airflow_pachyderm.jobs.provenance import KEY_JOB, KEY_OUTPUT_BRANCH
from airflow_pachyderm.lakefs.watch import (
    DEFAULT_POLL_INTERVAL,
    CommitInfo,
    changed_since,
    path_present,
    poll,
    read_commit,
    watch_heads,
)

log = logging.getLogger(__name__)

# Asset state store key (Airflow >= 3.3): the last head reported for the watched branch, and
# by which trigger (a watcher re-created, e.g. after its DAG was paused and unpaused, reports
# the current head again: Airflow drops the events of paused DAGs).
STATE_KEY = "airflow_pachyderm.reported"
# Triggerer-process memory of the same, for Airflow versions without the asset state store
# (then a triggerer restart may report the current head once more; jobs whose inputs did not
# change since the last output commit are skipped by the plan task, so nothing is recomputed).
_REPORTED: dict[tuple[str, str, str], dict[str, Any]] = {}


class _Serialized:
    """``serialize()`` from the constructor arguments named in ``_fields``."""

    _fields: tuple[str, ...] = ()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {name: getattr(self, name) for name in self._fields},
        )


def announced_by_pipeline(info: CommitInfo) -> bool:
    """A pipeline's own output commit: its commit task already emitted the asset event."""
    return bool(info.metadata.get(KEY_JOB)) and info.metadata.get(KEY_OUTPUT_BRANCH) == info.branch


class LakeFSCommitEventTrigger(_Serialized, BaseEventTrigger):
    """
    Fire once for every new head commit of a lakeFS branch (for ``AssetWatcher``).

    The payload is the commit: ``repo``, ``branch``, ``commit`` (64-hex id), ``committer``,
    ``message``, ``metadata``, ``creation_date``. A commit is reported once, also across
    triggerer restarts (Airflow's asset state store, 3.3+). Commits arriving faster than the
    poll interval are reported as the newest head only: one run reads them all. Output commits
    made by a pipeline job are not reported here (the job's publish task announces them).
    When the watcher starts anew (first deployment, or its DAG unpaused: Airflow drops the
    events of paused DAGs) it reports the current head once; the plan task skips a job whose
    inputs did not change since the last output commit.

    :param repo: lakeFS repository.
    :param branch: branch to watch.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param poll_interval: seconds between two polls of the branch head.
    """

    _fields = ("repo", "branch", "lakefs_conn_id", "poll_interval")

    def __init__(
        self,
        repo: str,
        branch: str,
        lakefs_conn_id: str = "lakefs_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__()
        self.repo = repo
        self.branch = branch
        self.lakefs_conn_id = lakefs_conn_id
        self.poll_interval = float(poll_interval)


    # -- one poll loop per watched branch (Airflow >= 3.3 shares it between triggers) ------

    def shared_stream_key(self) -> Hashable | None:
        return ("airflow-pachyderm-branch", self.lakefs_conn_id, self.repo, self.branch)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        from airflow_pachyderm.lakefs.hook import LakeFSHook

        config = await LakeFSHook.aconfig(kwargs["lakefs_conn_id"])
        async for head in watch_heads(
            config, kwargs["repo"], kwargs["branch"],
            poll_interval=float(kwargs.get("poll_interval", DEFAULT_POLL_INTERVAL)),
        ):
            yield head

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        async for event in self._new_commits(shared_stream):
            yield event

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in self._new_commits(self.open_shared_stream(self.serialize()[1])):
            yield event

    # -- what was reported ------------------------------------------------------------------

    @property
    def _memory_key(self) -> tuple[str, str, str]:
        return (self.lakefs_conn_id, self.repo, self.branch)

    async def _reported(self) -> str | None:
        """The commit this watcher already reported; None when it should report the head."""
        record: Any = None
        store = getattr(self, "asset_state_store", None)
        if store is not None:
            try:
                record = await store.aget(STATE_KEY)
            except Exception as exc:  # the store is an optimisation of dedup, never fatal
                log.warning("asset state store unavailable (%s); using triggerer memory", exc)
        if not isinstance(record, dict):
            record = _REPORTED.get(self._memory_key)
        if not isinstance(record, dict) or record.get("trigger") != self.trigger_id:
            return None
        commit = record.get("commit")
        return commit if isinstance(commit, str) else None

    async def _remember(self, commit: str) -> None:
        record = {"commit": commit, "trigger": self.trigger_id}
        _REPORTED[self._memory_key] = record
        store = getattr(self, "asset_state_store", None)
        if store is not None:
            try:
                await store.aset(STATE_KEY, record)
            except Exception as exc:
                log.warning("could not record %s@%s in the asset state store: %s",
                            self.repo, commit, exc)

    async def _new_commits(self, heads: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        from airflow_pachyderm.lakefs.hook import LakeFSHook

        config = await LakeFSHook.aconfig(self.lakefs_conn_id)
        reported = await self._reported()
        # A watcher starting anew reports the head whoever made it: events of a pipeline's
        # publish task may have been dropped while a consumer was paused.
        catching_up = reported is None
        async for head in heads:
            if head == reported:
                continue
            try:
                info = await read_commit(config, self.repo, self.branch, head)
            except Exception as exc:  # the next poll tries again
                log.info("could not read commit %s of %s@%s: %s", head, self.repo,
                         self.branch, exc)
                continue
            # Remembered before it is reported: should the triggerer start this trigger
            # again after the event, the same commit is not reported twice.
            await self._remember(head)
            reported = head
            first, catching_up = catching_up, False
            if not info.parents:
                log.info("%s@%s: %s is the repository's first, empty commit", self.repo,
                         self.branch, head)
                continue
            if announced_by_pipeline(info) and not first:
                log.info("%s@%s: %s is a pipeline output commit, announced by its job",
                         self.repo, self.branch, head)
                continue
            log.info("%s@%s: new commit %s by %s", self.repo, self.branch, head, info.committer)
            yield TriggerEvent(info.to_payload())


class LakeFSCommitTrigger(_Serialized, BaseTrigger):
    """
    Fire once when ``branch`` has a head commit other than ``since`` (optionally: one that
    changed something under ``prefix``). Used by
    :class:`~airflow_pachyderm.sensors.LakeFSCommitSensor`.

    :param repo: lakeFS repository.
    :param branch: branch to watch.
    :param since: commit id the branch is compared with ("" = any head commit fires).
    :param prefix: only a commit that changed a path under this prefix fires.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param poll_interval: seconds between two polls.
    """

    _fields = ("repo", "branch", "since", "prefix", "lakefs_conn_id", "poll_interval")

    def __init__(
        self,
        repo: str,
        branch: str,
        since: str = "",
        prefix: str = "",
        lakefs_conn_id: str = "lakefs_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__()
        self.repo = repo
        self.branch = branch
        self.since = since
        self.prefix = prefix
        self.lakefs_conn_id = lakefs_conn_id
        self.poll_interval = float(poll_interval)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_pachyderm.lakefs.hook import LakeFSHook

        config = await LakeFSHook.aconfig(self.lakefs_conn_id)
        checked = self.since
        async for head in watch_heads(config, self.repo, self.branch,
                                      poll_interval=self.poll_interval):
            if head == checked:
                continue
            try:
                if self.prefix and self.since and not await changed_since(
                    config, self.repo, self.since, head, self.prefix
                ):
                    checked = head  # nothing under the prefix yet: wait for the next head
                    continue
                info = await read_commit(config, self.repo, self.branch, head)
            except Exception as exc:
                log.info("could not check %s@%s: %s", self.repo, head, exc)
                continue
            yield TriggerEvent({"status": "success", **info.to_payload()})
            return


class LakeFSFileTrigger(_Serialized, BaseTrigger):
    """
    Fire once when ``path`` exists at ``ref`` (a path ending in ``/``: any object under it).
    Used by :class:`~airflow_pachyderm.sensors.LakeFSFileSensor`.

    :param repo: lakeFS repository.
    :param ref: branch, tag or commit.
    :param path: object path, or a prefix ending in ``/``.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param poll_interval: seconds between two polls.
    """

    _fields = ("repo", "ref", "path", "lakefs_conn_id", "poll_interval")

    def __init__(
        self,
        repo: str,
        ref: str,
        path: str,
        lakefs_conn_id: str = "lakefs_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__()
        self.repo = repo
        self.ref = ref
        self.path = path
        self.lakefs_conn_id = lakefs_conn_id
        self.poll_interval = float(poll_interval)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_pachyderm.lakefs.hook import LakeFSHook

        config = await LakeFSHook.aconfig(self.lakefs_conn_id)
        async for found in poll(
            config, lambda client: path_present(client, self.repo, self.ref, self.path),
            f"{self.repo}@{self.ref}", poll_interval=self.poll_interval,
        ):
            if found:
                yield TriggerEvent(
                    {"status": "success", "repo": self.repo, "ref": self.ref, "path": self.path}
                )
                return
