"""Sensors for hand-written DAGs: wait for a new lakeFS commit, or for a path to exist.

Both are deferrable by default (the wait runs in the triggerer, with the same polling code
as the pipelines' asset watchers, and frees the worker slot); ``deferrable=False`` pokes
from the worker instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_pachyderm.compat import AirflowException
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.hook import LakeFSHook
from airflow_pachyderm.lakefs.watch import changed_under, path_present
from airflow_pachyderm.triggers.commits import LakeFSCommitTrigger, LakeFSFileTrigger


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class LakeFSCommitSensor(BaseSensorOperator):
    """
    Wait for a new commit on a lakeFS branch.

    The sensor compares the branch head with ``since`` (a commit id or any ref, resolved when
    the sensor starts); without ``since`` it waits for a commit made after it started. With
    ``prefix`` only a commit that changed something under that path prefix counts.

    :param repo: lakeFS repository (templated).
    :param branch: branch to watch (templated).
    :param since: ref whose commit does not count as new, e.g. the commit a previous run read
        (templated). Default: the head when the sensor starts.
    :param prefix: only changes under this path prefix count (templated).
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param deferrable: wait in the triggerer (default) instead of poking from a worker.
    :param poke_interval: seconds between two checks (both modes).
    :return: the new commit id (XCom); the commit's details are logged.
    :raises AirflowException: when lakeFS reports an error the sensor cannot wait out
        (e.g. the ``since`` ref does not exist), or the trigger reports a failure.
    :raises AirflowSensorTimeout: when ``timeout`` passes first.
    """

    template_fields: Sequence[str] = ("repo", "branch", "since", "prefix")
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        repo: str,
        branch: str = "main",
        since: str = "",
        prefix: str = "",
        lakefs_conn_id: str = LakeFSHook.default_conn_name,
        deferrable: bool = True,
        poke_interval: timedelta | float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.repo = repo
        self.branch = branch
        self.since = since
        self.prefix = prefix
        self.lakefs_conn_id = lakefs_conn_id
        self.deferrable = deferrable
        self._baseline: str | None = None
        if self.mode == "reschedule" and not since:
            raise ValueError(
                "LakeFSCommitSensor in reschedule mode needs `since`: the head seen at the "
                "first poke is not kept between reschedules"
            )

    def _resolve_baseline(self, client: LakeFSClient) -> str:
        if self._baseline is None:
            if self.since:
                self._baseline = client.resolve_ref(self.repo, self.since)
            elif client.branch_exists(self.repo, self.branch):
                self._baseline = client.get_branch(self.repo, self.branch)
            else:  # the branch does not exist yet: its first commit is new
                self._baseline = ""
        return self._baseline

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        baseline = self._resolve_baseline(LakeFSHook(self.lakefs_conn_id).get_conn())
        self.log.info("waiting for a commit on %s@%s other than %s%s", self.repo, self.branch,
                      baseline or "(none yet)",
                      f" changing {self.prefix!r}" if self.prefix else "")
        self.defer(
            trigger=LakeFSCommitTrigger(
                repo=self.repo,
                branch=self.branch,
                since=baseline,
                prefix=self.prefix,
                lakefs_conn_id=self.lakefs_conn_id,
                poll_interval=_seconds(self.poke_interval),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=_seconds(self.timeout)) if self.timeout else None,
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        if not event or event.get("status") != "success":
            raise AirflowException(f"lakeFS commit trigger failed: {event!r}")
        self.log.info("new commit %s on %s@%s by %s: %s", event["commit"], self.repo,
                      self.branch, event.get("committer", ""), event.get("message", ""))
        return str(event["commit"])

    def poke(self, context: Any) -> PokeReturnValue | bool:
        client = LakeFSHook(self.lakefs_conn_id).get_conn()
        baseline = self._resolve_baseline(client)
        if not client.branch_exists(self.repo, self.branch):
            return False
        head = client.get_branch(self.repo, self.branch)
        if head == baseline:
            return False
        if self.prefix and baseline and not changed_under(
            client, self.repo, baseline, head, self.prefix
        ):
            return False
        self.log.info("new commit %s on %s@%s", head, self.repo, self.branch)
        return PokeReturnValue(is_done=True, xcom_value=head)


class LakeFSFileSensor(BaseSensorOperator):
    """
    Wait until a path exists at a lakeFS ref.

    :param repo: lakeFS repository (templated).
    :param path: object path, or a prefix ending in ``/`` (any object under it) (templated).
    :param ref: branch, tag or commit id (templated). A ref that does not exist yet is
        waited for like a missing path.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param deferrable: wait in the triggerer (default) instead of poking from a worker.
    :param poke_interval: seconds between two checks (both modes).
    :raises AirflowException: when the trigger reports a failure.
    :raises AirflowSensorTimeout: when ``timeout`` passes first.
    """

    template_fields: Sequence[str] = ("repo", "path", "ref")
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        repo: str,
        path: str,
        ref: str = "main",
        lakefs_conn_id: str = LakeFSHook.default_conn_name,
        deferrable: bool = True,
        poke_interval: timedelta | float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.repo = repo
        self.path = path
        self.ref = ref
        self.lakefs_conn_id = lakefs_conn_id
        self.deferrable = deferrable

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # already there: no need to defer
            return None
        self.defer(
            trigger=LakeFSFileTrigger(
                repo=self.repo,
                ref=self.ref,
                path=self.path,
                lakefs_conn_id=self.lakefs_conn_id,
                poll_interval=_seconds(self.poke_interval),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=_seconds(self.timeout)) if self.timeout else None,
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        if not event or event.get("status") != "success":
            raise AirflowException(f"lakeFS file trigger failed: {event!r}")
        self.log.info("%s@%s/%s exists", self.repo, self.ref, self.path)

    def poke(self, context: Any) -> bool:
        client = LakeFSHook(self.lakefs_conn_id).get_conn()
        found = path_present(client, self.repo, self.ref, self.path)
        if not found:
            self.log.info("%s@%s/%s does not exist yet", self.repo, self.ref, self.path)
        return found
