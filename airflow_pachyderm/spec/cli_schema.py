"""``airflow-pachyderm schema``: print the JSON Schema of a pipeline spec file."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--indent", type=int, default=2, help="JSON indentation (default: %(default)s)"
    )


def run(args: argparse.Namespace) -> int:
    from airflow_pachyderm.spec.schema import schema_json

    print(schema_json(indent=args.indent), end="")
    return 0
