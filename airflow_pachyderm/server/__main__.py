"""``python -m airflow_pachyderm.server``: the same as ``airflow-pachyderm lakefs-server``."""

from __future__ import annotations

import argparse
import sys

from airflow_pachyderm.server import cli


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_pachyderm.server", description=cli.HELP
    )
    cli.add_arguments(parser)
    return cli.run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
