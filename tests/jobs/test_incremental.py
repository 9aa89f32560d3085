"""Jobs end to end with real containers: incremental processing and provenance."""

from __future__ import annotations

import gzip
import json

import pytest
from jobkit import make_repo, per_file_spec, pipeline_spec, unique

from airflow_pachyderm.datums import read_manifest
from airflow_pachyderm.datums.manifest import MANIFEST_PATH
from airflow_pachyderm.jobs.job import JOB_BRANCH_PREFIX, job_id_for
from airflow_pachyderm.jobs.plan import JobInputError
from airflow_pachyderm.jobs.process import DatumFailedError
from airflow_pachyderm.jobs.provenance import Provenance

# Upper-cases each datum's file into /pfs/out/<name>.upper (sh + tr: fast to start).
UPPER = ["sh", "-c", 'tr a-z A-Z < "$data" > "/pfs/out/$(basename "$data").upper"']


def _outputs(client, repo: str, ref: str) -> dict[str, str]:
    return {
        o.path: o.checksum
        for o in client.list_objects(repo, ref)
        if not o.path.startswith("_pachyderm/")
    }


def _manifest(client, repo: str, ref: str):
    import io

    return read_manifest(io.BytesIO(client.read_bytes(repo, ref, MANIFEST_PATH)))


@pytest.mark.slow
def test_200_files_then_change_add_delete_reprocesses_exactly_two(lakefs, driver) -> None:
    files = {f"f{i:03d}.txt": f"file {i}\n".encode() for i in range(200)}
    data = make_repo(lakefs, files, "data")
    spec = per_file_spec("upper", data, UPPER, datumSetSpec={"number": 50})

    first = driver.run(spec)
    prov = first.provenance
    assert prov.datums["processed"] == 200 and prov.datums["skipped"] == 0
    before = _outputs(lakefs, spec.output_repo, first.commit)
    assert len(before) == 200
    assert lakefs.read_bytes(spec.output_repo, first.commit, "f007.txt.upper") == b"FILE 7\n"

    lakefs.upload(data, "main", "f010.txt", b"changed ten\n")
    lakefs.upload(data, "main", "f200.txt", b"brand new\n")
    lakefs.delete_object(data, "main", "f020.txt")
    data_commit = lakefs.commit(data, "main", "change one, add one, delete one").id

    second = driver.run(spec)
    counts = second.provenance.datums
    assert (counts["processed"], counts["skipped"], counts["deleted"]) == (2, 198, 1)
    after = _outputs(lakefs, spec.output_repo, second.commit)
    assert set(after) == (set(before) - {"f020.txt.upper"}) | {"f200.txt.upper"}
    assert lakefs.read_bytes(spec.output_repo, "main", "f010.txt.upper") == b"CHANGED TEN\n"
    assert lakefs.read_bytes(spec.output_repo, "main", "f200.txt.upper") == b"BRAND NEW\n"
    unchanged = set(before) - {"f010.txt.upper", "f020.txt.upper"}
    assert all(after[path] == before[path] for path in unchanged)

    # Every output traces back to its datum and the exact input commit.
    manifest = _manifest(lakefs, spec.output_repo, second.commit)
    entry = manifest.datum_for_output("f010.txt.upper")
    assert [(i.repo, i.commit, i.path) for i in entry.inputs] == [(data, data_commit, "f010.txt")]
    assert len(manifest) == 200
    # No staging branch or job state is left behind.
    assert not [b.id for b in lakefs.list_branches(spec.output_repo, prefix=JOB_BRANCH_PREFIX)]
    assert not list(lakefs.list_objects(spec.output_repo, "main", prefix="_pachyderm/job/"))


