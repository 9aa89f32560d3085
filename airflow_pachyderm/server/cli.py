"""``airflow-pachyderm lakefs-server``: run the embedded lakeFS-compatible server."""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import sys
from pathlib import Path

HELP = "Run the embedded lakeFS-compatible server (development and tests)."
ACCESS_KEY_ENV = "LAKECTL_CREDENTIALS_ACCESS_KEY_ID"
SECRET_KEY_ENV = "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"
NO_VERIFY_ENV = "AIRFLOW_PACHYDERM_SERVER_NO_VERIFY_READS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--data-dir", required=True, type=Path, help="directory for the database and object data"
    )
    parser.add_argument(
        "--access-key-id",
        default=os.environ.get(ACCESS_KEY_ENV),
        help=f"access key id clients must present (default ${ACCESS_KEY_ENV})",
    )
    parser.add_argument(
        "--secret-access-key",
        default=os.environ.get(SECRET_KEY_ENV),
        help=f"secret access key (default ${SECRET_KEY_ENV})",
    )
    parser.add_argument(
        "--no-verify-reads",
        action="store_true",
        default=os.environ.get(NO_VERIFY_ENV) == "1",
        help="serve object data without checking it against its hash (only to measure what "
        f"checking costs; default ${NO_VERIFY_ENV}=1 or off)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default info)",
    )


def generate_credentials() -> tuple[str, str]:
    # Same shape as lakeFS keys: AKIAJ + 15 upper-case characters, 40-character secret.
    key = "AKIAJ" + secrets.token_hex(8).upper()[:15]
    return key, secrets.token_urlsafe(30)[:40]


def loopback(host: str) -> bool:
    """Whether ``host`` binds to this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from airflow_pachyderm.server.app import create_app
    from airflow_pachyderm.server.store import Store

    key, secret = args.access_key_id, args.secret_access_key
    if bool(key) != bool(secret):
        print(
            "error: give both an access key id and a secret access key, or neither",
            file=sys.stderr,
        )
        return 2
    if not key:
        key, secret = generate_credentials()
        # Printed once, here only, so the user can configure clients.
        print(
            "No credentials configured; generated a key pair for this run:\n"
            f"  {ACCESS_KEY_ENV}={key}\n  {SECRET_KEY_ENV}={secret}",
            file=sys.stderr,
            flush=True,
        )
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if not loopback(args.host):
        print(
            f"warning: binding {args.host}: this is a development server (no TLS, one key "
            "pair, no access control beyond it); other machines can reach it. Use a real "
            "lakeFS for anything shared, or bind 127.0.0.1.",
            file=sys.stderr,
            flush=True,
        )
    store = Store(args.data_dir.resolve())
    store.blobs.verify_reads = not args.no_verify_reads
    app = create_app(store, key, secret)
    print(
        f"lakeFS-compatible server on http://{args.host}:{args.port} "
        f"(API /api/v1, data in {store.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
    )
    return 0
