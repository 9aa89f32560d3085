"""Egress copies an output commit's files (not the bookkeeping) to external storage."""

from __future__ import annotations

import re

import pytest
from jobkit import make_repo, pipeline_spec, unique

from airflow_pachyderm.jobs.egress import EgressError, FileSink, mirror_commit, scheme_of


def test_file_egress_mirrors_outputs_only(lakefs, driver, tmp_path) -> None:
    data = make_repo(lakefs, {"a.txt": b"alpha", "sub/b.txt": b"beta"}, "data")
    spec = pipeline_spec(
        unique("egress"), {"pfs": {"repo": data, "name": "data", "glob": "/**"}},
        ["sh", "-c", 'mkdir -p /pfs/out/$(dirname "${data#/pfs/data/}") && '
                     'tr a-z A-Z < "$data" > "/pfs/out/${data#/pfs/data/}"'],
        egress={"URL": f"file://{tmp_path}/export"},
    )
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "stale.txt").write_bytes(b"from an earlier export")
    result = driver.run(spec)
    assert mirror_commit(lakefs, spec.output_repo, result.commit,
                         FileSink(spec.egress.url)) == (2, 1, 0)
    exported = sorted(p.relative_to(tmp_path / "export").as_posix()
                      for p in (tmp_path / "export").rglob("*") if p.is_file())
    assert exported == ["a.txt", "sub/b.txt"]
    assert (tmp_path / "export" / "sub" / "b.txt").read_bytes() == b"BETA"
    # Again: the files there are the same, nothing is written; an edit there is undone.
    assert mirror_commit(lakefs, spec.output_repo, result.commit,
                         FileSink(spec.egress.url)) == (0, 0, 2)
    (tmp_path / "export" / "a.txt").write_bytes(b"ALPHX")  # same size, other contents
    assert mirror_commit(lakefs, spec.output_repo, result.commit,
                         FileSink(spec.egress.url)) == (1, 0, 1)
    assert (tmp_path / "export" / "a.txt").read_bytes() == b"ALPHA"


def test_egress_refuses_unsupported_urls(tmp_path) -> None:
    with pytest.raises(EgressError, match="not supported"):
        scheme_of("gs://bucket/x")
    with pytest.raises(EgressError, match="absolute"):
        FileSink("file://relative/dir")
    sink = FileSink(f"file://{tmp_path}/out")
    import io

    with pytest.raises(EgressError, match="would leave"):
        sink.write("../escape.txt", io.BytesIO(b"x"))


def _scores_db(path) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE scores (name TEXT, score INTEGER)")
        db.execute("CREATE TABLE events (kind TEXT, n INTEGER)")
        db.execute("INSERT INTO scores VALUES ('stale', 0)")
    return f"sqlite:///{path}"


def _table(path, name: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return sorted(db.execute(f"SELECT * FROM {name}").fetchall())


def test_sql_egress_replaces_each_table_in_one_transaction(lakefs, tmp_path) -> None:
    from airflow_pachyderm.jobs.egress_sql import export_to_sql

    url = _scores_db(tmp_path / "db.sqlite")
    repo = make_repo(lakefs, {
        "scores/a.csv": b"score,name\n3,ann\n5,bob\n",
        "scores/b.csv": b"score,name\n7,cy\n",
        "scores/empty.csv": b"name,score\n",
        "_pachyderm/manifest.jsonl.gz": b"bookkeeping, never exported",
    }, "sql")
    commit = lakefs.resolve_ref(repo, "main")
    rows = export_to_sql(lakefs, repo, commit, url, "", "CSV", ["name", "score"])
    assert rows == {"scores": 3}
    assert _table(tmp_path / "db.sqlite", "scores") == [("ann", 3), ("bob", 5), ("cy", 7)]
    # Again: the same rows, not twice as many.
    export_to_sql(lakefs, repo, commit, url, "", "CSV", ["name", "score"])
    assert len(_table(tmp_path / "db.sqlite", "scores")) == 3


def test_sql_egress_json_lines_and_headerless_csv(lakefs, tmp_path) -> None:
    from airflow_pachyderm.jobs.egress_sql import export_to_sql

    url = _scores_db(tmp_path / "db.sqlite")
    repo = make_repo(lakefs, {"scores/s.jsonl": b'{"name": "ann", "score": 1, "x": 0}\n\n'}, "sql")
    export_to_sql(lakefs, repo, lakefs.resolve_ref(repo, "main"), url, "", "JSON", [])
    assert _table(tmp_path / "db.sqlite", "scores") == [("ann", 1)]
    repo = make_repo(lakefs, {"scores/s.csv": b"dan,4\n"}, "sql")
    export_to_sql(lakefs, repo, lakefs.resolve_ref(repo, "main"), url, "", "CSV", [])
    assert _table(tmp_path / "db.sqlite", "scores") == [("dan", 4)]


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"loose.csv": b"a,1\n"}, "'loose.csv' is not inside a table directory"),
        ({"nosuch/a.csv": b"a,1\n"}, "table 'nosuch' does not exist"),
        ({"scores/a.csv": b"a,1\nb\n"}, "scores/a.csv:2: 1 fields, table 'scores' expects 2"),
        ({"scores/a.jsonl": b"[1]\n"}, "scores/a.jsonl:1: not a JSON object"),
    ],
)
def test_sql_egress_errors_write_nothing(lakefs, tmp_path, files, problem: str) -> None:
    from airflow_pachyderm.jobs.egress_sql import export_to_sql

    url = _scores_db(tmp_path / "db.sqlite")
    repo = make_repo(lakefs, files, "sql")
    kind = "JSON" if any(path.endswith(".jsonl") for path in files) else "CSV"
    with pytest.raises(EgressError, match=re.escape(problem)):
        export_to_sql(lakefs, repo, lakefs.resolve_ref(repo, "main"), url, "", kind, [])
    assert _table(tmp_path / "db.sqlite", "scores") == [("stale", 0)]


def test_sql_egress_without_a_driver_says_so(lakefs) -> None:
    from airflow_pachyderm.jobs.egress_sql import export_to_sql

    repo = make_repo(lakefs, {"t/a.csv": b"1\n"}, "sql")
    with pytest.raises(EgressError, match="no SQLAlchemy driver for 'snowflake'"):
        export_to_sql(lakefs, repo, lakefs.resolve_ref(repo, "main"),
                      "snowflake://me@account/db/PUBLIC?warehouse=W", "pw", "CSV", [])