@pytest.mark.slow
def test_provenance_metadata_records_every_input(lakefs, driver) -> None:
    data = make_repo(lakefs, {"a.txt": b"a\n", "b.txt": b"b\n"}, "data")
    params = make_repo(lakefs, {"params.json": b'{"k": 1}'}, "params")
    spec = pipeline_spec(
        unique("prov"),
        {"cross": [{"pfs": {"repo": data, "name": "data", "glob": "/*"}},
                   {"pfs": {"repo": params, "name": "params", "glob": "/"}}]},
        UPPER,
        transform={"env": {"MODE": "upper"}},
    )
    run_id = unique("run")
    result = driver.run(spec, run_id=run_id)
    meta = lakefs.get_commit(spec.output_repo, result.commit).metadata
    assert meta["pachyderm.pipeline"] == spec.name
    assert meta["pachyderm.job"] == job_id_for(spec.dag_id, run_id)
    assert meta["pachyderm.spec_hash"] == spec.spec_hash()
    assert meta["pachyderm.image"] == "airflow-pachyderm/python:latest"
    assert meta["pachyderm.input.data"] == f"{data}@{lakefs.resolve_ref(data, 'main')}"
    assert meta["pachyderm.input.params"] == f"{params}@{lakefs.resolve_ref(params, 'main')}"
    assert meta["pachyderm.input.params.branch"] == "main"
    assert meta["pachyderm.datums.processed"] == "2"
    assert meta["airflow.run_id"] == run_id and meta["airflow.dag_id"] == spec.dag_id
    assert all(isinstance(v, str) for v in meta.values())
    assert Provenance.from_metadata(meta).input("data").repo == data

    # A change in the input every datum shares reprocesses every datum.
    lakefs.upload(params, "main", "params.json", b'{"k": 2}')
    lakefs.commit(params, "main", "new params")
    again = driver.run(spec)
    assert again.provenance.datums["processed"] == 2
    # Nothing changed: nothing processed, but the job still records its inputs.
    idle = driver.run(spec)
    assert idle.provenance.datums["processed"] == 0
    assert idle.provenance.datums["skipped"] == 2
    assert idle.commit != again.commit


@pytest.mark.slow
def test_reprocess_modes_and_pinned_inputs(lakefs, driver) -> None:
    data = make_repo(lakefs, {f"{c}.txt": c.encode() for c in "abc"}, "data")
    spec = per_file_spec("modes", data, UPPER)
    first = driver.run(spec)
    manifest = _manifest(lakefs, spec.output_repo, first.commit)
    one = next(iter(manifest))
    assert driver.run(spec, reprocess="all").provenance.datums["processed"] == 3
    assert driver.run(spec, reprocess={one}).provenance.datums["processed"] == 1
    # The 12-hex prefix the logs print names the datum too.
    assert driver.run(spec, reprocess={one[:12]}).provenance.datums["processed"] == 1
    with pytest.raises(JobInputError, match="'ffff0000'"):
        driver.plan(spec, unique("unknown-prefix"), reprocess={"ffff0000"})

    old = lakefs.resolve_ref(data, "main")
    lakefs.upload(data, "main", "a.txt", b"new a")
    lakefs.commit(data, "main", "new a")
    # Recompute history into a side branch: the old input commit, main untouched.
    head = lakefs.resolve_ref(spec.output_repo, "main")
    side = driver.run(spec, input_refs={"data": old}, output_branch="replay")
    assert side.branch == "replay"
    assert side.provenance.input("data").commit == old
    assert lakefs.resolve_ref(spec.output_repo, "main") == head
    assert lakefs.read_bytes(spec.output_repo, "replay", "a.txt.upper") == b"A"


@pytest.mark.slow
def test_failing_datum_fails_the_job_and_leaves_output_untouched(lakefs, driver) -> None:
    data = make_repo(lakefs, {"good.txt": b"ok\n", "bad.txt": b"FAIL\n"}, "data")
    cmd = ["sh", "-c", 'if grep -q FAIL "$data"; then echo "cannot handle $data" >&2; exit 3; fi;'
                       ' cp "$data" /pfs/out/']
    spec = per_file_spec("fails", data, cmd, datumTries=2)
    run_id = unique("run")
    _, batches = driver.plan(spec, run_id)
    head = lakefs.resolve_ref(spec.output_repo, "main")
    with pytest.raises(DatumFailedError) as info:
        for batch in batches:
            driver.process(spec, batch)
    message = str(info.value)
    assert "bad.txt" in message and "exit" in message.lower() and "cannot handle" in message
    with pytest.raises(RuntimeError, match="failed"):
        driver.commit(spec, run_id)
    assert lakefs.resolve_ref(spec.output_repo, "main") == head
    assert not lakefs.exists(spec.output_repo, "main", "good.txt")


