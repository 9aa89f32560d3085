"""The ``airflow-pachyderm`` command (Pachyderm's ``pachctl`` for this provider).

Every subcommand lives in the module that owns its domain and exposes two functions,
``add_arguments(parser)`` and ``run(args) -> int`` (or, for ``module:NAME``,
``add_NAME_arguments`` and ``run_NAME``, when one module serves several verbs); this file only
wires them up, and imports each module lazily so that ``--help`` and light subcommands stay
fast.
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
    "repo": ("airflow_pachyderm.cli_data.repo", "create, list and delete repositories"),
    "put": ("airflow_pachyderm.cli_data.transfer:put",
            "upload files and directories to a branch, in one commit"),
    "get": ("airflow_pachyderm.cli_data.transfer:get", "download files from a commit"),
    "ls": ("airflow_pachyderm.cli_data.browse:ls", "list the files of a commit"),
    "log": ("airflow_pachyderm.cli_data.browse:log",
            "a branch's commits, with provenance for pipeline outputs"),
    "inspect": ("airflow_pachyderm.cli_data.browse:inspect",
                "one commit: provenance, datums, run link"),
    "diff": ("airflow_pachyderm.cli_data.diff", "files added, removed and changed between refs"),
    "revert": ("airflow_pachyderm.cli_data.revert",
               "undo commits on a branch (history kept); name the pipelines that recompute"),
    "lineage": ("airflow_pachyderm.cli_data.lineage:lineage",
                "what a commit or file was computed from (or, --downstream, what it fed)"),
    "wait": ("airflow_pachyderm.cli_data.lineage:wait",
             "wait until every pipeline downstream of a commit has committed its output"),
    "rerun": ("airflow_pachyderm.cli_data.rerun",
              "run a pipeline again on chosen input commits (through Airflow when configured)"),
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
        _entry(module, "add_arguments")(sub_parser)
    return parser


def _entry(module: str, function: str):
    """``module.function``; for ``module:NAME``, ``add_NAME_arguments`` or ``run_NAME``."""
    path, _, name = module.partition(":")
    if name:
        function = f"add_{name}_arguments" if function == "add_arguments" else f"run_{name}"
    return getattr(importlib.import_module(path), function)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = _entry(args._module, "run")
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
