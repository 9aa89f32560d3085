"""The provider's self-description: every module it names imports and holds what it says."""

from __future__ import annotations

import importlib

from airflow_pachyderm import get_provider_info


def test_declared_modules_import_and_config_has_defaults() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-pachyderm"
    for kind in ("hooks", "sensors", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    sensors = importlib.import_module("airflow_pachyderm.sensors.lakefs")
    assert {"LakeFSCommitSensor", "LakeFSFileSensor"} <= set(dir(sensors))
    option = info["config"]["pachyderm"]["options"]["commit_poll_interval"]
    assert float(option["default"]) == 1.0 and option["description"]
    (connection,) = info["connection-types"]
    hook_module, _, hook_class = connection["hook-class-name"].rpartition(".")
    assert hasattr(importlib.import_module(hook_module), hook_class)
