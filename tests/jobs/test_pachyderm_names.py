"""A job of a spec written with Pachyderm's names: projects, capitals, '_' and '-'.

The spec names repos the Pachyderm way; the job reads and writes the mapped lakeFS
repositories, the container sees the names as written, provenance keeps them.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from jobkit import make_repo, unique

from airflow_pachyderm.jobs.process import process_batch
from airflow_pachyderm.jobs.provenance import Provenance
from airflow_pachyderm.runners.docker import DockerRunner
from airflow_pachyderm.spec.models import PipelineSpec

REPORT = """
import json, os, sys
photos = os.environ["photos"]
keys = ["photos", "photos_COMMIT", "{name}", "{alias}", "{name}_COMMIT", "{alias}_COMMIT"]
report = {{k: os.environ.get(k) for k in keys}}
report["content"] = open(photos).read()
json.dump(report, open("/pfs/out/" + os.path.basename(photos) + ".json", "w"))
"""


def test_pachyderm_names_projects_and_union_of_one_name(lakefs, driver) -> None:
    tag = secrets.token_hex(4)
    # lakeFS repositories under their mapped names.
    staging = f"team-photos-{tag}"
    default = f"photos-{tag}"
    for repo, files in ((staging, {"a.txt": b"from team"}), (default, {"b.txt": b"from default"})):
        lakefs.create_repository(repo)
        for path, data in files.items():
            lakefs.upload(repo, "main", path, data)
        lakefs.commit(repo, "main", "photos")
    params = make_repo(lakefs, {"params.json": b"{}"}, f"c-{tag}")
    spec = PipelineSpec.from_dict(
        {
            "pipeline": {"name": f"Names_{tag}", "project": {"name": "Team"}},
            "input": {
                "cross": [
                    {
                        "union": [
                            {"pfs": {"repo": f"Photos_{tag}", "name": "photos", "glob": "/*"}},
                            {
                                "pfs": {
                                    "repo": f"Photos_{tag}",
                                    "project": "default",
                                    "name": "photos",
                                    "glob": "/*",
                                }
                            },
                        ]
                    },
                    # A repo named with '-' needs no `name:`.
                    {"pfs": {"repo": params, "project": "default", "glob": "/"}},
                ]
            },
            "transform": {
                "image": "airflow-pachyderm/python:latest",
                "cmd": [
                    "python3",
                    "-c",
                    REPORT.format(name=params, alias=params.replace("-", "_")),
                ],
            },
        }
    )
    assert spec.output_repo == f"team-names-{tag}"
    result = driver.run(spec)
    assert result.repo == f"team-names-{tag}"

    heads = {repo: lakefs.resolve_ref(repo, "main") for repo in (staging, default, params)}
    outputs = {
        path: json.loads(lakefs.read_bytes(result.repo, result.commit, path))
        for path in ("a.txt.json", "b.txt.json")
    }
    alias = params.replace("-", "_")
    assert outputs["a.txt.json"] == {
        "photos": "/pfs/photos/a.txt",
        "photos_COMMIT": heads[staging],
        params: "/pfs/" + params,
        alias: "/pfs/" + params,
        f"{params}_COMMIT": heads[params],
        f"{alias}_COMMIT": heads[params],
        "content": "from team",
    }
    assert outputs["b.txt.json"]["photos_COMMIT"] == heads[default]
    assert outputs["b.txt.json"]["content"] == "from default"

    # Provenance: the names as written, each union member with its own commit.
    meta = lakefs.get_commit(result.repo, result.commit).metadata
    assert meta[f"pachyderm.input.{params}"] == f"{params}@{heads[params]}"
    assert meta[f"pachyderm.input.photos@{staging}/main"] == f"{staging}@{heads[staging]}"
    assert meta[f"pachyderm.input.photos@{default}/main"] == f"{default}@{heads[default]}"
    assert Provenance.from_metadata(meta).pipeline == f"Names_{tag}"


def test_file_secrets_reach_the_job_container_but_never_the_commit(lakefs, driver) -> None:
    data = make_repo(lakefs, {"a.txt": b"x"}, "data")
    check = (
        "import hashlib; v = open('/secrets/db/password').read(); "
        "open('/pfs/out/digest', 'w').write(hashlib.sha256(v.encode()).hexdigest()); print(v)"
    )
    spec = PipelineSpec.from_dict(
        {
            "pipeline": {"name": unique("secret_files")},
            "input": {"pfs": {"repo": data, "glob": "/*"}},
            "transform": {
                "image": "airflow-pachyderm/python:latest",
                "cmd": ["python3", "-c", check],
                "secrets": [{"name": "db", "mountPath": "/secrets/db"}],
            },
        }
    )
    run_id = "secret-run"
    _, batches = driver.plan(spec, run_id)
    lines: list[str] = []
    for batch in batches:
        process_batch(
            lakefs, spec, batch, DockerRunner(), workdir=driver.workdir / "s",
            cache=driver.cache, secret_files={"/secrets/db": {"password": "tops3cret"}},
            log_line=lines.append,
        )
    result = driver.commit(spec, run_id)
    digest = lakefs.read_bytes(result.repo, result.commit, "digest").decode()
    assert digest == hashlib.sha256(b"tops3cret").hexdigest()
    meta = lakefs.get_commit(result.repo, result.commit).metadata
    assert not any("tops3cret" in value for value in meta.values())
    # The container printed the value: the job log shows it masked.
    assert any(line.endswith("***") for line in lines), lines
    assert not any("tops3cret" in line for line in lines)
