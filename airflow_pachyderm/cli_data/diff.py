"""``airflow-pachyderm diff``: files added, removed and changed between two refs; for small
CSV and JSON files, what changed inside them."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
from typing import Any

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    command,
    make_client,
    print_json,
)
from airflow_pachyderm.cli_data.refs import parse_target

CONTENT_DIFF_LIMIT = 1024 * 1024  # bytes per side; bigger files are only listed
CONTENT_SUFFIXES = (".csv", ".json", ".jsonl", ".tsv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("left", metavar="REPO@REF1[:PATH]")
    parser.add_argument("right", metavar="REPO@REF2 | REF2")
    parser.add_argument("path", nargs="?", metavar=":PATH", help="only files under PATH")
    parser.add_argument("--no-content", action="store_true",
                        help="list files only, no content diff of small CSV/JSON files")
    add_json(parser)


def _lines(raw: bytes, path: str) -> list[str]:
    text = raw.decode("utf-8", "replace")
    if path.endswith(".json"):
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, sort_keys=True)
    return text.splitlines()


def content_diff(client, repo: str, left: str, right: str, path: str) -> list[str] | None:
    """A unified diff of a small CSV/JSON file between two commits, or None."""
    if not path.endswith(CONTENT_SUFFIXES):
        return None
    sides = []
    for ref in (left, right):
        if client.stat(repo, ref, path).size_bytes > CONTENT_DIFF_LIMIT:
            return None
        sides.append(_lines(client.read_bytes(repo, ref, path), path))
    return list(difflib.unified_diff(sides[0], sides[1], f"{path}@{left[:12]}",
                                     f"{path}@{right[:12]}", lineterm=""))


def _shown(ref: str, commit: str) -> str:
    return commit[:12] if commit.startswith(ref) else f"{ref} ({commit[:12]})"


@command
def run(args: argparse.Namespace) -> int:
    left = parse_target(args.left, need_ref=True)
    right_text = args.right if "@" in args.right else f"{args.left.split('@')[0]}@{args.right}"
    right = parse_target(right_text, need_ref=True)
    if right.repo != left.repo:
        raise CommandError(f"{args.left} and {args.right}: diff compares two refs of one repo")
    prefix = (args.path or "").lstrip(":").lstrip("/") or left.path or right.path or ""
    client = make_client()
    left_id = client.get_commit(left.repo, left.ref).id
    right_id = client.get_commit(right.repo, right.ref).id
    result: dict[str, Any] = {"repo": left.repo, "left": {"ref": left.ref, "commit": left_id},
                              "right": {"ref": right.ref, "commit": right_id},
                              "added": [], "removed": [], "changed": []}
    for change in client.diff(left.repo, left_id, right_id, prefix=prefix, two_dot=True):
        if change.path_type != "object":
            continue
        kind = {"added": "added", "removed": "removed"}.get(change.type, "changed")
        if kind != "changed":
            result[kind].append(change.path)
            continue
        lines = None if args.no_content else content_diff(
            client, left.repo, left_id, right_id, change.path)
        result["changed"].append({"path": change.path, "diff": lines})
    if args.json:
        print_json(result)
        return 0
    print(f"{left.repo}: {_shown(left.ref, left_id)} -> {_shown(right.ref, right_id)}")
    for path in result["added"]:
        print(f"added    {path}")
    for path in result["removed"]:
        print(f"removed  {path}")
    for item in result["changed"]:
        print(f"changed  {item['path']}")
        for line in item["diff"] or []:
            print(f"    {line}")
    if not (result["added"] or result["removed"] or result["changed"]):
        print("no differences")
    return 0
