"""``airflow-pachyderm repo create|list|delete``: lakeFS repositories under Pachyderm names."""

from __future__ import annotations

import argparse

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    command,
    make_client,
    print_json,
    when,
)
from airflow_pachyderm.cli_data.refs import lakefs_repo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="repo_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create", help="create a repository", description="create a "
                            "repository (a Pachyderm name maps as in specs: raw_data -> raw-data)")
    create.add_argument("name")
    create.add_argument("--branch", default="main", help="default branch (default: main)")
    add_json(create)
    listing = sub.add_parser("list", help="list repositories", description="list repositories")
    add_json(listing)
    delete = sub.add_parser("delete", help="delete a repository and its history",
                            description="delete a repository and its history")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="confirm; nothing happens without it")


def _repo_dict(repo) -> dict:
    return {
        "name": repo.id,
        "default_branch": repo.default_branch,
        "storage_namespace": repo.storage_namespace,
        "creation_date": repo.creation_date,
    }


@command
def run(args: argparse.Namespace) -> int:
    client = make_client()
    action = args.repo_command
    if action == "list":
        repos = [_repo_dict(r) for r in client.list_repositories()]
        if args.json:
            print_json(repos)
        else:
            for repo in repos:
                print(f"{repo['name']:<40} {repo['default_branch']:<12} "
                      f"{when(repo['creation_date'])}")
        return 0
    name = lakefs_repo(args.name)
    if action == "create":
        created = client.create_repository(name, default_branch=args.branch)
        if args.json:
            print_json(_repo_dict(created))
        else:
            print(f"created repository {name} (default branch {args.branch})")
        return 0
    if not args.yes:
        raise CommandError(f"deleting {name} removes its whole history: add --yes to confirm")
    client.delete_repository(name)
    print(f"deleted repository {name}")
    return 0
