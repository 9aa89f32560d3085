"""Sensors for hand-written DAGs that wait on lakeFS."""

from airflow_pachyderm.sensors.lakefs import LakeFSCommitSensor, LakeFSFileSensor

__all__ = ["LakeFSCommitSensor", "LakeFSFileSensor"]
