"""Airflow names whose import location differs across the supported versions (3.1 to 3.3).

Airflow 3.2 moved the timetables and the task exceptions into ``airflow.sdk``; on 3.1 they
live in ``airflow.timetables`` and ``airflow.exceptions`` (and ``airflow.sdk.exceptions``
lacks them). Everything else this package uses is in ``airflow.sdk`` on every supported
version. Import the names below from here, never from their version-specific home.
"""

from __future__ import annotations

from typing import Any

try:  # Airflow >= 3.2
    from airflow.sdk import (
        AssetOrTimeSchedule,
        CronTriggerTimetable,
        DeltaTriggerTimetable,
        MultipleCronTriggerTimetable,
    )
except ImportError:  # Airflow 3.1
    from airflow.timetables.assets import AssetOrTimeSchedule
    from airflow.timetables.trigger import (
        CronTriggerTimetable,
        DeltaTriggerTimetable,
        MultipleCronTriggerTimetable,
    )

try:  # Airflow >= 3.2
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
        ParamValidationError,
    )
except ImportError:  # Airflow 3.1: the task runner catches these very classes
    from airflow.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
        ParamValidationError,
    )


def dag_bag(dag_folder: str) -> Any:
    """Parse the DAG files under ``dag_folder`` into a ``DagBag``.

    Imported on call: the DagBag module pulls in most of Airflow core, which DAG files that
    only import this module must not pay for.
    """
    try:  # Airflow >= 3.2
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=dag_folder)


__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSkipException",
    "AssetOrTimeSchedule",
    "CronTriggerTimetable",
    "DeltaTriggerTimetable",
    "MultipleCronTriggerTimetable",
    "ParamValidationError",
    "dag_bag",
]
