"""Batches for Airflow's mapped tasks, and the job datum file they are read from."""

from __future__ import annotations

import gzip
import io
import json
import random

import pytest

from airflow_pachyderm.datums import (
    MAX_MAPPED_TASKS,
    Batch,
    Datum,
    DatumError,
    DatumFile,
    ManifestError,
    deserialize_datums,
    make_batches,
    plan_job,
    read_batch,
    serialize_datums,
)


def make_datums(count: int, sizes: list[int] | None = None) -> list[Datum]:
    return [
        Datum(
            f"{index:064x}",
            (DatumFile("in", "repo", "c1", f"f{index}", "ck", sizes[index] if sizes else 1,
                       f"f{index}", index % 2 == 0, index % 3 == 0),),
        )
        for index in range(count)
    ]


def flatten(batches: list[Batch]) -> list[str]:
    return [datum_id for batch in batches for datum_id in batch.datum_ids]


def test_one_batch_per_parallel_worker_in_order() -> None:
    datums = make_datums(10)
    batches = make_batches(datums, parallelism=4)
    assert [len(b.datum_ids) for b in batches] == [3, 3, 2, 2]
    assert [b.index for b in batches] == [0, 1, 2, 3]
    assert flatten(batches) == [d.id for d in datums]


def test_fewer_datums_than_workers_and_no_datums() -> None:
    assert [len(b.datum_ids) for b in make_batches(make_datums(2), parallelism=8)] == [1, 1]
    assert make_batches([], parallelism=8) == []


def test_batch_size_and_the_1024_cap() -> None:
    datums = make_datums(5000)
    by_size = make_batches(datums, parallelism=2, batch_size=10)
    assert len(by_size) == 500 and {len(b.datum_ids) for b in by_size} == {10}
    capped = make_batches(datums, parallelism=2, batch_size=1)
    assert len(capped) == MAX_MAPPED_TASKS == 1024
    assert flatten(capped) == [d.id for d in datums]
    assert max(len(b.datum_ids) for b in capped) - min(len(b.datum_ids) for b in capped) <= 1
    assert len(make_batches(datums, parallelism=5000, max_batches=7)) == 7


def test_planned_datums_are_accepted() -> None:
    plan = plan_job(make_datums(6), None, salt="s")
    batches = make_batches(plan.to_process, parallelism=3)
    assert flatten(batches) == [p.id for p in plan.to_process]


def test_balance_by_size() -> None:
    sizes = [100, 1, 1, 1, 1, 50, 50, 1]
    datums = make_datums(len(sizes), sizes)
    batches = make_batches(datums, parallelism=2, balance="size")
    assert sorted(b.size for b in batches) == [102, 103]
    assert sorted(flatten(batches)) == sorted(d.id for d in datums)
    for batch in batches:  # job order kept inside a batch
        positions = [int(datum_id, 16) for datum_id in batch.datum_ids]
        assert positions == sorted(positions)


def test_random_batches_cover_every_datum_once() -> None:
    for seed in range(30):
        rng = random.Random(seed)
        count = rng.randint(1, 3000)
        datums = make_datums(count, [rng.randint(0, 10_000) for _ in range(count)])
        parallelism = rng.randint(1, 2000)
        batch_size = rng.choice([None, rng.randint(1, 50)])
        balance = rng.choice(["count", "size"])
        batches = make_batches(datums, parallelism=parallelism, batch_size=batch_size,
                               balance=balance)
        assert 1 <= len(batches) <= MAX_MAPPED_TASKS
        assert all(batch.datum_ids for batch in batches)
        assert sorted(flatten(batches)) == sorted(d.id for d in datums)
        if batch_size is None:
            assert len(batches) == min(parallelism, count, MAX_MAPPED_TASKS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parallelism": 0}, "parallelism must be at least 1"),
        ({"parallelism": 1, "max_batches": 0}, "max_batches must be at least 1"),
        ({"parallelism": 1, "batch_size": 0}, "batch_size must be at least 1"),
        ({"parallelism": 1, "balance": "bytes"}, "balance must be 'count' or 'size'"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(DatumError, match=message):
        make_batches(make_datums(3), **kwargs)


def test_batch_json_round_trip_and_validation() -> None:
    batch = make_batches(make_datums(3), parallelism=1)[0]
    assert Batch.from_dict(json.loads(json.dumps(batch.to_dict()))) == batch
    with pytest.raises(DatumError, match="'index' must be a non-negative integer"):
        Batch.from_dict({"index": -1, "datum_ids": []})
    with pytest.raises(DatumError, match="batch 2: field 'datum_ids' must be a list of strings"):
        Batch.from_dict({"index": 2, "datum_ids": [1]})
    with pytest.raises(DatumError, match="batch must be an object"):
        Batch.from_dict([1])


def serialized(datums: list) -> bytes:
    buffer = io.BytesIO()
    assert serialize_datums(buffer, datums) == len(datums)
    return buffer.getvalue()


def test_datums_file_round_trip_and_batch_read() -> None:
    datums = make_datums(50)
    data = serialized(datums)
    assert list(deserialize_datums(io.BytesIO(data))) == datums
    batches = make_batches(datums, parallelism=4, balance="size")
    for batch in batches:
        got = read_batch(io.BytesIO(data), batch)
        assert [d.id for d in got] == list(batch.datum_ids)
        assert got[0].files[0].container_path.startswith("/pfs/in/")
    plan = plan_job(datums, None, salt="s")
    assert list(deserialize_datums(io.BytesIO(serialized(plan.to_process)))) == datums


def test_batch_of_another_job_is_detected() -> None:
    data = serialized(make_datums(3))
    with pytest.raises(ManifestError, match="batch 0 lists 1 datum"):
        read_batch(io.BytesIO(data), Batch(0, ("f" * 64,)))


def test_malformed_datum_file() -> None:
    header = b'{"format": "airflow-pachyderm.datums", "version": 1}\n'
    bad_row = b'{"id": "x", "files": [["in", "r", "c", "p", "ck", "big", "", false, false]]}\n'
    with pytest.raises(ManifestError, match=r"job.gz: line 2: file 'p': value 'big' must be int"):
        list(deserialize_datums(io.BytesIO(gzip.compress(header + bad_row)), source="job.gz"))
    short = b'{"id": "x", "files": [["in"]]}\n'
    with pytest.raises(ManifestError, match="each file must be a list of 9 values"):
        list(deserialize_datums(io.BytesIO(gzip.compress(header + short))))
    with pytest.raises(ManifestError, match=r"not a airflow-pachyderm\.datums file"):
        list(deserialize_datums(io.BytesIO(gzip.compress(b'{"format": "x", "version": 1}\n'))))
