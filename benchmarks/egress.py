"""S3 egress after a job that changed one datum: files written and time, against rewriting all.

An output repo on the embedded lakeFS-compatible server holds ``--files`` files (one per
datum); it is exported to moto's standalone S3 server (tests/moto_s3.py) through the Amazon
provider's S3Hook. Then one file changes and one is removed, and the new commit is exported
again, twice: as egress does now (only what differs is written, removed files are deleted)
and as it did before (every file rewritten; measured by hiding the destination's
fingerprints from the same code). JSON lines ``{"benchmark": "egress", "metric", "value",
"unit", "baseline", "ratio", "target"}``, baseline = the rewrite-everything figure of the
same run. Needs the test extra (moto[server]).

    python benchmarks/egress.py [--files 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from figures import emit

from airflow_pachyderm.jobs.egress import Sink, Stored, mirror_commit
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from moto_s3 import moto_s3


class _Blind:
    """A sink whose files all look different: egress as it was, rewriting everything."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def write(self, path, fh) -> None:
        self.sink.write(path, fh)

    def existing(self) -> dict[str, Stored]:
        return {path: Stored(-1, "") for path in self.sink.existing()}

    def delete(self, paths: list[str]) -> None:
        self.sink.delete(paths)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--files", type=int, default=500, help="output files (500)")
    args = parser.parse_args(argv)
    if args.files < 3:
        parser.error("--files must be at least 3")
    from airflow_pachyderm.operators.egress import S3Sink

    with tempfile.TemporaryDirectory() as tmp, moto_s3(Path(tmp)) as s3, \
            LakeFSServerProcess() as server:  # fmt: skip
        os.environ["AIRFLOW_CONN_EGRESS_BENCH"] = s3.airflow_connection()
        s3.client().create_bucket(Bucket="egress-bench")
        client = LakeFSClient(
            LakeFSConfig(server.endpoint, server.access_key_id, server.secret_access_key)
        )
        client.create_repository("out")
        for index in range(args.files):
            client.upload("out", "main", f"d{index:05d}.json", b'{"score": %d}\n' % index)
        first = client.commit("out", "main", "a job's outputs").id
        client.upload("out", "main", "d00001.json", b'{"score": "changed"}\n')
        client.delete_object("out", "main", "d00002.json")
        second = client.commit("out", "main", "one datum changed, one removed").id

        def export(commit: str, blind: bool) -> tuple[float, tuple[int, int, int]]:
            sink: Sink = S3Sink("s3://egress-bench/run", "egress_bench")
            started = time.perf_counter()
            done = mirror_commit(client, "out", commit, _Blind(sink) if blind else sink)
            return time.perf_counter() - started, tuple(done)

        export(first, blind=False)
        now_time, now = export(second, blind=False)
        export(first, blind=True)  # back to the first commit, the old way
        old_time, old = export(second, blind=True)
        client.close()
    emit("egress", "files", args.files, "files")
    emit("egress", "files_written_one_changed", now[0], "files", baseline=old[0], target=1)
    emit("egress", "files_deleted_one_removed", now[1], "files", baseline=old[1], target=1)
    emit("egress", "seconds_one_changed", now_time, "s", baseline=round(old_time, 4))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
