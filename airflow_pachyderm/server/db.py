"""SQLite storage of refs, commits, staging entries and tree ranges.

One connection per thread; WAL mode so readers never block the writer; writes go through one
process-wide lock (plus ``BEGIN IMMEDIATE``) so concurrent requests queue instead of failing
with "database is locked". Ref changes (commits, merges, branches, tags) run with
``synchronous=FULL`` and survive a crash of the process or of the machine. Staging writes
(uploads, deletions) may use ``synchronous=NORMAL``: in WAL mode they still survive a crash
of the process, and the next FULL transaction makes them durable too.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS repositories (
    name TEXT PRIMARY KEY,
    storage_namespace TEXT NOT NULL,
    default_branch TEXT NOT NULL,
    creation_date INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS commits (
    repo TEXT NOT NULL,
    id TEXT NOT NULL,
    parents TEXT NOT NULL,
    committer TEXT NOT NULL,
    message TEXT NOT NULL,
    creation_date INTEGER NOT NULL,
    created_ns INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    meta_range_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (repo, id)
) WITHOUT ROWID;
-- hidden: left out of branch listings unless asked (lakeFS's ephemeral branches).
CREATE TABLE IF NOT EXISTS branches (
    repo TEXT NOT NULL,
    name TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (
    repo TEXT NOT NULL,
    name TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    PRIMARY KEY (repo, name)
) WITHOUT ROWID;
-- Uncommitted changes of a branch; address NULL marks a deletion (tombstone).
CREATE TABLE IF NOT EXISTS staging (
    repo TEXT NOT NULL,
    branch TEXT NOT NULL,
    path TEXT NOT NULL,
    address TEXT,
    checksum TEXT,
    size INTEGER,
    mtime INTEGER,
    content_type TEXT,
    metadata TEXT,
    PRIMARY KEY (repo, branch, path)
) WITHOUT ROWID;
-- Immutable, content-addressed pieces of committed trees (see tree.py).
CREATE TABLE IF NOT EXISTS ranges (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metaranges (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
"""


class Database:
    """Thread-safe access to the server's SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        conn = self.conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        _migrate(conn)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=60
            )
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (re-entrant within a thread).

        ``durable=False`` skips the fsync at commit (see the module docstring).
        """
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        with self._write_lock:
            mode = "FULL" if durable else "NORMAL"
            if getattr(self._local, "sync_mode", "FULL") != mode:
                conn.execute(f"PRAGMA synchronous={mode}")
                self._local.sync_mode = mode
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (disk full): never leave a transaction
                # open, or this thread's next write would silently join it.
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (re-entrant; inside ``write`` it sees that write)."""
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a data directory written by an older version up to the current schema."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(branches)")}
    if "hidden" not in columns:
        conn.execute("ALTER TABLE branches ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
