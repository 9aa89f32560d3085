"""Datum batching: the example transform walks the batch's datums in one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_pachyderm.runners.base import DatumWork

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).parents[2] / "dags_examples" / "batching" / "process_batch.py"


@pytest.mark.parametrize("supervisor", [True, False], ids=["supervisor", "exec"])
def test_example_transform_writes_each_datums_outputs(harness, supervisor: bool) -> None:
    code = harness.file("code", "process_batch.py", EXAMPLE.read_text())
    texts = {
        "d-one": {"a.txt": "the cat\nsat\n"},
        "d-two": {"b.txt": "a dog and a cat"},
        "d-three": {"c/d.txt": "nothing here", "c/e.txt": "of mice"},
    }
    datums = [
        DatumWork(
            datum_id,
            [code, *(harness.file("texts", path, body) for path, body in files.items())],
        )
        for datum_id, files in texts.items()
    ]
    result = harness.run(
        datums,
        ["python3", "/pfs/code/process_batch.py"],
        supervisor=supervisor,
        datum_batching=True,
        env={"STOPWORDS": "the a and of"},
    )
    by_id = {r.datum_id: r for r in result.datums}
    assert [r.status for r in result.datums] == ["success"] * 3
    assert by_id["d-one"].output_paths == ["a.txt.json"]
    assert by_id["d-three"].output_paths == ["c/d.txt.json", "c/e.txt.json"]
    stats = json.loads((by_id["d-two"].output_dir / "b.txt.json").read_text())
    assert stats == {"datum_id": "d-two", "lines": 1, "words": 5, "stopwords": ["a", "and"]}
    stats = json.loads((by_id["d-one"].output_dir / "a.txt.json").read_text())
    assert stats == {"datum_id": "d-one", "lines": 2, "words": 3, "stopwords": ["the"]}
    # One process for the batch: the script's per-datum lines share the batch prefix.
    batch_lines = [line for line in harness.log_lines if line.startswith("[batch d-one")]
    assert batch_lines[-3:] == [
        "[batch d-one+2] datum d-one: 1 file(s)",
        "[batch d-one+2] datum d-two: 1 file(s)",
        "[batch d-one+2] datum d-three: 2 file(s)",
    ]


def test_manifest_describes_each_datum(harness) -> None:
    datums = [
        DatumWork("x1", [harness.file("in", "p/1.txt", "1", commit="c1")]),
        DatumWork("x2", [harness.file("in", "p/2.txt", "2", commit="c2")]),
    ]
    code = (
        "import os, shutil\n"
        "for line in open(os.environ['PACH_DATUMS_FILE']):\n"
        "    import json; d = json.loads(line)\n"
        "    open(os.path.join(d['out'], 'entry.json'), 'w').write(line)\n"
        "    open(os.path.join(d['out'], 'count'), 'w').write(os.environ['PACH_DATUM_COUNT'])\n"
    )
    results = harness.run(datums, ["python3", "-c", code], datum_batching=True).datums
    entry = json.loads((results[1].output_dir / "entry.json").read_text())
    assert entry == {
        "datum_id": "x2",
        "index": 1,
        "inputs": {"in": "/pfs/.batch/in/000001/in"},
        "env": {
            "PACH_DATUM_ID": "x2",
            "in": "/pfs/.batch/in/000001/in/p/2.txt",
            "in_COMMIT": "c2",
        },
        "out": "/pfs/.batch/out/000001",
    }
    assert (results[0].output_dir / "count").read_text() == "2"


def test_failed_batch_fails_every_datum_after_its_tries(harness) -> None:
    datums = [harness.datum("b1", {}), harness.datum("b2", {})]
    code = "print('boom'); raise SystemExit(5)"
    results = harness.run(
        datums, ["python3", "-c", code], datum_batching=True, datum_tries=2
    ).datums
    assert [(r.status, r.exit_code, r.tries) for r in results] == [("failed", 5, 2)] * 2
    assert all("in a failed datum batch" in r.error and "boom" in r.error for r in results)
    assert "batch failed (exit code 5), retrying" in harness.log_text


def test_bad_output_fails_only_its_datum(harness) -> None:
    datums = [harness.datum("good", {}), harness.datum("evil", {})]
    code = (
        "import json, os\n"
        "for line in open(os.environ['PACH_DATUMS_FILE']):\n"
        "    d = json.loads(line)\n"
        "    open(d['out'] + '/f', 'w').write('x')\n"
        "    if d['datum_id'] == 'evil': os.symlink('/etc/passwd', d['out'] + '/l')\n"
    )
    good, evil = harness.run(datums, ["python3", "-c", code], datum_batching=True).datums
    assert (good.status, good.output_paths) == ("success", ["f"])
    assert evil.status == "failed"
    assert "datum evil: /pfs/out/l: symbolic links" in evil.error
