"""``airflow-pachyderm rerun``: run a pipeline again on chosen input commits.

With an Airflow deployment configured (``AIRFLOW_PACHYDERM_AIRFLOW_URL`` and credentials)
the pipeline's DAG is triggered there with the Params of its trigger form, so the run shows
in the UI, and the command waits and reports task progress; otherwise it runs locally,
in-process, exactly like ``airflow-pachyderm run --pipeline``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    add_specs,
    command,
    print_json,
)

FINISHED = {"success", "failed"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pipeline", help="pipeline name")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=REF",
                        help="read input NAME at REF (commit id or prefix, tag, main~1); "
                        "default: the branch head (repeatable)")
    parser.add_argument("--output-branch", help="write the output commit to this branch")
    parser.add_argument("--reprocess", default="changed",
                        help="changed (default), all, failed, or comma-separated datum ids")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds to wait for the Airflow run (default 3600)")
    parser.add_argument("--no-wait", action="store_true",
                        help="trigger the Airflow run and return at once")
    parser.add_argument("--local", action="store_true",
                        help="run in-process even when an Airflow deployment is configured")
    parser.add_argument(
        "--airflow-home",
        default=os.environ.get("AIRFLOW_PACHYDERM_RUN_HOME")
        or str(Path.home() / ".cache" / "airflow-pachyderm" / "airflow"),
        help="private Airflow home for local runs",
    )
    parser.add_argument("--lakefs-conn-id", default="lakefs_default")
    add_specs(parser)
    add_json(parser)


def find_spec(graph, name: str):
    for key, spec in graph.specs.items():
        if name in (key, spec.name):
            return spec
    raise CommandError(f"no pipeline named {name!r} (have: {', '.join(sorted(graph.specs))})")


def build_conf(spec, inputs: list[str], output_branch: str | None, reprocess: str
               ) -> dict[str, Any]:
    """The DAG run ``conf`` of the pipeline's trigger Params (one ``input_<key>`` per PFS
    input, ``output_branch``, ``reprocess``, ``datums``). Raises :class:`CommandError`."""
    from airflow_pachyderm.jobs.cli_run import parse_input_pins

    keys = [spec.input_key(p) for p in spec.pfs_inputs()]
    try:
        pins = parse_input_pins(inputs)
    except SystemExit as exc:
        raise CommandError(str(exc)) from None
    conf: dict[str, Any] = {}
    for name, ref in pins.items():
        if name not in keys:
            raise CommandError(f"--input {name}=...: pipeline {spec.name} has no input {name!r} "
                           f"(inputs: {', '.join(keys)})")
        conf[f"input_{name}"] = ref
    if output_branch:
        conf["output_branch"] = output_branch
    if reprocess in ("changed", "all", "failed"):
        conf["reprocess"] = reprocess
    else:
        ids = [part.strip() for part in reprocess.split(",") if part.strip()]
        if not ids:
            raise CommandError("--reprocess: changed, all, failed, or comma-separated datum ids")
        conf["reprocess"] = "datums"
        conf["datums"] = ",".join(ids)
    return conf


@command
def run(args: argparse.Namespace) -> int:
    from airflow_pachyderm.cli_data.airflow_api import AirflowAPI
    from airflow_pachyderm.cli_data.pipelines import load_graph

    spec = find_spec(load_graph(args.specs), args.pipeline)
    conf = build_conf(spec, args.input, args.output_branch, args.reprocess)
    api = None if args.local else AirflowAPI.from_env()
    if api is None:
        return _run_locally(args, spec)
    return _run_on_airflow(api, spec, conf, args)


def _run_locally(args: argparse.Namespace, spec) -> int:
    from airflow_pachyderm.jobs import cli_run

    print(f"no Airflow deployment configured (AIRFLOW_PACHYDERM_AIRFLOW_URL): running "
          f"{spec.name} locally", file=sys.stderr)
    local = argparse.Namespace(
        spec=args.specs, pipeline=[spec.name], input=args.input,
        output_branch=args.output_branch, reprocess=args.reprocess,
        lakefs_conn_id=args.lakefs_conn_id, airflow_home=args.airflow_home,
    )
    return cli_run.run(local)


def _run_on_airflow(api, spec, conf: dict[str, Any], args: argparse.Namespace) -> int:
    dag = api.dag(spec.dag_id)
    if dag.get("is_paused"):
        raise CommandError(f"DAG {spec.dag_id} is paused in {api.url}: unpause it, then rerun")
    dag_run = api.trigger(spec.dag_id, conf, note="rerun from airflow-pachyderm")
    run_id = dag_run["dag_run_id"]
    link = f"{api.url}/dags/{spec.dag_id}/runs/{run_id}"
    print(f"triggered {spec.dag_id} run {run_id}: {link}", file=sys.stderr)
    state = dag_run.get("state", "queued")
    if not args.no_wait:
        state = _wait(api, spec.dag_id, run_id, args.timeout)
    result = {"pipeline": spec.name, "dag_id": spec.dag_id, "run_id": run_id, "state": state,
              "conf": conf, "url": link, "output_commit": _output_commit(spec, conf, run_id)}
    if args.json:
        print_json(result)
    else:
        out = result["output_commit"]
        print(f"{spec.name}: run {run_id} {state}"
              + (f", output commit {spec.output_repo}@{out}" if out else ""))
    if state == "failed":
        return 1
    return 0


def _wait(api, dag_id: str, run_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen: dict[tuple[str, int], str] = {}
    while True:
        state = api.dag_run(dag_id, run_id).get("state") or "queued"
        for ti in api.task_instances(dag_id, run_id):
            key = (ti["task_id"], ti.get("map_index", -1))
            ti_state = ti.get("state") or "scheduled"
            if seen.get(key) != ti_state:
                seen[key] = ti_state
                index = f"[{key[1]}]" if key[1] >= 0 else ""
                print(f"  {key[0]}{index}: {ti_state}", file=sys.stderr)
        if state in FINISHED:
            return state
        if time.monotonic() > deadline:
            raise CommandError(f"{dag_id} run {run_id} is still {state} after {timeout:.0f}s "
                           "(it goes on in Airflow)")
        time.sleep(2)


def _output_commit(spec, conf: dict[str, Any], run_id: str) -> str | None:
    """The output commit this run wrote, when lakeFS is configured here too."""
    if not os.environ.get("LAKECTL_SERVER_ENDPOINT_URL"):
        return None
    from airflow_pachyderm.cli_data.common import make_client
    from airflow_pachyderm.lakefs.provenance import KEY_RUN_ID

    client = make_client()
    branch = conf.get("output_branch") or spec.output_branch
    for commit in client.log_commits(spec.output_repo, branch, amount=20):
        if (commit.metadata or {}).get(KEY_RUN_ID) == run_id:
            return commit.id
    return None
