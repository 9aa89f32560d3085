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


@dataclass(frozen=True)
class DagFiles:
    valid: Path
    broken: Path
    broken_spec: Path

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
    return DagFiles(valid=valid, broken=broken, broken_spec=broken_spec)


def _dag_file(what: str, spec: Path) -> str:
    return (
        f"# Airflow DAGs of {what}, one per pipeline\n"
        "from airflow_pachyderm import load_pipelines\n"
        f"load_pipelines({str(spec)!r}, globals())\n"
    )
