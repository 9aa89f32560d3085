"""The tests' name for the package's local Airflow launcher (``airflow-pachyderm up`` uses
the same one)."""

from airflow_pachyderm.local.airflow import (
    COMPONENTS,
    HEALTH_KEYS,
    TOKEN_PATH,
    AirflowStack,
    ComponentError,
    _exit_status,
    json_from_output,
    readable_log_line,
    tail,
)

__all__ = [
    "COMPONENTS",
    "HEALTH_KEYS",
    "TOKEN_PATH",
    "AirflowStack",
    "ComponentError",
    "_exit_status",
    "json_from_output",
    "readable_log_line",
    "tail",
]