@pytest.mark.slow
def test_two_datums_writing_one_path_is_refused(lakefs, driver) -> None:
    data = make_repo(lakefs, {"a.txt": b"a", "b.txt": b"b"}, "data")
    spec = per_file_spec("clash", data, ["sh", "-c", "echo x > /pfs/out/same.txt"])
    with pytest.raises(Exception, match=r"same\.txt") as info:
        driver.run(spec)
    assert "datum" in str(info.value)
    assert not lakefs.exists(spec.output_repo, "main", "same.txt")


def test_manifest_is_gzip_json_lines(lakefs, driver) -> None:
    data = make_repo(lakefs, {"x.txt": b"x"}, "data")
    spec = per_file_spec("mf", data, UPPER)
    result = driver.run(spec)
    raw = gzip.decompress(lakefs.read_bytes(spec.output_repo, result.commit, MANIFEST_PATH))
    lines = [json.loads(line) for line in raw.splitlines()]
    assert lines[0]["format"] == "airflow-pachyderm.datum-manifest"
    assert lines[1]["outputs"] == ["x.txt.upper"]


@pytest.mark.slow
def test_commit_refuses_when_the_output_branch_moved(lakefs, driver) -> None:
    from airflow_pachyderm.jobs.commit import OutputBranchMovedError

    data = make_repo(lakefs, {"a.txt": b"a"}, "data")
    spec = per_file_spec("moved", data, UPPER)
    run_id = unique("run")
    _, batches = driver.plan(spec, run_id)
    for batch in batches:
        driver.process(spec, batch)
    # Another writer commits to the output branch while the job runs.
    lakefs.upload(spec.output_repo, "main", "intruder.txt", b"x")
    intruder = lakefs.commit(spec.output_repo, "main", "someone else").id
    with pytest.raises(OutputBranchMovedError, match="moved"):
        driver.commit(spec, run_id)
    assert lakefs.resolve_ref(spec.output_repo, "main") == intruder
    assert not lakefs.exists(spec.output_repo, "main", "a.txt.upper")


@pytest.mark.slow
def test_cleared_run_replans_and_commits_again(lakefs, driver) -> None:
    """Clearing a finished DAG run keeps its run id; the new attempt must not be skipped."""
    data = make_repo(lakefs, {"a.txt": b"a"}, "data")
    spec = per_file_spec("clear", data, UPPER)
    first = driver.run(spec, run_id="same-run")
    lakefs.upload(data, "main", "b.txt", b"b")
    lakefs.commit(data, "main", "b")
    second = driver.run(spec, run_id="same-run")
    assert second.commit != first.commit
    assert second.provenance.job == first.provenance.job
    assert second.provenance.plan != first.provenance.plan
    assert lakefs.read_bytes(spec.output_repo, "main", "b.txt.upper") == b"B"


@pytest.mark.slow
def test_files_left_by_an_earlier_try_do_not_reach_the_commit(lakefs, driver) -> None:
    from airflow_pachyderm.jobs.job import staging_branch_for

    data = make_repo(lakefs, {"a.txt": b"a"}, "data")
    spec = per_file_spec("stray", data, UPPER)
    run_id = unique("run")
    record, batches = driver.plan(spec, run_id)
    # What a first try that wrote other files, then failed, leaves on the staging branch.
    lakefs.upload(spec.output_repo, staging_branch_for(record.job_id), "a.txt.partial", b"x")
    for batch in batches:
        driver.process(spec, batch)
    result = driver.commit(spec, run_id)
    paths = [o.path for o in lakefs.list_objects(spec.output_repo, result.commit)]
    assert "a.txt.upper" in paths and "a.txt.partial" not in paths


