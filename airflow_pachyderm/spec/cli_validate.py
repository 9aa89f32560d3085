"""``airflow-pachyderm validate PATH...``: check spec files, print every error."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="spec files or directories (*.yaml, *.yml, *.json, searched recursively)",
    )


def run(args: argparse.Namespace) -> int:
    from airflow_pachyderm.spec.checking import check_paths
    from airflow_pachyderm.spec.errors import format_warning

    specs, errors = check_paths(args.paths)
    for spec in specs:
        for warning in spec.warnings:
            print(format_warning(warning))
    for error in errors:
        print(error)
    if errors:
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    files = len({spec.source_file for spec in specs})
    names = ", ".join(spec.name for spec in specs)
    print(f"OK: {len(specs)} pipeline(s) in {files} file(s): {names}")
    return 0
