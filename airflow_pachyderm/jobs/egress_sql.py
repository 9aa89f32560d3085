"""SQL egress: load an output commit into database tables, as Pachyderm's ``sqlDatabase``.

Each top-level directory of the output is a table and its files hold rows (CSV or JSON
lines). In one transaction, every table written is emptied and refilled, so the database
holds exactly the commit's rows and a retried egress gives the same result.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from airflow_pachyderm.jobs.egress import EgressError
from airflow_pachyderm.jobs.job import RESERVED_PREFIX
from airflow_pachyderm.lakefs.client import LakeFSClient


def database_url(url: str, password: str) -> Any:
    """The SQLAlchemy URL of ``url`` (Pachyderm's spelling) with ``password`` set.

    :raises EgressError: a URL SQLAlchemy cannot read.
    """
    import sqlalchemy

    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError as exc:
        raise EgressError(f"sqlDatabase URL {url!r} cannot be read: {exc}") from None
    return parsed.set(password=password) if password and parsed.username else parsed


def export_to_sql(
    client: LakeFSClient,
    repo: str,
    commit: str,
    url: str,
    password: str,
    file_format: str,
    columns: list[str],
) -> dict[str, int]:
    """Load ``repo@commit`` into the database at ``url``; return rows written per table.

    :param file_format: ``CSV`` or ``JSON`` (one object per line).
    :param columns: CSV: the header the files start with; JSON: the keys to read. Empty:
        every column of the table (CSV rows then have no header and follow table order).
    :raises EgressError: a file outside a table directory, a missing table or driver, or a
        row that does not fit; nothing is written then.
    """
    import sqlalchemy

    files: dict[str, list[str]] = {}
    for obj in client.list_objects(repo, commit):
        if obj.path_type != "object" or obj.path.startswith(RESERVED_PREFIX):
            continue
        table, _, rest = obj.path.partition("/")
        if not rest:
            raise EgressError(
                f"sqlDatabase egress: output file {obj.path!r} is not inside a table "
                "directory: write rows to /pfs/out/<table>/<file>"
            )
        files.setdefault(table, []).append(obj.path)
    try:
        engine = sqlalchemy.create_engine(database_url(url, password))
    except sqlalchemy.exc.NoSuchModuleError as exc:
        raise EgressError(
            f"sqlDatabase egress: no SQLAlchemy driver for {url.split(':', 1)[0]!r} on this "
            f"worker ({exc}); install the dialect's package"
        ) from None
    written: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            for name, paths in sorted(files.items()):
                try:
                    table = sqlalchemy.Table(name, sqlalchemy.MetaData(), autoload_with=conn)
                except sqlalchemy.exc.NoSuchTableError:
                    raise EgressError(
                        f"sqlDatabase egress: table {name!r} does not exist; create it first"
                    ) from None
                conn.execute(table.delete())
                written[name] = 0
                for path in sorted(paths):
                    text = client.read_bytes(repo, commit, path).decode("utf-8")
                    rows = list(_rows(text, file_format, columns, table, path))
                    if rows:
                        conn.execute(table.insert(), rows)
                    written[name] += len(rows)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise EgressError(f"sqlDatabase egress failed, nothing written: {exc}") from None
    finally:
        engine.dispose()
    return written


def _rows(
    text: str, file_format: str, columns: list[str], table: Any, path: str
) -> Iterator[dict[str, Any]]:
    names = columns or [column.name for column in table.columns]
    if file_format == "JSON":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except ValueError:
                    raise EgressError(f"{path}:{number}: not a JSON object") from None
                if not isinstance(record, dict):
                    raise EgressError(f"{path}:{number}: not a JSON object")
                yield {name: record.get(name) for name in names}
        return
    reader = csv.reader(io.StringIO(text))
    if columns:
        header = next(reader, None)
        if header is None:
            return
        if sorted(header) != sorted(columns):
            raise EgressError(f"{path}: header {header} does not name the columns {columns}")
        names = header
    for number, record in enumerate(reader, 2 if columns else 1):
        if len(record) != len(names):
            raise EgressError(
                f"{path}:{number}: {len(record)} fields, table {table.name!r} expects "
                f"{len(names)} ({', '.join(names)})"
            )
        yield dict(zip(names, record, strict=True))
