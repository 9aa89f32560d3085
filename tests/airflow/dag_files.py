"""The DAGs folder of the component tests: the ml demo's DAG file and one with a bad spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ML_DEMO = Path(__file__).resolve().parents[2] / "dags_examples" / "ml"
ML_DAG_IDS = ("model", "inference")

# A pipeline spec with one typo: "tranform" for "transform".
BROKEN_SPEC = """\
pipeline:
  name: broken
description: A spec with a typo, to check how Airflow reports it.
input:
  pfs:
    repo: training
    glob: "/*"
tranform:
  image: airflow-pachyderm/python:latest
  cmd: ["python3", "-c", "print('never runs')"]
"""
TYPO_KEY = "tranform"


# A hand-written DAG using the provider's sensors, deferred and poking.
SENSORS_DAG_ID = "lakefs_sensors"
SENSING_REPO = "sensing"
SENSORS_DAG = f"""\
# Airflow DAG waiting on lakeFS with the provider's sensors
from datetime import datetime

from airflow.sdk import DAG

from airflow_pachyderm.sensors import LakeFSCommitSensor, LakeFSFileSensor

with DAG("{SENSORS_DAG_ID}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    LakeFSCommitSensor(task_id="commit_deferred", repo="{SENSING_REPO}", branch="main",
                       poke_interval=1, timeout=300)
    LakeFSCommitSensor(task_id="commit_poke_data", repo="{SENSING_REPO}", branch="main",
                       prefix="data/", deferrable=False, poke_interval=1, timeout=300)
    LakeFSFileSensor(task_id="file_deferred", repo="{SENSING_REPO}", path="ready/flag",
                     poke_interval=1, timeout=300)
    LakeFSFileSensor(task_id="file_poke", repo="{SENSING_REPO}", path="ready/",
                     deferrable=False, poke_interval=1, timeout=300)
"""


@dataclass(frozen=True)
class DagFiles:
    valid: Path
    broken: Path
    broken_spec: Path
    sensors: Path

    @property
    def typo_line(self) -> int:
        """1-based line of the typo in the broken spec."""
        lines = self.broken_spec.read_text().splitlines()
        return next(n for n, line in enumerate(lines, 1) if line.startswith(f"{TYPO_KEY}:"))


def write_dag_files(dags_folder: Path, spec_dir: Path) -> DagFiles:
    """Two DAG files written as a user would; the bad spec lives outside the DAGs folder.

    Each file mentions "DAG" in a comment: Airflow's safe mode skips Python files that do
    not contain both "airflow" and "dag".
    """
    dags_folder.mkdir(parents=True, exist_ok=True)
    broken_spec = spec_dir / "broken.yaml"
    broken_spec.write_text(BROKEN_SPEC)
    valid = dags_folder / "ml_pipelines.py"
    valid.write_text(_dag_file("the ml demo", ML_DEMO / "pipelines.yaml"))
    broken = dags_folder / "broken_pipelines.py"
    broken.write_text(_dag_file("a spec with a typo", broken_spec))
    sensors = dags_folder / "lakefs_sensors.py"
    sensors.write_text(SENSORS_DAG)
    return DagFiles(valid=valid, broken=broken, broken_spec=broken_spec, sensors=sensors)


def write_pipelines_dag(dags_folder: Path, name: str, what: str, spec: Path) -> Path:
    """A DAG file ``<name>.py`` loading the pipelines of ``spec``."""
    dags_folder.mkdir(parents=True, exist_ok=True)
    path = dags_folder / f"{name}.py"
    path.write_text(_dag_file(what, spec))
    return path


def _dag_file(what: str, spec: Path) -> str:
    return (
        f"# Airflow DAGs of {what}, one per pipeline\n"
        "from airflow_pachyderm import load_pipelines\n"
        f"load_pipelines({str(spec)!r}, globals())\n"
    )
