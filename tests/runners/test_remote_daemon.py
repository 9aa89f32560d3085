"""The runner against a Docker daemon that cannot see this host's files (archive transfer).

The daemon (``remote_docker``, see tests/remote_dockerd.py) runs in its own mount namespace
where the whole test tree is an empty tmpfs: anything the runner bind-mounted would show up
empty in its containers. The runner's own behaviour tests are re-run against it.
"""

from __future__ import annotations

import pytest
import test_batching
import test_docker_runner
from test_docker_runner import job_containers, out_json, py

from airflow_pachyderm.runners.base import TransformSpec
from airflow_pachyderm.runners.docker import DockerRunner
from conftest import PYTHON_IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_bind_mounts_show_nothing_there(remote_harness) -> None:
    """The set-up is honest: forced to bind-mount, the remote daemon's datum sees no input."""
    datum = remote_harness.datum("d1", {("images", "a.txt"): "alpha"})
    code = "import os; open('/pfs/out/seen', 'w').write(repr(os.listdir('/pfs/images')))"
    runner = DockerRunner(api=remote_harness.api, use_supervisor=False, transfer="bind")
    result = runner.run_batch(
        TransformSpec(cmd=py(code), image=PYTHON_IMAGE), remote_harness.job(), [datum]
    )
    (only,) = result.datums
    # /pfs/out is a fresh root-owned directory there, not the host's: nothing comes back.
    assert only.status == "failed"
    assert "Permission denied: '/pfs/out/seen'" in only.error


def test_archive_transfer_is_chosen_for_a_tcp_daemon(remote_harness, docker_api) -> None:
    assert DockerRunner(api=remote_harness.api).transfer == "archive"
    assert DockerRunner(api=docker_api).transfer == "bind"


@pytest.mark.parametrize("user", [None, "0:0"], ids=["default-user", "root"])
def test_inputs_are_read_only_and_out_is_writable(remote_harness, user) -> None:
    test_docker_runner.test_inputs_are_read_only_and_out_is_writable(
        remote_harness, supervisor=False, user=user
    )


def test_each_datum_sees_only_its_own_files(remote_harness) -> None:
    test_docker_runner.test_each_datum_sees_only_its_own_files(remote_harness, supervisor=False)
    assert job_containers(remote_harness) == []


def test_environment_follows_pachyderm(remote_harness) -> None:
    test_docker_runner.test_environment_follows_pachyderm(remote_harness, supervisor=False)


def test_retries_until_success(remote_harness) -> None:
    test_docker_runner.test_retries_until_success(remote_harness)


def test_no_network_unless_asked(remote_harness) -> None:
    test_docker_runner.test_no_network_unless_asked(remote_harness)


def test_symlink_output_fails_the_datum_and_hard_links_are_copies(remote_harness) -> None:
    code = """
        import os
        if os.environ["PACH_DATUM_ID"] == "bad":
            os.symlink("/etc/passwd", "/pfs/out/link")
        else:
            os.makedirs("/pfs/out/d")
            open("/pfs/out/d/a", "w").write("same")
            os.link("/pfs/out/d/a", "/pfs/out/b")
    """
    bad, good = remote_harness.run(
        [remote_harness.datum("bad", {}), remote_harness.datum("good", {})], py(code),
        supervisor=False,
    ).datums  # fmt: skip
    assert bad.status == "failed"
    assert "symbolic links are not allowed" in bad.error
    assert good.status == "success", good.error
    assert good.output_paths == ["b", "d/a"]
    assert (good.output_dir / "b").read_text() == "same"


def test_secret_files_reach_the_container(remote_harness) -> None:
    job = remote_harness.job(secret_files={"/run/secrets/db": {"password": "s3cret"}})
    code = """
        import json, os
        path = "/run/secrets/db/password"
        report = {"value": open(path).read(), "mode": oct(os.stat(path).st_mode & 0o777)}
        try:
            open(path, "w").write("x")
            report["write"] = "written"
        except OSError as err:
            report["write"] = err.errno
        json.dump(report, open("/pfs/out/report.json", "w"))
    """
    (result,) = remote_harness.run(
        [remote_harness.datum("d1", {})], py(code), supervisor=False, job=job
    ).datums
    assert out_json(result) == {"value": "s3cret", "mode": "0o444", "write": 13}
    assert "s3cret" not in remote_harness.log_text


def test_datum_batching(remote_harness) -> None:
    test_batching.test_example_transform_writes_each_datums_outputs(
        remote_harness, supervisor=False
    )
    test_batching.test_bad_output_fails_only_its_datum(remote_harness)
    test_batching.test_failed_batch_fails_every_datum_after_its_tries(remote_harness)
