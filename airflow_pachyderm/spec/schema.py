"""JSON Schema (draft 2020-12) of a spec file, for editors and other tools.

The committed copy is ``docs/pipeline-spec.schema.json``; regenerate it with
``airflow-pachyderm schema > docs/pipeline-spec.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_pachyderm.spec.models import PipelineSpec

SCHEMA_ID = "https://github.com/airflow-pachyderm/airflow-pachyderm/blob/main/docs/pipeline-spec.schema.json"


def spec_file_schema() -> dict[str, Any]:
    """Schema of one YAML document: a pipeline spec, or `pipelines:` with a list of them."""
    spec = PipelineSpec.model_json_schema(by_alias=True, mode="validation")
    definitions = spec.pop("$defs")
    # `name` of a pfs input defaults to its repo: optional for authors.
    pfs = definitions["PFSInput"]
    pfs["required"] = [key for key in pfs["required"] if key != "name"]
    _accepted_spellings(definitions)
    definitions["PipelineSpec"] = spec
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "airflow-pachyderm pipeline spec",
        "description": "A Pachyderm-style pipeline spec, or `pipelines:` followed by a list "
        "of them. Keys use Pachyderm's camelCase; the loader also accepts snake_case.",
        "anyOf": [
            {"$ref": "#/$defs/PipelineSpec"},
            {
                "type": "object",
                "properties": {
                    "pipelines": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/PipelineSpec"},
                        "minItems": 1,
                    }
                },
                "required": ["pipelines"],
                "additionalProperties": False,
            },
        ],
        "$defs": dict(sorted(definitions.items())),
    }


def _accepted_spellings(definitions: dict[str, Any]) -> None:
    # Spellings the loader accepts besides the canonical one, kept valid for editors:
    # Pachyderm's transform.datumBatching, DESIGN's cron `schedule`, `gpu: <number>`,
    # secrets' envVar and mountPath.
    definitions["Transform"]["properties"]["datumBatching"] = {
        "type": "boolean",
        "description": "Same as the top-level datumBatching (Pachyderm's place for it).",
    }
    cron = definitions["CronInput"]
    cron["properties"]["schedule"] = {
        **cron["properties"]["spec"],
        "description": "Another spelling of `spec`.",
    }
    cron["required"] = [key for key in cron["required"] if key != "spec"]
    cron["oneOf"] = [{"required": ["spec"]}, {"required": ["schedule"]}]
    # Pachyderm's JSON writes secrets' keys in camelCase (envVar, mountPath).
    secret = definitions["Secret"]["properties"]
    for canonical, camel in (("env_var", "envVar"), ("mount_path", "mountPath")):
        secret[camel] = {**secret[canonical], "description": f"Another spelling of `{canonical}`."}
    gpu = definitions["Resources"]["properties"]["gpu"]
    gpu["anyOf"].insert(1, {"type": "integer", "minimum": 1})


def schema_json(indent: int = 2) -> str:
    """The schema as JSON text, ending with a newline."""
    return json.dumps(spec_file_schema(), indent=indent, sort_keys=False) + "\n"
