"""Each Pachyderm spec field the runner honours, from spec text to a real container.

The spec goes through the same translation a job uses (``transform_spec``), so a field that
validates but is dropped on the way to Docker fails here.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from airflow_pachyderm.jobs.convert import transform_spec
from airflow_pachyderm.runners.base import DatumWork, RunnerError
from airflow_pachyderm.runners.docker import DockerRunner
from airflow_pachyderm.spec.models import DEFAULT_IMAGE, PipelineSpec
from airflow_pachyderm.spec.names import env_alias

pytestmark = pytest.mark.docker


def spec_of(transform: dict, **top) -> PipelineSpec:
    data = {
        "pipeline": {"name": "field_test"},
        "input": {"pfs": {"repo": "raw-data", "glob": "/*"}},
        "transform": {"image": "airflow-pachyderm/python:latest", **transform},
        "datumTries": 1,
        **top,
    }
    return PipelineSpec.from_dict(data)


def run(harness, spec: PipelineSpec, datums: list[DatumWork], **job):
    job.setdefault("input_commits", {"raw-data": "c0ffee"})
    return DockerRunner(api=harness.api).run_batch(transform_spec(spec), harness.job(**job), datums)


def py(code: str) -> list[str]:
    return ["python3", "-c", textwrap.dedent(code)]


def test_accept_return_code_keeps_outputs_of_accepted_exits(harness) -> None:
    code = """
        import sys
        open("/pfs/out/partial.txt", "w").write("kept")
        sys.exit(int(open(sys.argv[1]).read()))
    """
    spec = spec_of({"cmd": [*py(code), "/pfs/raw-data/code"], "acceptReturnCode": [3]})
    accepted = harness.datum("d-accepted", {("raw-data", "code"): "3"})
    refused = harness.datum("d-refused", {("raw-data", "code"): "4"})
    first, second = run(harness, spec, [accepted, refused]).datums
    assert (first.status, first.exit_code) == ("success", 3)
    assert (first.output_dir / "partial.txt").read_text() == "kept"
    assert (second.status, second.exit_code) == ("failed", 4)
    assert "exit code 3 is accepted (acceptReturnCode)" in harness.log_text


def test_accept_return_code_does_not_rescue_a_timeout(harness) -> None:
    code = "import time, sys; time.sleep(30)"
    spec = spec_of({"cmd": py(code), "acceptReturnCode": [124]}, datumTimeout="1s")
    (result,) = run(harness, spec, [harness.datum("d1", {("raw-data", "a"): "x"})]).datums
    assert result.status == "failed" and result.timed_out


@pytest.mark.parametrize(("stdin", "recovered"), [("ok", True), ("not ok", False)])
def test_err_stdin_reaches_err_cmd(harness, stdin: str, recovered: bool) -> None:
    check = "import sys; sys.exit(0 if sys.stdin.read() == 'ok\\n' else 9)"
    spec = spec_of({"cmd": ["false"], "errCmd": ["python3", "-c", check], "errStdin": [stdin]})
    (result,) = run(harness, spec, [harness.datum("d1", {("raw-data", "a"): "x"})]).datums
    assert result.recovered is recovered
    assert result.status == ("success" if recovered else "failed")


def test_input_named_with_a_dash_gets_shell_aliases(harness) -> None:
    code = """
        import json, os
        keys = ["raw-data", "raw_data", "raw-data_COMMIT", "raw_data_COMMIT"]
        report = {k: os.environ.get(k) for k in keys}
        report["listing"] = os.listdir("/pfs/raw-data")
        json.dump(report, open("/pfs/out/env.json", "w"))
    """
    spec = spec_of({"cmd": py(code)})
    assert spec.pfs_inputs()[0].name == "raw-data" and env_alias("raw-data") == "raw_data"
    datum = DatumWork("d1", [harness.file("raw-data", "a.csv", "1,2", commit="c0ffee")])
    (result,) = run(harness, spec, [datum]).datums
    assert result.status == "success", result.error
    assert json.loads((result.output_dir / "env.json").read_text()) == {
        "raw-data": "/pfs/raw-data/a.csv",
        "raw_data": "/pfs/raw-data/a.csv",
        "raw-data_COMMIT": "c0ffee",
        "raw_data_COMMIT": "c0ffee",
        "listing": ["a.csv"],
    }


def test_missing_image_runs_on_the_default_image(harness) -> None:
    spec = PipelineSpec.from_dict(
        {
            "pipeline": {"name": "no_image"},
            "input": {"pfs": {"repo": "raw_data", "glob": "/"}},
            "transform": {"cmd": ["sh", "-c", "python3 --version > /pfs/out/version"]},
        }
    )
    assert spec.transform.image == DEFAULT_IMAGE
    (result,) = run(
        harness, spec, [harness.datum("d1", {("raw_data", "a"): "x"})], input_commits={}
    ).datums
    assert result.status == "success", result.error
    assert (result.output_dir / "version").read_text().startswith("Python 3")


CGROUP_REPORT = """
    import json, os
    def read(*paths):
        for path in paths:
            if os.path.exists(path):
                return [os.path.basename(path), open(path).read().strip()]
    json.dump({
        "shares": read("/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpu.weight"),
        "soft": read("/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
                     "/sys/fs/cgroup/memory.low"),
        "limit": read("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                      "/sys/fs/cgroup/memory.max"),
    }, open("/pfs/out/cgroup.json", "w"))
"""


def test_resource_requests_and_limits_reach_the_container(harness) -> None:
    spec = spec_of(
        {"cmd": py(CGROUP_REPORT)},
        resourceRequests={"cpu": 0.5, "memory": "100MB"},
        resourceLimits={"cpu": 1, "memory": "256MB"},
    )
    (result,) = run(harness, spec, [harness.datum("d1", {("raw-data", "a"): "x"})]).datums
    assert result.status == "success", result.error
    report = json.loads((result.output_dir / "cgroup.json").read_text())
    if report["shares"][0] == "cpu.shares":  # cgroup v1
        assert report["shares"][1] == "512"
    else:  # cgroup v2: Docker converts shares to a weight
        assert report["shares"][1] == str(1 + ((512 - 2) * 9999) // 262142)
    # The kernel rounds the soft limit down to whole pages.
    assert 100_000_000 - 4096 < int(report["soft"][1]) <= 100_000_000
    assert report["limit"][1] == "256000000"


def test_gpu_without_a_gpu_runtime_is_a_clear_error(harness) -> None:
    spec = spec_of(
        {"cmd": ["true"]}, resourceLimits={"gpu": {"type": "nvidia.com/gpu", "number": 1}}
    )
    with pytest.raises(
        RunnerError,
        match=r"resourceLimits.gpu asks for 1 GPU\(s\), but the "
        r"Docker daemon cannot give GPUs to containers \(.*\): install the NVIDIA",
    ):
        run(harness, spec, [harness.datum("d1", {("raw-data", "a"): "x"})])
    leftovers = harness.api.containers(
        all=True, filters={"label": f"airflow-pachyderm.job={harness.job_id}"}
    )
    assert leftovers == []


def test_file_secrets_are_read_only_private_and_masked(harness) -> None:
    code = """
        import json, os
        report = {"files": sorted(os.listdir("/secrets/db"))}
        password = open("/secrets/db/password").read()
        report["password_ok"] = password == "s3cr3t-value"
        try:
            open("/secrets/db/password", "w").write("changed")
            report["write"] = "written"
        except OSError as err:
            report["write"] = err.errno
        print("the password is " + password)
        json.dump(report, open("/pfs/out/report.json", "w"))
    """
    spec = spec_of({"cmd": py(code), "secrets": [{"name": "db", "mountPath": "/secrets/db"}]})
    files = {"/secrets/db": {"password": "s3cr3t-value", "user": "reader"}}
    (result,) = run(
        harness, spec, [harness.datum("d1", {("raw-data", "a"): "x"})], secret_files=files
    ).datums
    report = json.loads((result.output_dir / "report.json").read_text())
    assert report["files"] == ["password", "user"]
    assert report["password_ok"] is True
    assert report["write"] in (13, 30)  # EACCES or EROFS: never written
    # Masked in the log, and gone from the host once the batch is over.
    assert "the password is ***" in harness.log_text
    assert "s3cr3t-value" not in harness.log_text
    for root, _dirs, names in os.walk(harness.tmp / "work"):
        for name in names:
            with open(os.path.join(root, name), "rb") as fh:
                assert b"s3cr3t-value" not in fh.read(), os.path.join(root, name)


def test_accept_return_code_with_datum_batching(harness) -> None:
    code = """
        import json, os, sys
        for line in open(os.environ["PACH_DATUMS_FILE"]):
            datum = json.loads(line)
            open(os.path.join(datum["out"], "seen.txt"), "w").write(datum["datum_id"])
        sys.exit(3)
    """
    spec = spec_of({"cmd": py(code), "acceptReturnCode": [3]}, datumBatching=True)
    datums = [harness.datum(f"d{i}", {("raw-data", f"f{i}"): str(i)}) for i in range(2)]
    results = run(harness, spec, datums).datums
    assert [(r.status, (r.output_dir / "seen.txt").read_text()) for r in results] == [
        ("success", "d0"),
        ("success", "d1"),
    ]
