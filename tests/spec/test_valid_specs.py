"""Valid specs: every input kind, both key spellings, round trips and hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_pachyderm.spec import PipelineSpec, SpecErrors, load_specs

EXAMPLES_ROOT = Path(__file__).parents[2] / "dags_examples"
EXAMPLES = EXAMPLES_ROOT / "specs"
ML = EXAMPLES_ROOT / "ml" / "pipelines.yaml"
VALID = Path(__file__).parent / "valid"


ALL_VALID = sorted([*VALID.iterdir(), *EXAMPLES_ROOT.glob("*/*.yaml")])


def test_every_input_kind_is_covered() -> None:
    kinds = {node.kind for spec in load_specs(ALL_VALID) for _path, node in spec.input_nodes()}
    assert kinds == {"pfs", "cross", "union", "join", "group", "cron"}


@pytest.mark.parametrize("path", ALL_VALID, ids=[path.name for path in ALL_VALID])
def test_round_trip_through_to_dict(path: Path) -> None:
    for spec in load_specs(path):
        data = spec.to_dict()
        json.dumps(data)  # JSON-able
        again = PipelineSpec.from_dict(data)
        assert again.to_dict() == data
        assert again.spec_hash() == spec.spec_hash()


def test_ml_example_matches_design() -> None:
    model, inference = load_specs(ML)
    assert (model.name, model.output_repo, model.output_branch) == ("model", "model", "main")
    assert [(p.name, p.repo, p.branch, p.glob) for p in model.pfs_inputs()] == [
        ("training", "training", "main", "/"),
        ("code", "code", "main", "/train.py"),
    ]
    assert model.transform.image == "airflow-pachyderm/python-sklearn:latest"
    assert [(p.repo, p.glob) for p in inference.pfs_inputs()] == [
        ("attributes", "/*"),
        ("model", "/"),
        ("code", "/infer.py"),
    ]
    assert inference.input.kind == "cross"
    assert inference.parallelism_spec.constant == 2
    assert inference.datum_timeout == 300
    assert model.resource_limits is not None and model.resource_limits.memory == 10**9
    assert inference.source_line == 33  # the `pipeline:` line of the second document


def test_snake_case_equals_camel_case() -> None:
    (snake,) = load_specs(VALID / "snake_case.yaml")
    camel_text = (VALID / "snake_case.yaml").read_text()
    for snake_key, camel_key in [
        ("join_on", "joinOn"),
        ("outer_join", "outerJoin"),
        ("empty_files", "emptyFiles"),
        ("working_dir", "workingDir"),
        ("err_cmd", "errCmd"),
        ("accept_return_code", "acceptReturnCode"),
        ("parallelism_spec", "parallelismSpec"),
        ("datum_set_spec", "datumSetSpec"),
        ("resource_requests", "resourceRequests"),
        ("datum_tries", "datumTries"),
        ("datum_timeout", "datumTimeout"),
        ("job_timeout", "jobTimeout"),
        ("reprocess_spec", "reprocessSpec"),
        ("output_branch", "outputBranch"),
    ]:
        camel_text = camel_text.replace(snake_key + ":", camel_key + ":")
    camel = PipelineSpec.from_dict(__import__("yaml").safe_load(camel_text))
    assert camel.to_dict() == snake.to_dict()
    assert camel.spec_hash() == snake.spec_hash()
    requests = snake.resource_requests
    assert requests is not None
    assert (requests.cpu, requests.memory, requests.disk) == (0.5, 512 * 2**20, None)
    assert requests.gpu is not None and (requests.gpu.type, requests.gpu.number) == (
        "nvidia.com/gpu",
        1,
    )
    assert (snake.datum_timeout, snake.job_timeout) == (5400, 7200)
    assert snake.to_dict()["datumTimeout"] == "1h30m"
    assert snake.transform.secrets[0].env_var == "DB_PASSWORD"
    assert snake.reprocess_spec == "every_job"


def test_defaults() -> None:
    spec = PipelineSpec.from_dict(
        {
            "pipeline": {"name": "edges"},
            "input": {"pfs": {"repo": "images", "glob": "/*"}},
            "transform": {"image": "pachyderm/opencv:1.0", "cmd": ["python3", "/edges.py"]},
        }
    )
    (pfs,) = spec.pfs_inputs()
    assert (pfs.name, pfs.branch, pfs.lazy, pfs.empty_files) == ("images", "main", False, False)
    assert spec.datum_tries == 3
    assert spec.reprocess_spec == "until_success"
    assert spec.output_branch == "main"
    assert spec.transform.network is False
    assert spec.datum_batching is False
    assert spec.airflow.max_active_runs == 1
    assert spec.airflow.dag_id_prefix == ""
    assert spec.dag_id == "edges"
    assert spec.cron_inputs() == []


def test_datum_batching_inside_transform_moves_up() -> None:
    (spec,) = load_specs(VALID / "spec.json")
    assert spec.datum_batching is True
    assert "datumBatching" not in spec.to_dict()["transform"]


def test_spec_hash_is_stable_and_content_based() -> None:
    data = {
        "pipeline": {"name": "edges"},
        "input": {"pfs": {"repo": "images", "glob": "/*"}},
        "transform": {"image": "pachyderm/opencv:1.0", "cmd": ["python3", "/edges.py"]},
        "datumTimeout": "60s",
    }
    first = PipelineSpec.from_dict(data)
    # Same meaning, other spelling: same hash.
    same = PipelineSpec.from_dict({**data, "datumTimeout": "1m"})
    other = PipelineSpec.from_dict({**data, "salt": "v2"})
    assert first.spec_hash() == same.spec_hash()
    assert first.spec_hash() != other.spec_hash()
    assert len(first.spec_hash()) == 64
    # The canonical JSON is sorted: the hash does not depend on key order.
    reordered = PipelineSpec.from_dict(dict(reversed(list(data.items()))))
    assert reordered.spec_hash() == first.spec_hash()


def test_nested_inputs_and_cron() -> None:
    (spec,) = load_specs(VALID / "nested.yaml")
    assert [p.repo for p in spec.pfs_inputs()] == ["cam-a", "cam-b", "labels"]
    assert [(c.name, c.spec, c.overwrite) for c in spec.cron_inputs()] == [
        ("tick", "*/15 * * * MON-FRI", True),
        ("nightly", "0 2 * * *", False),
    ]
    assert spec.egress is not None and spec.egress.url == "s3://bucket/out"
    assert spec.to_dict()["egress"] == {"URL": "s3://bucket/out"}
    assert spec.dag_id == "team_nested"
    assert spec.input_repos() == [("cam-a", "main"), ("cam-b", "main"), ("labels", "main")]


def test_from_dict_reports_errors_with_paths() -> None:
    with pytest.raises(SpecErrors) as raised:
        PipelineSpec.from_dict({"pipeline": {"name": "edges"}, "input": {}, "transform": {}})
    assert [(e.field_path, e.file) for e in raised.value.errors] == [
        ("input", "<dict>"),
        ("transform.cmd", "<dict>"),
    ]


def test_specs_are_immutable() -> None:
    (spec,) = load_specs(EXAMPLES / "opencv.yaml")
    with pytest.raises(ValueError):
        spec.datum_tries = 5  # type: ignore[misc]
