"""``airflow-pachyderm revert``: undo commits on a branch with lakeFS revert (history kept),
and say which pipelines read that branch and will recompute."""

from __future__ import annotations

import argparse
import sys

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    add_specs,
    command,
    make_client,
    print_json,
    short,
)
from airflow_pachyderm.cli_data.refs import parse_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@BRANCH")
    parser.add_argument("commits", nargs="*", metavar="COMMIT",
                        help="commits (ids, prefixes, refs) to undo, in this order")
    parser.add_argument("--to", metavar="REF",
                        help="undo every commit after REF (an ancestor of the branch)")
    parser.add_argument("-m", "--message", help="message of the revert commit(s)")
    add_specs(parser)
    add_json(parser)


def _commits_after(client, repo: str, branch: str, ref: str) -> list:
    """Commits on the branch's first-parent line newer than ``ref``, newest first."""
    stop = client.get_commit(repo, ref).id
    undo = []
    for commit in client.log_commits(repo, branch, first_parent=True):
        if commit.id == stop:
            return undo
        undo.append(commit)
    raise CommandError(f"{repo}@{ref} is not an ancestor of branch {branch}: nothing to revert to")


@command
def run(args: argparse.Namespace) -> int:
    from airflow_pachyderm.cli_data.pipelines import load_graph, readers

    target = parse_target(args.target, need_ref=True)
    if bool(args.to) == bool(args.commits):
        raise CommandError("give either --to REF or the COMMITs to revert")
    client = make_client()
    repo, branch = target.repo, target.ref
    client.get_branch(repo, branch)  # a branch, not a tag or commit
    if args.to:
        undo = _commits_after(client, repo, branch, args.to)
    else:
        undo = [client.get_commit(repo, ref) for ref in args.commits]
    reverted = []
    for commit in undo:
        message = args.message or f"Revert {short(commit.id)}: {commit.message}"
        head = client.revert(repo, branch, commit.id,
                             parent_number=1 if len(commit.parents or []) > 1 else 0,
                             message=message, metadata={"airflow-pachyderm.reverts": commit.id})
        reverted.append({"reverted": commit.id, "message": commit.message, "new_head": head})
    head = client.get_branch(repo, branch)
    try:
        direct, downstream = readers(load_graph(args.specs), repo, branch)
        specs_note = None
    except CommandError as exc:
        direct, downstream, specs_note = [], [], str(exc)
    result = {"repo": repo, "branch": branch, "head": head, "reverted": reverted,
              "pipelines": direct, "downstream": downstream}
    if args.json:
        print_json(result)
    else:
        if not reverted:
            print(f"{repo}@{branch} is already at {args.to}: nothing reverted")
        for item in reverted:
            print(f"reverted {short(item['reverted'])} ({item['message']}) -> "
                  f"{repo}@{short(item['new_head'])}")
        if direct:
            print(f"pipelines reading {repo}@{branch} will recompute: {', '.join(direct)}")
            if downstream:
                print(f"and after them, downstream: {', '.join(downstream)}")
        elif specs_note is None:
            print(f"no pipeline in {args.specs} reads {repo}@{branch}")
    if specs_note:
        print(f"airflow-pachyderm revert: note: {specs_note}", file=sys.stderr)
    return 0
