"""Run one command against a fresh embedded lakeFS-compatible server.

Usage: ``python tests/peer/with_server.py [options] -- COMMAND ...``. The command gets the
``LAKECTL_*`` variables (what lakeFS's clients read) and ``STORAGE_NAMESPACE`` (what lakeFS's
wrapper tests read); its exit code is returned. The server's data directory is removed after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lakefs
import sample_repo

from airflow_pachyderm.server.process import LakeFSServerProcess

# lakeFS's documented quickstart key pair: lakefs-spec's tests have it built in.
QUICKSTART_KEY = "AKIAIOSFOLQUICKSTART"
QUICKSTART_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="listen on this port (default: a free one)")
    parser.add_argument(
        "--quickstart-credentials",
        action="store_true",
        help="use lakeFS's public quickstart key pair instead of a generated one",
    )
    parser.add_argument(
        "--sample-repo", metavar="NAME", help="create NAME holding a stand-in sample first"
    )
    parser.add_argument(
        "--no-env",
        action="store_true",
        help="do not export LAKECTL_* (for suites that test how clients find their config)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    key, secret = (
        (QUICKSTART_KEY, QUICKSTART_SECRET) if args.quickstart_credentials else (None, None)
    )
    with LakeFSServerProcess(port=args.port, access_key_id=key, secret_access_key=secret) as server:
        if args.sample_repo:
            client = lakefs.Client(
                host=server.endpoint,
                username=server.access_key_id,
                password=server.secret_access_key,
            )
            sample_repo.create(client, args.sample_repo, f"local://{args.sample_repo}")
        env = dict(os.environ)
        if not args.no_env:
            env.update(server.env(), STORAGE_NAMESPACE="local://peer-tests")
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
