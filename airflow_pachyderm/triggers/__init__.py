"""Triggers watching lakeFS (they run in Airflow's triggerer)."""

from airflow_pachyderm.triggers.commits import (
    LakeFSCommitEventTrigger,
    LakeFSCommitTrigger,
    LakeFSFileTrigger,
)

__all__ = ["LakeFSCommitEventTrigger", "LakeFSCommitTrigger", "LakeFSFileTrigger"]
