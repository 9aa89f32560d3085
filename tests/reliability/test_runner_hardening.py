"""Causes 14-15: a datum cannot take the host down or gain privileges, and what it writes to
/pfs/out is published faithfully or refused with a datum error naming the file.

Real Docker, real containers (these fail, not skip, without Docker).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import textwrap
from pathlib import Path

import pytest

from airflow_pachyderm.jobs.convert import transform_spec
from airflow_pachyderm.runners.base import (
    DEFAULT_PIDS_LIMIT,
    BatchResult,
    DatumWork,
    JobContext,
    RunnerError,
    TransformSpec,
)
from airflow_pachyderm.runners.docker import DockerRunner, cleanup_job_containers
from airflow_pachyderm.spec import load_specs

PYTHON_IMAGE = "airflow-pachyderm/python:latest"
REPO = Path(__file__).parents[2]

# Forks children that sleep until killed, as many as the kernel lets it (up to 2000), then
# reports how many it got and kills them.
FORK_BOMB = """
import json, os, signal, time
children = []
error = None
for _ in range(2000):
    try:
        pid = os.fork()
    except OSError as exc:
        error = exc.errno
        break
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
json.dump({"forked": len(children), "errno": error}, open("/pfs/out/report.json", "w"))
"""

PRIVILEGES = """
import json
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
report = {k: status[k].strip() for k in ("NoNewPrivs", "CapEff", "CapPrm", "CapBnd", "Uid")}
json.dump(report, open("/pfs/out/report.json", "w"))
"""


def run(tmp_path: Path, api, code: str, datum_ids=("d1",), **spec) -> BatchResult:
    job_id = f"rel-{secrets.token_hex(6)}"
    spec.setdefault("image", PYTHON_IMAGE)
    transform = TransformSpec(cmd=["python3", "-c", textwrap.dedent(code)], **spec)
    job = JobContext(job_id=job_id, pipeline="hardening", workdir=tmp_path / "work")
    try:
        runner = DockerRunner(api=api)
        return runner.run_batch(transform, job, [DatumWork(d, []) for d in datum_ids])
    finally:
        cleanup_job_containers(job_id, api)


def report(result: BatchResult) -> dict:
    (datum,) = result.datums
    assert datum.status == "success", (datum.error, datum.log_tail)
    return json.loads((datum.output_dir / "report.json").read_text())


# ---------------------------------------------------------------- 14: limits and privileges


@pytest.mark.parametrize("limit", [None, 64])
def test_process_count_is_limited(tmp_path: Path, docker_api, limit: int | None) -> None:
    spec = {} if limit is None else {"pids_limit": limit}
    found = report(run(tmp_path, docker_api, FORK_BOMB, **spec))
    expected = limit or DEFAULT_PIDS_LIMIT
    assert found["errno"] == 11  # EAGAIN: the cgroup's pids limit, not our loop's end
    assert expected - 16 <= found["forked"] < expected


def test_spec_pids_limit_reaches_the_runner(tmp_path: Path) -> None:
    base = (
        "pipeline: {name: pids-%s}\ninput: {pfs: {repo: data, glob: /}}\n"
        "transform: {image: x, cmd: [a]}\n"
    )
    (tmp_path / "a.yaml").write_text(base % "a" + "resourceLimits: {pids: 64}\n")
    (tmp_path / "b.yaml").write_text(base % "b")
    limits = {s.name: transform_spec(s).pids_limit for s in load_specs(tmp_path)}
    assert limits == {"pids-a": 64, "pids-b": DEFAULT_PIDS_LIMIT}
    # The documented default is the one the runner uses.
    assert f"at most {DEFAULT_PIDS_LIMIT} processes" in (
        REPO / "airflow_pachyderm" / "runners" / "README.md"
    ).read_text().replace("\n", " ")


@pytest.mark.parametrize("user", [None, "0:0", "root"])
def test_no_capabilities_and_no_new_privileges_for_any_user(
    tmp_path: Path, docker_api, caplog: pytest.LogCaptureFixture, user: str | None
) -> None:
    with caplog.at_level(logging.WARNING, logger="airflow_pachyderm.runners"):
        found = report(run(tmp_path, docker_api, PRIVILEGES, user=user))
    assert found["NoNewPrivs"] == "1"
    assert found["CapEff"] == found["CapPrm"] == found["CapBnd"] == "0000000000000000"
    root = user is not None
    assert (found["Uid"].split()[0] == "0") is root
    warned = [r.getMessage() for r in caplog.records if "runs the transform as root" in r.message]
    assert len(warned) == (1 if root else 0)


# ---------------------------------------------------------------- 15: output names and links


@pytest.mark.parametrize("batching", [False, True], ids=["per-datum", "batched"])
@pytest.mark.parametrize(
    ("name", "shown"),
    [(b"bad\xff.txt", "bad\\xff.txt"), (b"d\xfe\xfe/x.txt", "d\\xfe\\xfe"),
     (b"ok/\xed\xa0\x80", "ok/\\xed\\xa0\\x80")],
)  # fmt: skip
def test_output_name_that_is_not_utf8_is_a_datum_error_naming_it(
    tmp_path: Path, docker_api, name: bytes, shown: str, batching: bool
) -> None:
    code = f"""
    import json, os
    def write(out):
        target = os.path.join(os.fsencode(out), {name!r})
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "wb").write(b"x")
        open(os.path.join(out, "fine.txt"), "w").write("fine")
    if {batching!r}:
        for line in open(os.environ["PACH_DATUMS_FILE"]):
            write(json.loads(line)["out"])
    else:
        write("/pfs/out")
    """
    result = run(tmp_path, docker_api, code, datum_batching=batching)
    (datum,) = result.datums
    assert datum.status == "failed"
    assert f"/pfs/out/{shown}" in datum.error and "must be valid UTF-8" in datum.error, datum.error
    assert "Traceback" not in datum.error


def test_hard_links_in_out_are_published_as_plain_files(tmp_path: Path, docker_api) -> None:
    code = """
    import json, os
    open("/pfs/out/a.txt", "w").write("shared")
    os.makedirs("/pfs/out/sub")
    os.link("/pfs/out/a.txt", "/pfs/out/sub/b.txt")
    try:
        os.link("/etc/passwd", "/pfs/out/passwd")
        outside = "linked"
    except OSError as exc:
        outside = exc.errno
    json.dump({"outside": outside}, open("/pfs/out/report.json", "w"))
    """
    result = run(tmp_path, docker_api, code)
    found = report(result)
    (datum,) = result.datums
    # /pfs/out is its own mount: a link to anything outside it is impossible (EXDEV).
    assert found["outside"] == 18
    assert datum.output_paths == ["a.txt", "report.json", "sub/b.txt"]
    assert (datum.output_dir / "sub" / "b.txt").read_text() == "shared"
    # The documents say what the check does.
    docs = (REPO / "airflow_pachyderm" / "runners" / "README.md").read_text()
    assert "Hard links are accepted" in docs and "no links" not in (REPO / "README.md").read_text()
    assert os.path.samefile(datum.output_dir / "a.txt", datum.output_dir / "sub" / "b.txt")


def test_limits_beyond_the_docker_host_are_a_clear_runner_error(tmp_path: Path, docker_api) -> None:
    cpus = docker_api.info()["NCPU"]
    with pytest.raises(RunnerError, match=r"Docker refused the container .*CPUs"):
        run(tmp_path, docker_api, "pass", cpu_limit=float(cpus + 1000))
