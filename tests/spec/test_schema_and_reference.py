"""The committed schema and reference are generated from the models and up to date."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from airflow_pachyderm.spec.reference import render
from airflow_pachyderm.spec.schema import schema_json, spec_file_schema

REPO = Path(__file__).parents[2]
EXAMPLES = sorted((REPO / "dags_examples").glob("*/*.yaml"))
VALID = sorted((Path(__file__).parent / "valid").iterdir())
PACHYDERM = sorted((Path(__file__).parent / "pachyderm" / "lab").iterdir())
SCHEMA_LINE = "# yaml-language-server: $schema=../../docs/pipeline-spec.schema.json"


def test_committed_schema_is_current() -> None:
    committed = (REPO / "docs" / "pipeline-spec.schema.json").read_text()
    assert committed == schema_json(), (
        "regenerate: python -m airflow_pachyderm schema > docs/pipeline-spec.schema.json"
    )


def test_committed_reference_is_current() -> None:
    committed = (REPO / "docs" / "spec-reference.md").read_text()
    assert committed == render(), (
        "regenerate: python -m airflow_pachyderm.spec.reference > docs/spec-reference.md"
    )


def test_reference_lists_every_field() -> None:
    text = render()
    for key in [
        "input.pfs.joinOn",
        "transform.network",
        "datumSetSpec.number",
        "airflow.dag_id_prefix",
        "egress.URL",
        "transform.secrets[].env_var",
    ]:
        assert f"| `{key}` |" in text


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(spec_file_schema())


@pytest.mark.parametrize("path", EXAMPLES + VALID + PACHYDERM, ids=lambda path: path.name)
def test_valid_specs_validate_against_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(spec_file_schema())
    for document in yaml.safe_load_all(path.read_text()):
        if path.parent.name == "valid" and "snake" in path.name:
            continue  # the schema lists the canonical camelCase spelling only
        errors = [error.message for error in validator.iter_errors(document)]
        assert errors == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_examples_point_editors_at_the_schema(path: Path) -> None:
    assert path.read_text().splitlines()[0] == SCHEMA_LINE


def test_schema_rejects_a_misspelt_key() -> None:
    validator = jsonschema.Draft202012Validator(spec_file_schema())
    document = yaml.safe_load((REPO / "dags_examples" / "specs" / "opencv.yaml").read_text())
    document["tranform"] = document.pop("transform")
    assert not validator.is_valid(document)
    assert json.dumps(document)  # still plain data
