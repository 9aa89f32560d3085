"""The job's state records: typed, and readable in the shape earlier versions wrote."""

from __future__ import annotations

import json

from airflow_pachyderm.datums.manifest import ManifestEntry, ManifestInput, complete_entries
from airflow_pachyderm.jobs.state import BatchRecord, DatumRecord, JobPhase


def test_batch_record_round_trips() -> None:
    record = BatchRecord(
        index=3,
        datums={
            "a" * 64: DatumRecord("success", ("x.txt", "y.txt"), 0, 1, 0.25, None),
            "b" * 64: DatumRecord("failed", (), 3, 2, 1.5, "exit 3"),
        },
    )
    assert BatchRecord.from_json(record.to_json()) == record


def test_batch_record_reads_the_untyped_shape_written_before() -> None:
    old = {"index": 0, "datums": {"c" * 64: {
        "status": "recovered", "outputs": [], "exit_code": 1, "tries": 1,
        "duration_s": 0.1, "error": "boom",
    }}}
    record = BatchRecord.from_json(json.dumps(old).encode())
    assert record.datums["c" * 64] == DatumRecord("recovered", (), 1, 1, 0.1, "boom")


def test_complete_entries_fills_in_processed_datums_only() -> None:
    inputs = (ManifestInput("in", "repo", "c1", "a"),)
    skipped = ManifestEntry("s", "h1", inputs, ("old.txt",))
    processed = ManifestEntry("p", "h2", inputs)
    done = list(complete_entries([skipped, processed], {"p": (["b", "a"], True)}))
    assert done == [skipped, processed._replace(outputs=("a", "b"), failed=True)]


def test_job_phases_are_named() -> None:
    assert [p.value for p in JobPhase] == ["missing", "planned", "staged", "merged"]
