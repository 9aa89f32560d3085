"""kill -9 at every point of process and commit, then retry: exactly one correct commit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jobkit import make_repo, per_file_spec, unique

from airflow_pachyderm.jobs.job import JOB_BRANCH_PREFIX, job_id_for
from airflow_pachyderm.jobs.provenance import KEY_JOB

CRASHER = Path(__file__).with_name("crash_after.py")
COPY = ["sh", "-c", 'tr a-z A-Z < "$data" > "/pfs/out/$(basename "$data")"']


def _crash(tmp_path: Path, lakefs_server, **config) -> int:
    path = tmp_path / f"crash-{unique('cfg')}.json"
    path.write_text(json.dumps({
        "endpoint": lakefs_server.endpoint,
        "access_key_id": lakefs_server.access_key_id,
        "secret_access_key": lakefs_server.secret_access_key,
        **config,
    }))
    result = subprocess.run([sys.executable, str(CRASHER), str(path)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode not in (0, -9):
        raise AssertionError(result.stderr[-3000:])
    return result.returncode


def _job_commits(lakefs, repo: str, job_id: str) -> list[str]:
    return [c.id for c in lakefs.log_commits(repo, "main", first_parent=True)
            if c.metadata.get(KEY_JOB) == job_id]


def _assert_one_correct_commit(lakefs, spec, run_id: str, files: dict[str, bytes]) -> None:
    job_id = job_id_for(spec.dag_id, run_id)
    assert len(_job_commits(lakefs, spec.output_repo, job_id)) == 1
    for path, data in files.items():
        assert lakefs.read_bytes(spec.output_repo, "main", path) == data.upper()
    outputs = [o.path for o in lakefs.list_objects(spec.output_repo, "main")
               if not o.path.startswith("_pachyderm/")]
    assert sorted(outputs) == sorted(files)
    assert not list(lakefs.list_branches(spec.output_repo, prefix=JOB_BRANCH_PREFIX))
    assert not list(lakefs.list_objects(spec.output_repo, "main", prefix="_pachyderm/job/"))


@pytest.mark.slow
def test_kill_during_process_then_retry(lakefs, lakefs_server, driver, tmp_path) -> None:
    files = {f"{c}.txt": f"{c} data".encode() for c in "abcd"}
    data = make_repo(lakefs, files, "data")
    spec = per_file_spec("crashp", data, COPY, reprocessSpec="every_job")
    killed = 0
    for n in (1, 2, 4, 6):
        run_id = unique("run")
        _, batches = driver.plan(spec, run_id)
        code = _crash(tmp_path, lakefs_server, step="process", n=n, spec=spec.to_dict(),
                      batch=batches[0].to_xcom(), workdir=str(tmp_path / f"w{n}"),
                      cache=str(tmp_path / "cache"))
        killed += code == -9
        for batch in batches:  # the retry
            driver.process(spec, batch)
        driver.commit(spec, run_id)
        _assert_one_correct_commit(lakefs, spec, run_id, files)
    assert killed >= 3, "the crash points never hit a running process step"


@pytest.mark.slow
def test_kill_at_every_point_of_commit_then_retry(lakefs, lakefs_server, driver, tmp_path):
    files = {f"{c}.txt": f"{c} data".encode() for c in "xyz"}
    data = make_repo(lakefs, files, "data")
    spec = per_file_spec("crashc", data, COPY, reprocessSpec="every_job")
    n = 1
    while True:
        run_id = unique("run")
        _, batches = driver.plan(spec, run_id)
        for batch in batches:
            driver.process(spec, batch)
        code = _crash(tmp_path, lakefs_server, step="commit", n=n, spec=spec.to_dict(),
                      run_id=run_id)
        driver.commit(spec, run_id)  # the retry finishes whatever the crash left
        _assert_one_correct_commit(lakefs, spec, run_id, files)
        if code == 0:  # the commit step made fewer than n calls: every point was covered
            break
        n += 1
        assert n < 60, "commit makes implausibly many lakeFS calls"
    assert n > 5
