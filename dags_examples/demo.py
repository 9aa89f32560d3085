"""The demo: train, persist and infer as two versioned pipelines, on the embedded server.

Run it with ``make demo`` (which sets up Docker, the images and the virtualenv first).
It starts the embedded lakeFS-compatible server, ingests the iris data and the model code
with ``airflow-pachyderm put``, and runs the pipelines of ``dags_examples/ml/pipelines.yaml``
through their Airflow DAGs with ``airflow-pachyderm run``; every step is a command a data
scientist types (printed with its real output):

1. training then inference, and the ``lineage`` of a prediction back to its data and code;
2. a new attributes file: only that datum is processed;
3. new training data (``wait`` watches the pipelines land): the model is retrained and
   every prediction is recomputed;
4. the new data turns out bad: ``revert`` (naming the pipelines that recompute), ``diff``;
5. history recomputed: ``rerun`` inference on the first attributes commit, into a side branch.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from airflow_pachyderm.jobs.provenance import Provenance
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # commands run from the repository's root, with paths relative to it
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
        env = self.env()
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

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.server.env(),
                "AIRFLOW_PACHYDERM_RUN_HOME": str(self.workdir / "airflow")}

    def cli(self, *args: str, show: bool = True) -> str:
        """Run ``airflow-pachyderm ARGS`` as a user would, print the command and its output."""
        console.print(f"[bold]$ airflow-pachyderm {shlex.join(args)}[/]", markup=True,
                      soft_wrap=True)
        result = subprocess.run([sys.executable, "-m", "airflow_pachyderm", *args],
                                env=self.env(), capture_output=True, text=True, cwd=ROOT)
        if result.returncode != 0:
            console.print(f"[red]failed:[/] {result.stderr[-3000:]}")
            raise SystemExit(1)
        if show:
            console.print(result.stdout.rstrip(), markup=False, highlight=False, soft_wrap=True)
        return result.stdout

    def stop(self) -> None:
        self.server.stop()


def rel(path: Path) -> str:
    """``path`` as typed from the repository's root (absolute when outside it)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def heading(text: str) -> None:
    console.rule(f"[bold cyan]{text}")


def attributes_csv(rows: list[str]) -> bytes:
    return ("\n".join([FEATURES, *(",".join(r.split(",")[:4]) for r in rows)]) + "\n").encode()


def datum_counts(lakefs: LakeFSClient, repo: str, commit: str) -> str:
    prov = Provenance.from_metadata(lakefs.get_commit(repo, commit).metadata)
    assert prov is not None
    d = prov.datums
    return f"{d['processed']} processed, {d['skipped']} skipped, {d['deleted']} deleted"


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
        inbox = workdir / "inbox"
        (inbox / "attributes").mkdir(parents=True, exist_ok=True)
        (inbox / "iris.csv").write_text("\n".join([header, *first_training]) + "\n")
        for i in range(3):
            (inbox / "attributes" / f"batch-{i:02d}.csv").write_bytes(
                attributes_csv(data[i * 40:i * 40 + 8]))
        for repo in ("training", "attributes", "code"):
            demo.cli("repo", "create", repo)
        demo.cli("put", rel(inbox / "iris.csv"), "training@main:", "-m", "iris measurements")
        demo.cli("put", "-r", rel(ML / "code"), "code@main:", "-m", "training and inference code")
        demo.cli("put", "-r", rel(inbox / "attributes"), "attributes@main:", "-m",
                 "three batches to classify")
        first_attributes = lakefs.resolve_ref("attributes", "main")
        first = demo.run()
        console.print(f"  model: {datum_counts(lakefs, 'model', first['model'])}; "
                      f"inference: {datum_counts(lakefs, 'inference', first['inference'])}")
        demo.cli("get", "inference@main:batch-00.csv", "-o", "-")
        demo.cli("log", "model@main", "-n", "1")
        demo.cli("lineage", "inference@main:batch-01.csv")
        first_model = lakefs.stat("model", "main", "model.pkl").checksum

        heading("2. a new attributes file: only its datum is processed")
        (inbox / "batch-03.csv").write_bytes(attributes_csv(data[130:140]))
        demo.cli("put", rel(inbox / "batch-03.csv"), "attributes@main:", "-m", "one more batch")
        second = demo.run("--pipeline", "inference")
        console.print(f"  inference: {datum_counts(lakefs, 'inference', second['inference'])}")

        heading("3. new training data: retrain, and every prediction is recomputed")
        (inbox / "more-iris.csv").write_text("\n".join([header, *extra_training]) + "\n")
        demo.cli("put", rel(inbox / "more-iris.csv"), "training@main:", "-m",
                 "more measurements")
        new_data = lakefs.resolve_ref("training", "main")
        # `wait` watches for the outputs of that commit while the pipelines run.
        watcher = subprocess.Popen(
            [sys.executable, "-m", "airflow_pachyderm", "wait", f"training@{new_data}",
             "--specs", rel(ML)], env=demo.env(), stdout=subprocess.PIPE, text=True, cwd=ROOT)
        third = demo.run()
        console.print(f"[bold]$ airflow-pachyderm wait training@{new_data[:12]} "
                      f"--specs {rel(ML)}[/]", soft_wrap=True)
        console.print(watcher.communicate(timeout=300)[0].rstrip(), markup=False,
                      highlight=False, soft_wrap=True)
        console.print(f"  model: {datum_counts(lakefs, 'model', third['model'])}; "
                      f"inference: {datum_counts(lakefs, 'inference', third['inference'])}")

        heading("4. the new data was bad: revert it in lakeFS, recompute downstream")
        demo.cli("revert", "training@main", new_data[:12], "-m", "revert: bad measurements",
                 "--specs", rel(ML))
        fourth = demo.run()
        reverted_model = lakefs.stat("model", "main", "model.pkl").checksum
        console.print(f"  model: {datum_counts(lakefs, 'model', fourth['model'])}; "
                      f"inference: {datum_counts(lakefs, 'inference', fourth['inference'])}")
        same = "identical to" if reverted_model == first_model else "different from"
        console.print(f"  model.pkl after the revert is [bold]{same}[/] the first model")
        demo.cli("diff", f"model@{third['model'][:12]}", fourth["model"][:12], ":metrics.json")

        heading("5. recompute history: first attributes commit, current model, side branch")
        demo.cli("rerun", "inference", "--specs", rel(ML), "--input",
                 f"attributes={first_attributes[:12]}", "--output-branch", "replay-first-batch")
        demo.cli("ls", "inference@replay-first-batch")
        console.print("  main is untouched")
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
