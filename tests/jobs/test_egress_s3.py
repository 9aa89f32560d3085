"""S3 egress through the Amazon provider's S3Hook, against moto's standalone S3 server."""

from __future__ import annotations

import pytest
from jobkit import make_repo, per_file_spec

from airflow_pachyderm.jobs.egress import mirror_commit
from airflow_pachyderm.operators.egress import S3Sink

pytestmark = pytest.mark.docker

UPPER = ["sh", "-c", 'tr a-z A-Z < "$data" > "/pfs/out/$(basename "$data")"']


def _bucket(moto_server, name: str) -> dict[str, bytes]:
    s3 = moto_server.client()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
    return {k: s3.get_object(Bucket=name, Key=k)["Body"].read() for k in keys}


def test_s3_egress_writes_only_changes_and_deletes_removed_datums(
    lakefs, driver, moto_server, aws_conn
) -> None:
    files = {f"f{i}.txt": f"file {i}".encode() for i in range(5)}
    data = make_repo(lakefs, files)
    bucket = f"egress-{data}"
    spec = per_file_spec("s3", data, UPPER, egress={"URL": f"s3://{bucket}/exports/run"})
    s3 = moto_server.client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="exports/run/stale.txt", Body=b"an earlier export")
    s3.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"not under the prefix")

    first = driver.run(spec).commit
    assert mirror_commit(lakefs, spec.output_repo, first, S3Sink(spec.egress.url, aws_conn)) == (
        5, 1, 0,
    )  # fmt: skip
    assert _bucket(moto_server, bucket) == {
        "elsewhere.txt": b"not under the prefix",
        **{f"exports/run/f{i}.txt": f"FILE {i}".encode() for i in range(5)},
    }

    # One datum changes, one goes away: one upload, one deletion, the rest left alone.
    lakefs.upload(data, "main", "f1.txt", b"file one, changed")
    lakefs.delete_object(data, "main", "f3.txt")
    lakefs.commit(data, "main", "change f1, remove f3")
    second = driver.run(spec).commit
    sink = S3Sink(spec.egress.url, aws_conn)
    assert mirror_commit(lakefs, spec.output_repo, second, sink) == (1, 1, 3)
    assert _bucket(moto_server, bucket) == {
        "elsewhere.txt": b"not under the prefix",
        "exports/run/f0.txt": b"FILE 0",
        "exports/run/f1.txt": b"FILE ONE, CHANGED",
        "exports/run/f2.txt": b"FILE 2",
        "exports/run/f4.txt": b"FILE 4",
    }
    # A retry finds everything in place; an object changed behind our back is put right.
    assert mirror_commit(lakefs, spec.output_repo, second, sink) == (0, 0, 4)
    s3.put_object(Bucket=bucket, Key="exports/run/f2.txt", Body=b"FILE X")
    assert mirror_commit(lakefs, spec.output_repo, second, sink) == (1, 0, 3)
    assert _bucket(moto_server, bucket)["exports/run/f2.txt"] == b"FILE 2"
