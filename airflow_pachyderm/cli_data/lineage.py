"""``airflow-pachyderm lineage`` and ``wait``: provenance graphs from
:mod:`airflow_pachyderm.jobs.lineage`, rendered as text, Mermaid, DOT or JSON."""

from __future__ import annotations

import argparse
import sys
import time

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    add_specs,
    command,
    make_client,
    print_json,
    short,
)
from airflow_pachyderm.cli_data.lineage_render import FORMATS, render
from airflow_pachyderm.cli_data.refs import parse_target


def add_lineage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@REF[:PATH]")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print Lineage.to_dict() as JSON")
    output.add_argument("--format", choices=FORMATS, default="tree",
                        help="tree (default), mermaid or dot")
    parser.add_argument("--depth", type=int, metavar="N",
                        help="walk at most N pipeline steps (default: all)")
    parser.add_argument("--downstream", action="store_true",
                        help="which outputs were computed from this commit, instead")


def add_wait_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@REF")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait at most (default 600)")
    parser.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)
    add_specs(parser)
    add_json(parser)


@command
def run_lineage(args: argparse.Namespace) -> int:
    from airflow_pachyderm.jobs.lineage import LineageError, downstream, upstream

    target = parse_target(args.target)
    if args.depth is not None and args.depth < 0:
        raise CommandError("--depth must be 0 or more")
    client = make_client()
    ref = target.ref or client.get_repository(target.repo).default_branch
    try:
        if args.downstream:
            if target.path:
                raise CommandError("--downstream follows commits, not files: drop the :PATH")
            lineage = downstream(client, target.repo, ref, depth=args.depth)
        else:
            lineage = upstream(client, target.repo, ref, path=target.path or None,
                               depth=args.depth)
    except LineageError as exc:
        raise CommandError(str(exc)) from None
    data = lineage.to_dict()
    if args.json:
        print_json(data)
    else:
        print(render(data, args.format))
    return 0


@command
def run_wait(args: argparse.Namespace) -> int:
    from airflow_pachyderm.cli_data.pipelines import load_graph, readers
    from airflow_pachyderm.jobs.lineage import downstream

    target = parse_target(args.target)
    graph = load_graph(args.specs)
    client = make_client()
    ref = target.ref or client.get_repository(target.repo).default_branch
    commit = client.get_commit(target.repo, ref).id
    branch = ref if client.branch_exists(target.repo, ref) else None
    direct, further = readers(graph, target.repo, branch)
    expected = {graph.specs[name].name: graph.specs[name].output_repo
                for name in direct + further}
    if not expected:
        print(f"no pipeline in {args.specs} reads {target.repo}"
              + (f"@{branch}" if branch else ""), file=sys.stderr)
    landed: dict[str, dict] = {}
    deadline = time.monotonic() + args.timeout
    while len(landed) < len(expected):
        lineage = downstream(client, target.repo, commit, repos=sorted(set(expected.values())))
        for node in lineage.nodes.values():
            prov = node.provenance
            if prov is None or prov.pipeline not in expected or prov.pipeline in landed:
                continue
            landed[prov.pipeline] = {"pipeline": prov.pipeline, "repo": node.repo,
                                     "commit": node.commit, "job": prov.job}
            if not args.json:
                print(f"{prov.pipeline}: {node.repo}@{node.commit} (job {short(prov.job)})",
                      flush=True)
        if len(landed) == len(expected):
            break
        if time.monotonic() > deadline:
            missing = sorted(set(expected) - set(landed))
            raise CommandError(f"timed out after {args.timeout:.0f}s; no output of "
                           f"{target.repo}@{short(commit)} yet from: {', '.join(missing)}")
        time.sleep(args.interval)
    if args.json:
        order = [graph.specs[name].name for name in direct + further]
        print_json({"repo": target.repo, "commit": commit,
                    "outputs": [landed[name] for name in order]})
    return 0
