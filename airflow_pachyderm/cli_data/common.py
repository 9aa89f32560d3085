"""What every data verb shares: the client from LAKECTL_*, one-line errors, JSON output."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TextIO

from airflow_pachyderm.errors import CommandError, PachydermError

__all__ = ["CommandError", "command", "make_client"]

SPECS_ENV = "AIRFLOW_PACHYDERM_SPECS"


def command(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn every expected failure of ``run`` into one line on stderr and exit status 1."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        verb = getattr(args, "command", "") or ""
        try:
            return run(args)
        except (PachydermError, OSError, ValueError) as exc:
            text = " ".join(str(exc).split()) or type(exc).__name__
            print(f"airflow-pachyderm {verb}: {text}", file=sys.stderr)
            return 1

    return wrapper


def make_client():
    """A :class:`LakeFSClient` from the LAKECTL_* variables, as lakectl reads them."""
    from airflow_pachyderm.lakefs.client import LakeFSClient, LakeFSConfig

    return LakeFSClient(LakeFSConfig.from_env())


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_specs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--specs", default=os.environ.get(SPECS_ENV, "."), metavar="PATH",
        help=f"pipeline spec file or directory (default: ${SPECS_ENV}, else the current "
        "directory)",
    )


def print_json(data: Any, out: TextIO | None = None) -> None:
    print(json.dumps(data, indent=2, default=str), file=out or sys.stdout)


def short(commit_id: str) -> str:
    return commit_id[:12]


def when(epoch: int | float | None) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def human_bytes(size: int | float) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
