"""The lakeFS triggers, run on an event loop against the embedded server (real HTTP).

What the triggerer adds around them (asset events, the state store) is covered by
``tests/airflow/test_triggering.py``; here: what a watcher reports and when, its outage
handling, and the one-shot triggers of the sensors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from airflow_pachyderm.jobs.provenance import KEY_JOB, KEY_OUTPUT_BRANCH
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess
from airflow_pachyderm.triggers import (
    LakeFSCommitEventTrigger,
    LakeFSCommitTrigger,
    LakeFSFileTrigger,
)
from airflow_pachyderm.triggers import commits as commits_module

POLL = 0.05
STEP_TIMEOUT = 10.0


@pytest.fixture
def conn_id(lakefs_server: LakeFSServerProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"lakefs_{secrets.token_hex(4)}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps({
        "conn_type": "lakefs", "host": lakefs_server.endpoint,
        "login": lakefs_server.access_key_id, "password": lakefs_server.secret_access_key,
    }))
    return name


@pytest.fixture
def client(lakefs_server: LakeFSServerProcess) -> Iterator[LakeFSClient]:
    c = LakeFSClient(LakeFSConfig(lakefs_server.endpoint, lakefs_server.access_key_id,
                                  lakefs_server.secret_access_key))
    yield c
    c.close()


@pytest.fixture
def repo(client: LakeFSClient) -> str:
    name = f"watched-{secrets.token_hex(4)}"
    client.create_repository(name)
    return name


def commit(client: LakeFSClient, repo: str, path: str, metadata: dict[str, str] | None = None,
           branch: str = "main") -> str:
    client.upload(repo, branch, path, path.encode())
    return client.commit(repo, branch, f"add {path}", metadata=metadata).id


class Watch:
    """A trigger's event stream driven step by step from a test."""

    def __init__(self, trigger: Any) -> None:
        self.stream: AsyncIterator[Any] = trigger.run()
        self._pending: asyncio.Task[Any] | None = None

    def _next_item(self) -> asyncio.Task[Any]:
        if self._pending is None:
            self._pending = asyncio.ensure_future(self.stream.__anext__())
        return self._pending

    async def next(self, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        pending = self._next_item()
        done, _ = await asyncio.wait({pending}, timeout=timeout)
        assert done, f"no event within {timeout} s"
        self._pending = None
        return pending.result().payload

    async def nothing(self, seconds: float = 0.5) -> None:
        pending = self._next_item()
        done, _ = await asyncio.wait({pending}, timeout=seconds)
        assert not done, f"unexpected event {pending.result()}"

    async def ended(self) -> bool:
        pending = self._next_item()
        await asyncio.wait({pending}, timeout=STEP_TIMEOUT)
        return isinstance(pending.exception(), StopAsyncIteration)

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await self._pending
        await self.stream.aclose()


def watcher(repo: str, conn_id: str, trigger_id: int = 1) -> LakeFSCommitEventTrigger:
    trigger = LakeFSCommitEventTrigger(repo=repo, branch="main", lakefs_conn_id=conn_id,
                                       poll_interval=POLL)
    trigger.trigger_id = trigger_id
    return trigger


def test_watcher_reports_each_new_commit_once(client: LakeFSClient, repo: str,
                                              conn_id: str) -> None:
    async def scenario() -> None:
        watch = Watch(watcher(repo, conn_id))
        await watch.nothing()  # a new repository's first commit is empty: nothing to run
        head = commit(client, repo, "first.csv")
        first = await watch.next()
        assert (first["repo"], first["branch"], first["commit"]) == (repo, "main", head)
        assert first["parents"] and first["message"] == "add first.csv"
        await watch.nothing()
        new = commit(client, repo, "a.csv")
        event = await watch.next()
        assert event["commit"] == new and event["message"] == "add a.csv"
        assert event["committer"] and event["creation_date"] > 0
        await watch.nothing()
        # A pipeline's output commit is announced by its own publish task.
        commit(client, repo, "out.csv", {KEY_JOB: "f" * 32, KEY_OUTPUT_BRANCH: "main"})
        await watch.nothing(1.0)
        # A burst between two polls: the newest head, once (one run reads them all).
        watch_burst = Watch(watcher(repo, conn_id))
        await watch.close()
        ids = [commit(client, repo, f"burst-{n}.csv") for n in range(3)]
        assert (await watch_burst.next())["commit"] == ids[-1]
        await watch_burst.nothing()
        await watch_burst.close()

    asyncio.run(scenario())


def test_restarted_watcher_resumes_and_a_new_one_catches_up(client: LakeFSClient, repo: str,
                                                             conn_id: str) -> None:
    commit(client, repo, "first.csv")

    async def scenario() -> None:
        watch = Watch(watcher(repo, conn_id, trigger_id=7))
        await watch.next()
        seen = commit(client, repo, "a.csv", {KEY_JOB: "f" * 32, KEY_OUTPUT_BRANCH: "main"})
        await watch.nothing(1.0)
        await watch.close()
        # The same trigger started again (triggerer restart): nothing is reported twice.
        again = Watch(watcher(repo, conn_id, trigger_id=7))
        await again.nothing(1.0)
        await again.close()
        # A watcher created anew (its DAG was unpaused) reports the head once, even a
        # pipeline's output commit: its publish event may have been dropped meanwhile.
        fresh = Watch(watcher(repo, conn_id, trigger_id=8))
        assert (await fresh.next())["commit"] == seen
        await fresh.nothing()
        await fresh.close()

    asyncio.run(scenario())


def test_watcher_waits_for_a_branch_that_does_not_exist_yet(client: LakeFSClient,
                                                            conn_id: str) -> None:
    name = f"later-{secrets.token_hex(4)}"

    async def scenario() -> None:
        watch = Watch(watcher(name, conn_id))
        await watch.nothing(0.5)
        client.create_repository(name)
        await watch.nothing(0.5)
        data = commit(client, name, "data.csv")
        assert (await watch.next())["commit"] == data
        await watch.close()

    asyncio.run(scenario())


def test_outage_is_logged_once_and_the_watch_resumes(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with LakeFSServerProcess(data_dir=tmp_path / "data") as server:
        monkeypatch.setenv("AIRFLOW_CONN_OUTAGE", json.dumps({
            "conn_type": "lakefs", "host": server.endpoint,
            "login": server.access_key_id, "password": server.secret_access_key,
        }))
        client = LakeFSClient(LakeFSConfig(server.endpoint, server.access_key_id,
                                           server.secret_access_key))
        client.create_repository("flaky")
        commit(client, "flaky", "first.csv")
        async def scenario() -> None:
            triggers = [LakeFSCommitEventTrigger("flaky", "main", "outage", POLL)
                        for _ in range(3)]
            for n, trigger in enumerate(triggers):
                trigger.trigger_id = 100 + n  # three watchers of one branch
            watches = [Watch(trigger) for trigger in triggers]
            for w in watches:
                await w.next()
            server.stop()
            await asyncio.gather(*(w.nothing(2.0) for w in watches))
            server.start()
            new = commit(client, "flaky", "after.csv")
            for w in watches:
                assert (await w.next(timeout=60))["commit"] == new
                await w.close()

        with caplog.at_level(logging.INFO, logger="airflow_pachyderm"):
            asyncio.run(scenario())
        client.close()
    outage = [r for r in caplog.records if "is not answering" in r.getMessage()]
    assert len(outage) == 1, [r.getMessage() for r in outage]
    assert outage[0].levelno == logging.WARNING and server.endpoint in outage[0].getMessage()
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_commit_trigger_fires_once_for_a_change_under_the_prefix(
    client: LakeFSClient, repo: str, conn_id: str
) -> None:
    base = client.resolve_ref(repo, "main")

    async def scenario() -> None:
        watch = Watch(LakeFSCommitTrigger(repo, "main", since=base, prefix="data/",
                                          lakefs_conn_id=conn_id, poll_interval=POLL))
        await watch.nothing(0.5)
        commit(client, repo, "other/x")
        await watch.nothing(0.5)
        wanted = commit(client, repo, "data/y")
        event = await watch.next()
        assert event["status"] == "success" and event["commit"] == wanted
        assert await watch.ended(), "a sensor's trigger fires once"

    asyncio.run(scenario())


def test_file_trigger_fires_when_the_path_exists(client: LakeFSClient, repo: str,
                                                 conn_id: str) -> None:
    async def scenario() -> None:
        exact = Watch(LakeFSFileTrigger(repo, "main", "ready/flag", conn_id, POLL))
        prefix = Watch(LakeFSFileTrigger(repo, "main", "ready/", conn_id, POLL))
        on_branch = Watch(LakeFSFileTrigger(repo, "not-yet", "ready/flag", conn_id, POLL))
        await exact.nothing(0.3)
        await prefix.nothing(0.3)
        client.upload(repo, "main", "ready/flag", b"")  # uncommitted: visible on the branch
        assert (await exact.next())["path"] == "ready/flag"
        assert (await prefix.next())["path"] == "ready/"
        await on_branch.nothing(0.3)
        client.commit(repo, "main", "flag")
        client.create_branch(repo, "not-yet", "main")
        assert (await on_branch.next())["ref"] == "not-yet"

    asyncio.run(scenario())


def test_trigger_serialization_round_trips() -> None:
    for trigger in (
        LakeFSCommitEventTrigger("r", "b", "c", 2.5),
        LakeFSCommitTrigger("r", "b", "since", "p/", "c", 3.0),
        LakeFSFileTrigger("r", "ref", "p", "c", 4.0),
    ):
        classpath, kwargs = trigger.serialize()
        module, _, name = classpath.rpartition(".")
        assert module == commits_module.__name__
        rebuilt = getattr(commits_module, name)(**kwargs)
        assert rebuilt.serialize() == (classpath, kwargs)
