"""``airflow-pachyderm ls``, ``log`` and ``inspect``: files, history and one commit."""

from __future__ import annotations

import argparse
from typing import Any

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    command,
    human_bytes,
    make_client,
    print_json,
    short,
    when,
)
from airflow_pachyderm.cli_data.refs import parse_target, resolve


def add_ls_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@REF[:PATH]")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="every file under PATH, not only the first level")
    add_json(parser)


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@BRANCH")
    parser.add_argument("-n", "--number", type=int, default=20, metavar="N",
                        help="show the N newest commits (default 20)")
    add_json(parser)


def add_inspect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@REF")
    add_json(parser)


# -- shared views of a commit -----------------------------------------------------------------


def provenance_dict(metadata: dict[str, str]) -> dict[str, Any] | None:
    """The provenance of a pipeline output commit as plain data; None for source data."""
    from airflow_pachyderm.lakefs.provenance import Provenance

    prov = Provenance.from_metadata(metadata or {})
    if prov is None:
        return None
    return {
        "pipeline": prov.pipeline,
        "job": prov.job,
        "spec_hash": prov.spec_hash,
        "image": prov.image,
        "inputs": [
            {"name": i.name, "repo": i.repo, "commit": i.commit, "branch": i.branch,
             "pinned_ref": i.pinned_ref}
            for i in prov.inputs
        ],
        "datums": dict(prov.datums),
        "run": {"dag_id": prov.dag_id, "run_id": prov.run_id, "url": prov.airflow_url},
    }


def provenance_summary(prov: dict[str, Any] | None) -> str:
    if prov is None:
        return ""
    inputs = ", ".join(f"{i['name']}={i['repo']}@{short(i['commit'])}" for i in prov["inputs"])
    counts = prov["datums"]
    return (f"pipeline {prov['pipeline']} job {short(prov['job'])} <- {inputs}; datums "
            f"{counts.get('processed', 0)} processed, {counts.get('skipped', 0)} skipped")


def commit_dict(repo: str, commit) -> dict[str, Any]:
    metadata = dict(commit.metadata or {})
    return {
        "repo": repo,
        "id": commit.id,
        "message": commit.message,
        "committer": commit.committer,
        "creation_date": commit.creation_date,
        "parents": list(commit.parents or []),
        "metadata": metadata,
        "provenance": provenance_dict(metadata),
    }


# -- verbs --------------------------------------------------------------------------------------


@command
def run_ls(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    client = make_client()
    ref, commit = resolve(client, target)
    path = target.path or ""
    entries = []
    prefix = path.rstrip("/") + "/" if path else ""
    delimiter = "" if args.recursive else "/"
    for obj in client.list_objects(target.repo, commit.id, prefix=prefix, delimiter=delimiter):
        entries.append({"path": obj.path, "type": "dir" if obj.path_type != "object" else "file",
                        "size": obj.size_bytes, "checksum": obj.checksum, "mtime": obj.mtime})
    if not entries and path and not path.endswith("/"):
        from airflow_pachyderm.lakefs.errors import NotFoundError

        try:
            obj = client.stat(target.repo, commit.id, path)
        except NotFoundError:
            raise CommandError(f"{target.repo}@{ref}:{path}: no such file or directory") from None
        entries.append({"path": obj.path, "type": "file", "size": obj.size_bytes,
                        "checksum": obj.checksum, "mtime": obj.mtime})
    elif not entries and path:
        raise CommandError(f"{target.repo}@{ref}:{path}: no such file or directory")
    if args.json:
        print_json({"repo": target.repo, "ref": ref, "commit": commit.id, "entries": entries})
        return 0
    for entry in entries:
        size = human_bytes(entry["size"]) if entry["type"] == "file" else "-"
        print(f"{entry['type']:<4} {size:>10}  {when(entry['mtime']):<19}  {entry['path']}")
    return 0


@command
def run_log(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    client = make_client()
    ref, _ = resolve(client, target)
    commits = [commit_dict(target.repo, c)
               for c in client.log_commits(target.repo, ref, amount=max(1, args.number))]
    if args.json:
        print_json(commits)
        return 0
    for item in commits:
        print(f"{short(item['id'])}  {when(item['creation_date'])}  {item['message']}")
        summary = provenance_summary(item["provenance"])
        if summary:
            print(f"              {summary}")
    return 0


@command
def run_inspect(args: argparse.Namespace) -> int:
    from airflow_pachyderm.lakefs.provenance import PREFIX

    target = parse_target(args.target)
    client = make_client()
    ref, commit = resolve(client, target)
    data = commit_dict(target.repo, commit)
    data["ref"] = ref
    data["other_metadata"] = {
        k: v for k, v in data["metadata"].items()
        if not k.startswith((PREFIX, "airflow.", "::lakefs::"))
    }
    if args.json:
        print_json(data)
        return 0
    print(f"commit     {target.repo}@{commit.id}")
    print(f"ref        {ref}")
    print(f"message    {commit.message}")
    print(f"committer  {commit.committer}  {when(commit.creation_date)}")
    print(f"parents    {', '.join(short(p) for p in data['parents']) or '-'}")
    prov = data["provenance"]
    if prov is None:
        print("provenance none (source data)")
    else:
        print("provenance")
        print(f"  pipeline   {prov['pipeline']}")
        print(f"  job        {prov['job']}")
        print(f"  spec hash  {prov['spec_hash']}")
        print(f"  image      {prov['image']}")
        for item in prov["inputs"]:
            followed = f" (branch {item['branch']})" if item["branch"] else ""
            print(f"  input      {item['name']} = {item['repo']}@{item['commit']}{followed}")
        print("datums     " + ", ".join(f"{k} {v}" for k, v in prov["datums"].items()))
        run = prov["run"]
        if run["dag_id"]:
            print(f"run        DAG {run['dag_id']} run {run['run_id']}")
        if run["url"]:
            print(f"run link   {run['url']}")
    for key, value in sorted(data["other_metadata"].items()):
        print(f"metadata   {key} = {value}")
    return 0