@pytest.mark.slow
def test_cron_ticks_only_on_scheduled_runs_and_pins_are_recorded(lakefs, driver) -> None:
    from datetime import datetime, timezone

    from airflow_pachyderm.jobs.convert import cron_repo

    data = make_repo(lakefs, {"a.txt": b"a"}, "data")
    spec = pipeline_spec(
        unique("tick"),
        {"cross": [{"pfs": {"repo": data, "name": "data", "glob": "/*"}},
                   {"cron": {"name": "tick", "spec": "@hourly"}}]},
        ["sh", "-c", 'cat "$data" > /pfs/out/a.txt; ls /pfs/tick > /pfs/out/ticks.txt'],
    )
    ticks = cron_repo(spec.output_repo, "tick")
    nine = datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
    first = driver.run(spec, run_id="scheduled-9", tick=nine, scheduled=True)
    assert lakefs.read_bytes(spec.output_repo, "main", "ticks.txt") == b"2026-01-01T09:00:00Z\n"
    tick_commit = lakefs.resolve_ref(ticks, "main")
    assert first.provenance.input("tick").commit == tick_commit
    # A retried plan of the same scheduled run, and a manual run, add no tick.
    driver.plan(spec, "scheduled-9", tick=nine, scheduled=True)
    manual = driver.run(spec, run_id=unique("manual"), tick=datetime.now(timezone.utc))
    assert lakefs.resolve_ref(ticks, "main") == tick_commit
    assert manual.provenance.datums["processed"] == 0

    pinned = driver.run(spec, input_refs={"data": "main"}, reprocess="all")
    prov = pinned.provenance.input("data")
    assert (prov.pinned_ref, prov.branch) == ("main", "")
    meta = lakefs.get_commit(spec.output_repo, pinned.commit).metadata
    assert meta["pachyderm.input.data.ref"] == "main"
    assert "pachyderm.input.data.branch" not in meta


def test_branches_of_dead_jobs_are_removed_after_a_week(lakefs, driver) -> None:
    import dataclasses
    import time

    from airflow_pachyderm.jobs.job import PLAN_PATH

    data = make_repo(lakefs, {"a.txt": b"a"}, "data")
    spec = per_file_spec("dead", data, UPPER)
    old, _ = driver.plan(spec, unique("old"))
    aged = dataclasses.replace(old, created_at=time.time() - 8 * 24 * 3600)
    lakefs.upload(spec.output_repo, old.state_branch, PLAN_PATH, aged.to_json())
    recent, _ = driver.plan(spec, unique("recent"))  # failed yesterday, say: kept
    newest, _ = driver.plan(spec, unique("newest"))
    branches = {b.id for b in lakefs.list_branches(spec.output_repo, prefix=JOB_BRANCH_PREFIX)}
    assert old.state_branch not in branches and old.staging_branch not in branches
    for record in (recent, newest):
        assert {record.state_branch, record.staging_branch} <= branches


@pytest.mark.slow
def test_errcmd_recovered_datums_are_marked_and_reprocess_failed_retries_them(lakefs, driver):
    data = make_repo(lakefs, {"good.txt": b"ok", "bad.txt": b"FAIL"}, "data")
    spec = per_file_spec(
        "recover", data,
        ["sh", "-c", 'grep -q FAIL "$data" && exit 4; cp "$data" /pfs/out/'],
        datumTries=1, transform={"errCmd": ["true"]},
    )
    first = driver.run(spec)
    assert first.provenance.datums["recovered"] == 1
    assert first.provenance.datums["processed"] == 2
    manifest = _manifest(lakefs, spec.output_repo, first.commit)
    assert sorted(e.failed for e in manifest.values()) == [False, True]
    assert lakefs.exists(spec.output_repo, "main", "good.txt")
    assert not lakefs.exists(spec.output_repo, "main", "bad.txt")
    assert driver.run(spec).provenance.datums["processed"] == 0
    again = driver.run(spec, reprocess="failed")
    assert again.provenance.datums["processed"] == 1
    assert again.provenance.datums["recovered"] == 1
