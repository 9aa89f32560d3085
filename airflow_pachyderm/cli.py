"""The ``airflow-pachyderm`` command (Pachyderm's ``pachctl`` for this provider).

Every subcommand lives in the module that owns its domain and exposes two functions,
``add_arguments(parser)`` and ``run(args) -> int``; this file only wires them up, and imports
each module lazily so that ``--help`` and light subcommands stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "lakefs-server": (
        "airflow_pachyderm.server.cli",
        "run the embedded lakeFS-compatible server (development and tests)",
    ),
    "validate": ("airflow_pachyderm.spec.cli_validate", "check pipeline spec files"),
    "schema": ("airflow_pachyderm.spec.cli_schema", "print the JSON Schema of a pipeline spec"),
    "datums": ("airflow_pachyderm.jobs.cli_datums", "list the datums a job would see"),
    "run": ("airflow_pachyderm.jobs.cli_run", "run pipelines once, in-process, through their DAGs"),
    "up": (
        "airflow_pachyderm.local.up",
        "start lakeFS and a local Airflow with the pipelines' DAGs; Ctrl-C stops them",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-pachyderm",
        description="Pachyderm-style versioned data pipelines on Airflow and lakeFS.",
    )
    from airflow_pachyderm import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
