"""``airflow-pachyderm datums``: the datums a job would see, without running anything.

Like ``pachctl list datum``: each datum's id, its files per input, and whether the next
job would process, skip or delete it. Users debug their glob patterns with it.
"""

from __future__ import annotations

import argparse
import json
import sys

from airflow_pachyderm.jobs.cli_io import results_stdout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="pipeline spec file or directory")
    parser.add_argument("--pipeline", help="pipeline name (needed when the spec has several)")
    parser.add_argument(
        "--input", action="append", default=[], metavar="NAME=REF",
        help="read input NAME at REF instead of its branch head (repeatable)",
    )
    parser.add_argument("--output-branch", help="compare with this output branch's manifest")
    parser.add_argument(
        "--reprocess", default="changed", help="changed (default), all, failed, or datum ids"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument("--lakefs-conn-id", default="lakefs_default")


def run(args: argparse.Namespace) -> int:
    from airflow_pachyderm.spec import SpecErrors, load_specs

    try:
        specs = load_specs(args.spec)
    except SpecErrors as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.pipeline:
        matching = [spec for spec in specs if spec.name == args.pipeline]
        if not matching:
            names = ", ".join(spec.name for spec in specs)
            print(f"{args.spec}: no pipeline named {args.pipeline!r} (have: {names})",
                  file=sys.stderr)
            return 1
        spec = matching[0]
    elif len(specs) == 1:
        spec = specs[0]
    else:
        names = ", ".join(spec.name for spec in specs)
        print(f"{args.spec} holds several pipelines ({names}): choose one with --pipeline",
              file=sys.stderr)
        return 2

    with results_stdout() as out:
        return _list_datums(args, spec, out)


def _list_datums(args: argparse.Namespace, spec, out) -> int:
    from airflow_pachyderm.jobs.cli_run import parse_input_pins
    from airflow_pachyderm.jobs.plan import (
        JobInputError,
        JobRequest,
        parse_reprocess,
        plan_datums,
        resolve_inputs,
    )
    from airflow_pachyderm.lakefs.errors import LakeFSError, NotFoundError
    from airflow_pachyderm.lakefs.hook import LakeFSHook

    client = LakeFSHook(lakefs_conn_id=args.lakefs_conn_id).get_conn()
    try:
        request = JobRequest(
            dag_id=spec.dag_id, run_id="datums-dry-run",
            input_commits=parse_input_pins(args.input),
            reprocess=parse_reprocess(args.reprocess),
        )
        inputs = resolve_inputs(client, spec, request, write_ticks=False)
        # A new side branch starts from the pipeline's own output branch, as a job does.
        base = None  # the pipeline never ran: every datum is new
        for branch in dict.fromkeys([args.output_branch or spec.output_branch,
                                     spec.output_branch]):
            try:
                base = client.resolve_ref(spec.output_repo, branch)
                break
            except NotFoundError:
                continue
        plan = plan_datums(client, spec, inputs, base, request.reprocess, _image_id(spec))
    except (JobInputError, LakeFSError) as exc:
        print(f"{spec.name}: {exc}", file=sys.stderr)
        return 1

    rows = []
    for status, planned in (("process", plan.to_process), ("skip", plan.to_skip)):
        for item in planned:
            rows.append({
                "id": item.id,
                "status": status,
                "reason": item.reason,
                "files": [
                    {"input": f.input_name, "repo": f.repo, "commit": f.commit, "path": f.path}
                    for f in item.datum.files
                ],
            })
    for entry in plan.to_delete:
        rows.append({
            "id": entry.datum_id,
            "status": "delete",
            "reason": "removed",
            "files": [
                {"input": i.input_name, "repo": i.repo, "commit": i.commit, "path": i.path}
                for i in entry.inputs
            ],
        })
    if args.json:
        json.dump(rows, out, indent=2)
        out.write("\n")
        return 0
    _print_table(spec.name, rows, plan.counts, out)
    return 0


def _image_id(spec) -> str:
    """The image id a job would pin (it is part of every datum's hash)."""
    from airflow_pachyderm.runners.docker import image_identity

    try:
        return image_identity(spec.transform.image)[0]
    except Exception as exc:  # no Docker or no image here: a dry run still lists datums
        print(f"warning: cannot inspect image {spec.transform.image!r} ({exc}); datums "
              "whose only change is the image cannot be told apart", file=sys.stderr)
        return ""


def _print_table(pipeline: str, rows: list[dict], counts: dict[str, int], out) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"datums of pipeline {pipeline}", show_lines=False)
    table.add_column("datum", no_wrap=True)
    table.add_column("status")
    table.add_column("files")
    for row in rows:
        files = "\n".join(f"{f['input']}: /{f['path']}" for f in row["files"][:5])
        if len(row["files"]) > 5:
            files += f"\n... {len(row['files']) - 5} more"
        table.add_row(row["id"][:12], f"{row['status']} ({row['reason']})", files)
    console = Console(file=out)
    console.print(table)
    console.print(
        f"{counts['process']} to process, {counts['skip']} to skip, {counts['delete']} to delete"
    )
