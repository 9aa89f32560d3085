"""DAG-parse cost of spec-generated DAGs against the same DAGs written by hand in Python.

For 10 and 200 pipelines this writes spec files and a two-line DAG file, and a Python DAG
file with one explicit ``DAG(...)`` block per pipeline (same operators, schedules, params,
docs). Each file is imported the way Airflow's DagBag imports a DAG file, in a fresh
subprocess per run (Airflow and the operators already imported, as in the dag-processor);
the median of several runs is reported, one JSON object per line.

    python benchmarks/dag_parse.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = (10, 200)
TARGET_RATIO = 1.5

SPEC = """\
pipeline: {{name: {name}}}
description: generated pipeline {index}
input:
  cross:
    - pfs: {{repo: {upstream}, name: upstream, glob: "/*"}}
    - pfs: {{repo: params-{group}, name: params, glob: "/"}}
transform:
  image: python:3.12-slim
  cmd: ["python3", "/code/step.py", "/pfs/out"]
  env: {{STEP: "{index}"}}
parallelismSpec: {{constant: 2}}
datumTimeout: 10m
airflow: {{owner: bench, tags: [bench]}}
"""

FACTORY_DAG_FILE = """\
# Airflow DAGs: one per pipeline spec
from airflow_pachyderm import load_pipelines

load_pipelines("specs", globals())
"""

HANDWRITTEN_HEADER = """\
# Airflow DAGs written by hand: the same DAGs as the spec-generated ones
from datetime import datetime, timezone

from airflow.sdk import DAG, Asset, Param

from airflow_pachyderm.operators import (
    CommitOperator,
    PlanOperator,
    ProcessBatchOperator,
    PublishOperator,
)
"""

HANDWRITTEN_DAG = """
spec_{var} = {spec!r}
with DAG(
    dag_id={name!r},
    description={description!r},
    schedule=Asset(name={in1!r}, uri={in1!r}, group="lakefs")
    | Asset(name={in2!r}, uri={in2!r}, group="lakefs"),
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["bench", "pachyderm"],
    default_args={{"owner": "bench", "retries": 0}},
    params={{
        **{{name: Param("", type=["string", "null"], pattern=r"^(\\w[-\\w.]*([~^][0-9]*)*)?$",
                       description="ref") for name in {inputs!r}}},
        "output_branch": Param("main", type="string", pattern=r"^\\w[-\\w]*$",
                               description="output branch"),
        "reprocess": Param("changed", type="string",
                           enum=["changed", "all", "failed", "datums"], description="which datums"),
        "datums": Param("", type=["string", "null"], description="datum ids"),
    }},
    doc_md={doc!r},
) as dag_{var}:
    plan = PlanOperator(task_id="plan", pipeline_spec=spec_{var}, lakefs_conn_id="lakefs_default")
    process = ProcessBatchOperator.partial(
        task_id="process", pipeline_spec=spec_{var}, lakefs_conn_id="lakefs_default",
        max_active_tis_per_dagrun=2,
    ).expand(batch=plan.output)
    commit = CommitOperator(
        task_id="commit", pipeline_spec=spec_{var}, lakefs_conn_id="lakefs_default",
        trigger_rule="none_failed_min_one_success",
    )
    plan >> process >> commit
    plan >> commit
    PublishOperator(
        task_id="publish", pipeline_spec=spec_{var}, lakefs_conn_id="lakefs_default",
        commit=commit.output, outlets=[Asset(name={output!r}, uri={output!r}, group="lakefs")],
    )
"""

# Runs in the subprocess: import what the dag-processor has loaded, then time the import
# of the DAG file as DagBag does (a module executed from its path).
PROBE = """
import importlib.util, sys, time
import airflow.sdk
import airflow_pachyderm.operators
path = sys.argv[1]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("unusual_prefix_bench_dag", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
dags = [v for v in vars(module).values() if type(v).__name__ == "DAG"]
print(elapsed, len(dags), sum(len(d.tasks) for d in dags))
"""


def pipeline_names(count: int) -> list[str]:
    return [f"step-{index:03d}" for index in range(count)]


def write_specs(folder: Path, count: int) -> None:
    specs = folder / "specs"
    specs.mkdir(parents=True)
    names = pipeline_names(count)
    for index, name in enumerate(names):
        # Every tenth pipeline starts a chain from raw data; the others read the previous one.
        upstream = "raw-data" if index % 10 == 0 else names[index - 1]
        text = SPEC.format(name=name, index=index, upstream=upstream, group=index % 5)
        (specs / f"{name}.yaml").write_text(text)
    (folder / "factory_dags.py").write_text(FACTORY_DAG_FILE)


def write_handwritten(folder: Path) -> None:
    """Python with the exact DAGs of the specs, as a person would write them."""
    from airflow_pachyderm.dag_factory import doc_md
    from airflow_pachyderm.spec import load_specs

    parts = [HANDWRITTEN_HEADER]
    for spec in load_specs(folder / "specs"):
        first, second = spec.pfs_inputs()
        parts.append(
            HANDWRITTEN_DAG.format(
                var=spec.name.replace("-", "_"),
                spec=spec.to_dict(),
                name=spec.name,
                description=spec.description,
                in1=f"lakefs://{first.repo}/{first.branch}",
                in2=f"lakefs://{second.repo}/{second.branch}",
                inputs=[f"input_{pfs.name}" for pfs in spec.pfs_inputs()],
                doc=doc_md(spec),
                output=f"lakefs://{spec.output_repo}/{spec.output_branch}",
            )
        )
    (folder / "handwritten_dags.py").write_text("".join(parts))


def time_import(dag_file: Path, env: dict[str, str]) -> tuple[float, int, int]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"importing {dag_file} failed:\n{result.stderr}")
    seconds, dags, tasks = result.stdout.split()[-3:]
    return float(seconds), int(dags), int(tasks)


def measure(dag_file: Path, runs: int, env: dict[str, str]) -> tuple[float, int, int]:
    samples = [time_import(dag_file, env) for _ in range(runs)]
    _, dags, tasks = samples[0]
    return statistics.median(sample[0] for sample in samples), dags, tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dag-parse-") as workdir:
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(Path(workdir) / "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        os.environ.update({k: env[k] for k in ("AIRFLOW_HOME", "AIRFLOW__CORE__LOAD_EXAMPLES")})
        for count in SIZES:
            folder = Path(workdir) / f"n{count}"
            write_specs(folder, count)
            write_handwritten(folder)
            factory, dags, tasks = measure(folder / "factory_dags.py", args.runs, env)
            baseline, base_dags, base_tasks = measure(
                folder / "handwritten_dags.py", args.runs, env
            )
            if (dags, tasks) != (count, 4 * count) or (base_dags, base_tasks) != (dags, tasks):
                raise SystemExit(
                    f"expected {count} DAGs of 4 tasks; factory made {dags} DAGs/{tasks} tasks, "
                    f"hand-written {base_dags}/{base_tasks}"
                )
            print(
                json.dumps(
                    {
                        "benchmark": "dag_parse",
                        "metric": f"parse_{count}_pipelines",
                        "value": round(factory, 4),
                        "unit": "s",
                        "baseline": round(baseline, 4),
                        "ratio": round(factory / baseline, 3),
                        "target": f"ratio <= {TARGET_RATIO}",
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
