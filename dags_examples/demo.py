"""The demo: train, persist and infer as two versioned pipelines, on the embedded server.

Run it with ``make demo`` (which sets up Docker, the images and the virtualenv first).
It starts the embedded lakeFS-compatible server, ingests the iris data and the model code,
and runs the pipelines of ``dags_examples/ml/pipelines.yaml`` through their Airflow DAGs
with ``airflow-pachyderm run``, showing along the way:

1. training then inference, with provenance from a prediction back to its data and code;
2. a new attributes file: only that datum is processed;
3. new training data: the model is retrained and every prediction is recomputed;
4. the new data turns out bad: the commit is reverted and everything is recomputed;
5. history recomputed: inference on the first attributes commit, into a side branch.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from airflow_pachyderm.datums import read_manifest
from airflow_pachyderm.datums.manifest import MANIFEST_PATH
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.lakefs.provenance import Provenance
from airflow_pachyderm.server.process import LakeFSServerProcess

HERE = Path(__file__).resolve().parent
ML = HERE / "ml"
SPEC = ML / "pipelines.yaml"
FEATURES = "sepal_length,sepal_width,petal_length,petal_width"
console = Console()


class Demo:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.server = LakeFSServerProcess(data_dir=workdir / "lakefs")
        self.lakefs: LakeFSClient | None = None
        self.runs = 0

    def start(self) -> LakeFSClient:
        self.server.start()
        self.lakefs = LakeFSClient(LakeFSConfig(
            self.server.endpoint, self.server.access_key_id, self.server.secret_access_key))
        console.print(f"embedded lakeFS-compatible server at [bold]{self.server.endpoint}[/]")
        return self.lakefs

    def run(self, *args: str) -> dict[str, str]:
        """``airflow-pachyderm run`` with this server; returns pipeline -> output commit."""
        self.runs += 1
        log = self.logs / f"run-{self.runs:02d}.log"
        env = {**os.environ, **self.server.env(),
               "AIRFLOW_PACHYDERM_RUN_HOME": str(self.workdir / "airflow")}
        started = time.monotonic()
        with log.open("w") as fh:
            result = subprocess.run(
                [sys.executable, "-m", "airflow_pachyderm", "run", str(SPEC), *args],
                env=env, stdout=subprocess.PIPE, stderr=fh, text=True,
            )
        if result.returncode != 0:
            console.print(f"[red]airflow-pachyderm run failed[/]; log: {log}")
            console.print(log.read_text()[-3000:])
            raise SystemExit(1)
        commits = {}
        for line in result.stdout.splitlines():
            name, ref, branch = line.split("\t")
            commits[name] = ref.split("@", 1)[1]
            console.print(f"  {name:<10} -> {ref[:len(name) + 13]}… on {branch}")
        console.print(f"  [dim]({time.monotonic() - started:.1f} s; Airflow log: {log})[/]")
        return commits

    def stop(self) -> None:
        self.server.stop()


def heading(text: str) -> None:
    console.rule(f"[bold cyan]{text}")


def attributes_csv(rows: list[str]) -> bytes:
    return ("\n".join([FEATURES, *(",".join(r.split(",")[:4]) for r in rows)]) + "\n").encode()


def datum_counts(lakefs: LakeFSClient, repo: str, commit: str) -> str:
    prov = Provenance.from_metadata(lakefs.get_commit(repo, commit).metadata)
    assert prov is not None
    d = prov.datums
    return f"{d['processed']} processed, {d['skipped']} skipped, {d['deleted']} deleted"


def show_lineage(lakefs: LakeFSClient, repo: str, ref: str, path: str) -> None:
    """Walk from one output file back to the exact data, model and code."""
    table = Table(title=f"lineage of {repo}/{path}", show_header=True)
    table.add_column("step")
    table.add_column("what")
    commit = lakefs.get_commit(repo, ref)
    manifest = read_manifest(io.BytesIO(lakefs.read_bytes(repo, commit.id, MANIFEST_PATH)))
    entry = manifest.datum_for_output(path)
    prov = Provenance.from_metadata(commit.metadata)
    assert prov is not None
    table.add_row("output commit", f"{repo}@{commit.id[:12]} (job {prov.job[:12]})")
    table.add_row("datum", entry.datum_id[:16])
    for item in entry.inputs:
        table.add_row(f"input {item.input_name}", f"{item.repo}@{item.commit[:12]}: /{item.path}")
    model = prov.input("model")
    model_prov = Provenance.from_metadata(lakefs.get_commit("model", model.commit).metadata)
    assert model_prov is not None
    for item in model_prov.inputs:
        table.add_row(f"model's input {item.name}", f"{item.repo}@{item.commit[:12]}")
    table.add_row("image", f"{prov.image} ({prov.image_id[:19]})")
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(HERE.parent / "demo-data"),
                        help="where the server's data, Airflow's home and logs go")
    parser.add_argument("--keep", action="store_true", help="keep data from a previous demo")
    args = parser.parse_args()
    workdir = Path(args.workdir).resolve()
    if workdir.exists() and not args.keep:
        shutil.rmtree(workdir)
    demo = Demo(workdir)
    lakefs = demo.start()
    try:
        rows = (ML / "data" / "iris.csv").read_text().splitlines()
        header, data = rows[0], rows[1:]
        # Hold back every fifth row: later it arrives as "new training data".
        first_training = [r for i, r in enumerate(data) if i % 5]
        extra_training = [r for i, r in enumerate(data) if not i % 5]

        heading("1. ingest data and code, train, infer")
        for repo in ("training", "attributes", "code"):
            lakefs.create_repository(repo, exist_ok=True)
        lakefs.upload("training", "main", "iris.csv",
                      ("\n".join([header, *first_training]) + "\n").encode())
        lakefs.commit("training", "main", "iris measurements", metadata={"source": "iris.csv"})
        for name in ("train.py", "infer.py"):
            lakefs.upload("code", "main", name, ML / "code" / name)
        lakefs.commit("code", "main", "training and inference code")
        for i in range(3):
            lakefs.upload("attributes", "main", f"batch-{i:02d}.csv",
                          attributes_csv(data[i * 40:i * 40 + 8]))
        first_attributes = lakefs.commit("attributes", "main", "three batches to classify").id
        first = demo.run()
        console.print(f"  model: {datum_counts(lakefs, 'model', first['model'])}; "
                      f"inference: {datum_counts(lakefs, 'inference', first['inference'])}")
        console.print(lakefs.read_bytes("inference", "main", "batch-00.csv").decode()[:400])
        show_lineage(lakefs, "inference", "main", "batch-01.csv")
        first_model = lakefs.stat("model", "main", "model.pkl").checksum

        heading("2. a new attributes file: only its datum is processed")
        lakefs.upload("attributes", "main", "batch-03.csv", attributes_csv(data[130:140]))
        lakefs.commit("attributes", "main", "one more batch")
        second = demo.run("--pipeline", "inference")
        console.print(f"  inference: {datum_counts(lakefs, 'inference', second['inference'])}")

        heading("3. new training data: retrain, and every prediction is recomputed")
        lakefs.upload("training", "main", "more-iris.csv",
                      ("\n".join([header, *extra_training]) + "\n").encode())
        new_data = lakefs.commit("training", "main", "more measurements").id
        third = demo.run()
        console.print(f"  model: {datum_counts(lakefs, 'model', third['model'])}; "
                      f"inference: {datum_counts(lakefs, 'inference', third['inference'])}")
        console.print("  metrics: " + lakefs.read_bytes("model", "main", "metrics.json")
                      .decode().replace("\n", " "))

        heading("4. the new data was bad: revert it in lakeFS, recompute downstream")
        lakefs.revert("training", "main", new_data, message="revert: bad measurements")
        fourth = demo.run()
        reverted_model = lakefs.stat("model", "main", "model.pkl").checksum
        console.print(f"  model: {datum_counts(lakefs, 'model', fourth['model'])}; "
                      f"inference: {datum_counts(lakefs, 'inference', fourth['inference'])}")
        same = "identical to" if reverted_model == first_model else "different from"
        console.print(f"  model.pkl after the revert is [bold]{same}[/] the first model")

        heading("5. recompute history: first attributes commit, current model, side branch")
        demo.run("--pipeline", "inference", "--input", f"attributes={first_attributes}",
                 "--output-branch", "replay-first-batch")
        replay = sorted(o.path for o in lakefs.list_objects("inference", "replay-first-batch")
                        if not o.path.startswith("_pachyderm/"))
        console.print(f"  replay-first-batch holds {replay}; main is untouched")
        console.rule("[bold green]demo finished")
        console.print(f"data, Airflow home and logs: {workdir}")
        console.print(
            "To browse these pipelines and their commits in the Airflow UI, run "
            f"[bold].venv/bin/airflow-pachyderm up --lakefs-data {workdir / 'lakefs'}[/] "
            "(it prints the address and a login; Ctrl-C stops it)."
        )
        return 0
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
