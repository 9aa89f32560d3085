"""The Docker runner against a real daemon and the project's python image."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from airflow_pachyderm.runners.base import DatumWork, RunnerError, TransformSpec
from airflow_pachyderm.runners.docker import NOBODY, DockerRunner, cleanup_job_containers
from airflow_pachyderm.runners.sessions import JOB_LABEL

pytestmark = pytest.mark.docker

BOTH_MODES = pytest.mark.parametrize("supervisor", [True, False], ids=["supervisor", "exec"])


def py(code: str) -> list[str]:
    return ["python3", "-c", textwrap.dedent(code)]


def out_json(result, name: str = "report.json") -> dict:
    assert result.status == "success", result.error
    return json.loads((result.output_dir / name).read_text())


def job_containers(harness) -> list:
    return harness.api.containers(all=True, filters={"label": f"{JOB_LABEL}={harness.job_id}"})


@BOTH_MODES
@pytest.mark.parametrize("user", [None, "0:0"], ids=["default-user", "root"])
def test_inputs_are_read_only_and_out_is_writable(harness, supervisor: bool, user) -> None:
    datum = harness.datum("d1", {("images", "dir/a.txt"): "original"})
    code = """
        import json, os
        report = {}
        for target in ["/pfs/images/dir/a.txt", "/pfs/images/new.txt"]:
            try:
                open(target, "a").write("tampered")
                report[target] = "written"
            except OSError as err:
                report[target] = err.errno
        report["content"] = open(os.environ["images"]).read()
        json.dump(report, open("/pfs/out/report.json", "w"))
    """
    (result,) = harness.run([datum], py(code), supervisor=supervisor, user=user).datums
    report = out_json(result)
    # The mount is read-only (EROFS, 30); any user, root included (it has no capabilities,
    # so no CAP_DAC_OVERRIDE), may be stopped earlier by the 0444 mode of cached files (EACCES).
    allowed = {13, 30}
    assert report["/pfs/images/dir/a.txt"] in allowed
    assert report["/pfs/images/new.txt"] in allowed
    assert report["content"] == "original"
    assert datum.files[0].local_path.read_text() == "original"
    assert result.output_paths == ["report.json"]


@BOTH_MODES
def test_environment_follows_pachyderm(harness, supervisor: bool) -> None:
    datum = DatumWork(
        "0123456789abcdef",
        [
            harness.file("images", "2024/cat.png", "png", commit="c-img"),
            harness.file("model", "v1/model.pkl", "m1"),
            harness.file("model", "v1/meta.json", "m2"),
        ],
        empty_input_names=["labels"],
    )
    job = harness.job(
        input_commits={"images": "job-img", "model": "job-model", "labels": "job-labels"},
        secrets_env={"API_TOKEN": "tok-123"},
    )
    code = """
        import json, os
        keys = ["PACH_JOB_ID", "PACH_DATUM_ID", "images", "images_COMMIT", "model",
                "model_COMMIT", "labels", "labels_COMMIT", "THRESHOLD", "API_TOKEN",
                "PPS_PIPELINE_NAME"]
        report = {k: os.environ.get(k) for k in keys}
        report["labels_dir"] = os.listdir("/pfs/labels")
        json.dump(report, open("/pfs/out/report.json", "w"))
    """
    (result,) = harness.run(
        [datum], py(code), supervisor=supervisor, job=job, env={"THRESHOLD": "0.5"}
    ).datums
    assert out_json(result) == {
        "PACH_JOB_ID": harness.job_id,
        "PACH_DATUM_ID": "0123456789abcdef",
        "images": "/pfs/images/2024/cat.png",
        "images_COMMIT": "c-img",
        "model": "/pfs/model/v1",
        "model_COMMIT": "job-model",
        "labels": "/pfs/labels",
        "labels_COMMIT": "job-labels",
        "THRESHOLD": "0.5",
        "API_TOKEN": "tok-123",
        "PPS_PIPELINE_NAME": "test-pipeline",
        "labels_dir": [],
    }


def test_glob_root_overrides_derived_root(harness) -> None:
    datum = DatumWork("d1", [harness.file("images", "a/b/c.txt", "x")], roots={"images": "a"})
    code = "import os; open('/pfs/out/root', 'w').write(os.environ['images'])"
    (result,) = harness.run([datum], py(code)).datums
    assert (result.output_dir / "root").read_text() == "/pfs/images/a"


def test_no_network_unless_asked(harness) -> None:
    code = """
        import json, socket
        interfaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]]
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect(("192.0.2.1", 80))
            outcome = "connected"
        except OSError as err:
            outcome = type(err).__name__
        json.dump({"interfaces": interfaces, "connect": outcome}, open("/pfs/out/report.json", "w"))
    """
    (result,) = harness.run([harness.datum("d1", {})], py(code)).datums
    report = out_json(result)
    assert report["interfaces"] == ["lo"]
    assert report["connect"] == "OSError"  # ENETUNREACH at once, not a timeout


def test_runs_as_non_root_by_default_and_as_spec_user(harness) -> None:
    code = "import os; open('/pfs/out/id', 'w').write(f'{os.getuid()}:{os.getgid()}')"
    (default,) = harness.run([harness.datum("d1", {})], py(code)).datums
    expected = NOBODY if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"
    assert (default.output_dir / "id").read_text() == expected
    (custom,) = harness.run([harness.datum("d1", {})], py(code), user="1234:2345").datums
    assert (custom.output_dir / "id").read_text() == "1234:2345"


@BOTH_MODES
def test_each_datum_sees_only_its_own_files(harness, supervisor: bool) -> None:
    datums = [
        harness.datum("first", {("in", "one.txt"): "1", ("in", "sub/shared.txt"): "s"}),
        harness.datum("second", {("in", "two.txt"): "2"}),
        harness.datum("third", {("other", "x.txt"): "3"}),
    ]
    code = """
        import json, os
        def walk(top):
            return sorted(os.path.relpath(os.path.join(d, f), top)
                          for d, _, fs in os.walk(top) for f in fs)
        seen = {"in": walk("/pfs/in"), "other": walk("/pfs/other"), "out": walk("/pfs/out")}
        open("/tmp/left-by-" + os.environ["PACH_DATUM_ID"], "w").close()
        json.dump(seen, open("/pfs/out/seen.json", "w"))
    """
    results = harness.run(datums, py(code), supervisor=supervisor).datums
    seen = [out_json(r, "seen.json") for r in results]
    assert seen[0] == {"in": ["one.txt", "sub/shared.txt"], "other": [], "out": []}
    assert seen[1] == {"in": ["two.txt"], "other": [], "out": []}
    assert seen[2] == {"in": [], "other": ["x.txt"], "out": []}
    assert [r.output_dir for r in results] == sorted({r.output_dir for r in results})
    assert all(r.output_paths == ["seen.json"] for r in results)


@BOTH_MODES
def test_timeout_fails_the_datum(harness, supervisor: bool) -> None:
    datums = [harness.datum("slow", {("in", "a"): "a"}), harness.datum("fast", {("in", "b"): "b"})]
    code = "import os, time; time.sleep(30 if os.environ['PACH_DATUM_ID'] == 'slow' else 0)"
    slow, fast = harness.run(datums, py(code), supervisor=supervisor, datum_timeout_s=1).datums
    assert slow.status == "failed"
    assert slow.timed_out
    assert slow.exit_code == 124
    assert slow.duration_s < 10
    assert "timed out after 1 s" in slow.error
    assert fast.status == "success"


def test_retries_until_success(harness) -> None:
    # /tmp lives as long as the batch's container, so the second try sees the first's marker.
    code = """
        import os, sys
        marker = "/tmp/tried-" + os.environ["PACH_DATUM_ID"]
        if not os.path.exists(marker):
            open(marker, "w").close()
            open("/pfs/out/partial", "w").write("from the failed try")
            print("first try fails")
            sys.exit(1)
        open("/pfs/out/done", "w").write("ok")
    """
    datums = [harness.datum("d1", {}), harness.datum("d2", {})]
    ok = harness.run(datums, py(code), datum_tries=2).datums
    assert [(r.status, r.tries, r.output_paths) for r in ok] == [("success", 2, ["done"])] * 2
    assert "retrying: try 2 of 2" in harness.log_text

    (once,) = harness.run([harness.datum("d1", {})], py(code), datum_tries=1).datums
    assert (once.status, once.tries, once.exit_code) == ("failed", 1, 1)


@BOTH_MODES
def test_memory_limit_is_enforced(harness, supervisor: bool) -> None:
    code = "import os; b = b'x' * int(os.environ['MB']) * 1024 * 1024; print(len(b))"
    limit = 64 * 1024 * 1024
    small, big = (
        harness.run(
            [harness.datum("d", {})],
            py(code),
            supervisor=supervisor,
            memory_limit_bytes=limit,
            env={"MB": mb},
        ).datums[0]
        for mb in ("16", "256")
    )
    assert small.status == "success"
    assert big.status == "failed"
    assert big.exit_code == 137
    assert f"the memory limit is {limit} bytes" in big.error


def test_cpu_limit_is_applied(harness) -> None:
    code = """
        import os
        for p in ["/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"]:
            if os.path.exists(p):
                open("/pfs/out/quota", "w").write(open(p).read().split()[0])
    """
    (result,) = harness.run([harness.datum("d", {})], py(code), cpu_limit=0.5).datums
    assert (result.output_dir / "quota").read_text() == "50000"


def test_failure_reports_id_inputs_exit_code_and_log_tail(harness) -> None:
    datum = harness.datum(
        "feedfacecafebeef0001", {("images", "a/1.png"): "x", ("labels", "1.txt"): "y"}
    )
    code = "import sys\nfor i in range(30): print(f'line {i}')\nsys.exit(3)"
    (result,) = harness.run([datum], py(code)).datums
    assert result.status == "failed"
    assert result.exit_code == 3
    assert result.output_dir is None
    assert "datum feedfacecafebeef0001 failed after 1 try: exit code 3" in result.error
    assert "inputs: images/a/1.png, labels/1.txt" in result.error
    assert "line 29" in result.error and "line 10" in result.error
    assert "line 9\n" not in result.error + "\n"
    assert result.log_tail == [f"line {i}" for i in range(10, 30)]
    assert "[datum feedfacecafe] line 0" in harness.log_lines


@pytest.mark.parametrize(
    "make",
    [
        "os.symlink('/etc/passwd', '/pfs/out/link')",
        "os.symlink('/nonexistent', '/pfs/out/link')",
        "os.symlink('../..', '/pfs/out/link')",
        "os.mkfifo('/pfs/out/link')",
    ],
    ids=["symlink", "dangling", "escaping", "fifo"],
)
def test_bad_outputs_fail_the_datum(harness, make: str) -> None:
    code = f"import os\nopen('/pfs/out/good', 'w').write('x')\n{make}"
    (result,) = harness.run([harness.datum("bad-out", {})], py(code)).datums
    assert result.status == "failed"
    assert result.output_paths == []
    assert "datum bad-out: /pfs/out/link" in result.error


def test_secrets_are_masked_in_logs_and_errors(harness) -> None:
    job = harness.job(secrets_env={"API_TOKEN": "hunter2-secret", "OTHER": "pa55"})
    code = "import os, sys; print('token is', os.environ['API_TOKEN'], 'pa55'); sys.exit(1)"
    (result,) = harness.run([harness.datum("d", {})], py(code), job=job).datums
    assert "[datum d] token is *** ***" in harness.log_lines
    assert "hunter2" not in harness.log_text and "pa55" not in harness.log_text
    assert "token is *** ***" in result.error
    assert "hunter2" not in result.error


@BOTH_MODES
def test_stdin_lines_feed_the_command(harness, supervisor: bool) -> None:
    datum = harness.datum("d", {("in", "f.txt"): "abc"})
    (result,) = harness.run(
        [datum],
        ["sh"],
        supervisor=supervisor,
        stdin=["set -e", 'tr a-z A-Z < "$in" > /pfs/out/upper.txt'],
    ).datums
    assert (result.output_dir / "upper.txt").read_text() == "ABC"


def test_err_cmd_recovers_a_failed_datum(harness) -> None:
    (result,) = harness.run(
        [harness.datum("d", {})],
        py("open('/pfs/out/x','w'); raise SystemExit(2)"),
        err_cmd=["true"],
    ).datums
    assert result.status == "success"
    assert result.recovered
    assert result.output_paths == []


def test_missing_command_is_a_failed_datum(harness) -> None:
    (result,) = harness.run([harness.datum("d", {})], ["/no/such/binary"]).datums
    assert result.status == "failed"
    assert result.exit_code == 127
    assert "/no/such/binary" in result.error


def test_bad_input_name_is_rejected(harness) -> None:
    with pytest.raises(RunnerError, match="input name 'out'"):
        harness.run([harness.datum("d", {("out", "a"): "x"})], ["true"])


def test_missing_image_is_a_clear_error(harness) -> None:
    with pytest.raises(RunnerError, match="airflow-pachyderm/does-not-exist"):
        harness.run([harness.datum("d", {})], ["true"], image="airflow-pachyderm/does-not-exist")
    assert job_containers(harness) == []


def test_container_removed_after_success_and_after_errors(harness) -> None:
    harness.run([harness.datum("d", {})], ["true"])
    assert job_containers(harness) == []

    def exploding_log(line: str) -> None:
        raise KeyboardInterrupt("operator stopped the task")

    job = harness.job()
    job.log = exploding_log
    with pytest.raises(KeyboardInterrupt):
        harness.run([harness.datum("d", {})], ["echo", "hello"], job=job)
    assert job_containers(harness) == []
    batch_dirs = list((harness.tmp / "work").iterdir())
    assert all(not (d / "pfs").exists() and not (d / "ctl").exists() for d in batch_dirs)


def test_cleanup_job_containers_removes_leftovers(harness) -> None:
    api = harness.api
    for _ in range(2):
        created = api.create_container(
            "airflow-pachyderm/python:latest",
            entrypoint=["sleep", "infinity"],
            labels={JOB_LABEL: harness.job_id},
            host_config=api.create_host_config(network_mode="none"),
        )
        api.start(created["Id"])
    assert len(job_containers(harness)) == 2
    assert cleanup_job_containers(harness.job_id, api) == 2
    assert job_containers(harness) == []
    assert cleanup_job_containers(harness.job_id, api) == 0


def test_empty_batch_starts_nothing(harness) -> None:
    spec = TransformSpec(image="airflow-pachyderm/python:latest", cmd=["true"])
    result = DockerRunner(api=harness.api).run_batch(spec, harness.job(), [])
    assert result.datums == []
    assert not (harness.tmp / "work").exists()


@pytest.fixture(scope="module")
def image_without_python(docker_api):
    """The python image minus python3: the runner must fall back to docker exec."""
    created = docker_api.create_container(
        "airflow-pachyderm/python:latest",
        entrypoint=["sh", "-c", "rm -f /usr/bin/python3*"],
        user="0:0",
        host_config=docker_api.create_host_config(network_mode="none"),
    )
    tag = "airflow-pachyderm/test-no-python:latest"
    try:
        docker_api.start(created["Id"])
        assert docker_api.wait(created["Id"])["StatusCode"] == 0
        docker_api.commit(created["Id"], repository=tag.split(":")[0], tag="latest")
    finally:
        docker_api.remove_container(created["Id"], force=True)
    yield tag
    docker_api.remove_image(tag, force=True)


def test_image_without_python_falls_back_to_exec(harness, image_without_python) -> None:
    datums = [harness.datum("d1", {("in", "a"): "A"}), harness.datum("d2", {("in", "b"): "B"})]
    results = harness.run(
        datums,
        ["sh", "-c", "command -v python3 || ls /pfs/in > /pfs/out/seen"],
        image=image_without_python,
    ).datums
    assert [(r.output_dir / "seen").read_text() for r in results] == ["a\n", "b\n"]
    assert job_containers(harness) == []


def test_inputs_are_hard_links_into_the_cache(harness) -> None:
    datum = harness.datum("d", {("in", "a.txt"): "cached"})
    cache_file: Path = datum.files[0].local_path
    code = "import os; open('/pfs/out/links', 'w').write(str(os.stat('/pfs/in/a.txt').st_nlink))"
    (result,) = harness.run([datum], py(code)).datums
    # cache entry + the datum's link while the transform ran
    assert (result.output_dir / "links").read_text() == "2"
    assert cache_file.stat().st_nlink == 1  # the datum's link is gone after the batch


def test_sklearn_image_runs_a_model_fit(harness) -> None:
    code = """
        import pickle
        from sklearn.linear_model import LinearRegression
        model = LinearRegression().fit([[0], [1], [2]], [1, 3, 5])
        pickle.dump(model, open("/pfs/out/model.pkl", "wb"))
        open("/pfs/out/pred", "w").write(str(round(float(model.predict([[10]])[0]), 6)))
    """
    (result,) = harness.run(
        [harness.datum("fit", {})], py(code), image="airflow-pachyderm/python-sklearn:latest"
    ).datums
    assert result.output_paths == ["model.pkl", "pred"]
    assert (result.output_dir / "pred").read_text() == "21.0"
