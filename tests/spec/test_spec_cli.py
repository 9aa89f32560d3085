"""`airflow-pachyderm validate` and `schema`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]
INVALID = Path(__file__).parent / "invalid"
EXAMPLES = REPO / "dags_examples" / "specs"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_pachyderm", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_validate_ok_exits_zero_with_summary() -> None:
    result = cli("validate", "dags_examples/specs", "dags_examples/ml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 7 pipeline(s) in 6 file(s): ")
    assert "model, inference" in result.stdout


def test_validate_prints_every_error_of_every_file() -> None:
    files = ["unknown_top_key_typo.yaml", "empty_cmd.yaml", "join_without_join_on.yaml"]
    result = cli(
        "validate", *(f"tests/spec/invalid/{name}" for name in files), "dags_examples/specs"
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines == sorted(
        f"tests/spec/invalid/{name}:{expect}"
        for name in files
        for expect in (
            line.removeprefix("# expect: ")
            for line in (INVALID / name).read_text().splitlines()
            if line.startswith("# expect: ")
        )
    )
    assert (
        "tests/spec/invalid/unknown_top_key_typo.yaml:6:1: tranform: unknown key 'tranform': "
        "did you mean 'transform'?" in lines
    )
    assert result.stderr.strip() == "4 error(s)"


def test_validate_missing_path() -> None:
    result = cli("validate", "no/such/dir")
    assert result.returncode == 1
    assert result.stdout == "no/such/dir:1:1: no such file or directory\n"


def test_schema_prints_draft_2020_12_with_camel_case_keys() -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    spec_properties = schema["$defs"]["PipelineSpec"]["properties"]
    assert {"parallelismSpec", "datumTries", "outputBranch", "reprocessSpec"} <= set(
        spec_properties
    )
    assert "joinOn" in schema["$defs"]["PFSInput"]["properties"]
    assert "name" not in schema["$defs"]["PFSInput"]["required"]


def test_validate_prints_warnings_and_still_succeeds() -> None:
    result = cli("validate", "tests/spec/pachyderm/lab")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    lab = "tests/spec/pachyderm/lab"
    assert [line.split(": warning: ")[0] for line in lines[:-1]] == [
        f"{lab}/edges.pipeline.json:20:5",
        f"{lab}/group_by_hospital.pipeline.json:17:3",
        f"{lab}/group_by_hospital.pipeline.json:29:3",
        f"{lab}/group_by_hospital.pipeline.json:30:3",
    ]
    assert "autoscaling: autoscaling configures Kubernetes and has no effect here" in lines[2]
    assert lines[-1].startswith("OK: 4 pipeline(s) in 4 file(s): ")
