"""Turn pydantic's validation errors into messages a pipeline author can act on."""

from __future__ import annotations

import difflib
import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from airflow_pachyderm.spec.models import SPEC_ERROR, PipelineSpec

Path = tuple[str | int, ...]

# What to write when a required field is missing, by field key.
MISSING_HINTS = {
    "pipeline": "add `pipeline: {name: <pipeline name>}`",
    "name": "add `name: <name>`",
    "input": 'add an input, e.g. `input: {pfs: {repo: <repo>, glob: "/*"}}`',
    "transform": "add `transform:` with `image:` and `cmd:`",
    "image": "add the container image to run, e.g. `image: python:3.12-slim`",
    "cmd": 'add the command to run as a list, e.g. `cmd: ["python3", "/code/main.py"]`',
    "repo": "add the lakeFS repository to read, e.g. `repo: images`",
    "glob": 'add a glob: `glob: "/"` (the whole repo is one datum) or `glob: "/*"` '
    "(one datum per top-level file or directory)",
    "spec": 'add the schedule, e.g. `spec: "@hourly"` or `spec: "*/10 * * * *"`',
    "env_var": "add the environment variable that receives the secret, e.g. `env_var: API_TOKEN`",
    "URL": "add the destination, e.g. `URL: s3://bucket/prefix`",
    "number": "add how many, e.g. `number: 1`",
}

# Pachyderm options with no meaning here: say so instead of "unknown key".
UNSUPPORTED = {
    "spout": "spout pipelines are not supported: instead of a long-running container "
    "pushing data, write an Airflow DAG (or any lakeFS client) that commits the data to a "
    "lakeFS repository, and read that repo with a pfs input",
    "service": "service pipelines are not supported",
    "s3Out": "the S3 output gateway is not supported; the container writes to /pfs/out",
    "s3": "the S3 input gateway is not supported; inputs are files under /pfs/<name>",
    "tfJob": "TFJob pipelines are not supported",
    "coefficient": "only a constant parallelism is supported: write `constant: <N>`",
    "trigger": "branch triggers are not supported: every new commit triggers the pipeline",
    "commit": "pinning an input commit in the spec is not supported: pass it in the DAG "
    "run's `input_<name>` param",
    "objectStorage": "only URL egress is supported",
    "reprocess": "use `reprocessSpec: every_job` or the DAG run's `reprocess` param",
    "dockerfile": "build the image yourself and set `image:`",
    "debug": "not supported",
    "sizeBytes": "batches are sized by datum count only: use `number`",
    "perWorker": "batches are sized by datum count only: use `number`",
    "repoType": "not needed: the repo is a lakeFS repository",
    "start": "not supported: cron inputs start with the first scheduled tick",
}


def human_message(error: dict[str, Any], data: Any = None) -> str:
    """One pydantic error dict -> the message shown after ``field.path:``.

    ``data`` is the validated document, used to tell a misspelt key from a repeated one.
    """
    kind = error["type"]
    loc: Path = tuple(error["loc"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == SPEC_ERROR:
        return str(ctx.get("detail", error["msg"]))
    if kind == "missing":
        key = loc[-1] if loc else ""
        hint = MISSING_HINTS.get(str(key), f"add `{key}:`")
        return f"required field is missing: {hint}"
    if kind == "extra_forbidden":
        return unknown_key_message(loc, _at(data, loc[:-1]))
    if kind == "string_type":
        if isinstance(value, (bool, int, float)):
            shown = json.dumps(value)
            return f'expected a string, got {describe(value)}; quote it: "{shown}"'
        return f"expected a string, got {describe(value)}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"expected a whole number, got {describe(value)}"
    if kind in {"float_type", "float_parsing"}:
        return f"expected a number, got {describe(value)}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"expected true or false, got {describe(value)}"
    if kind == "list_type":
        return f"expected a list (`- item` lines or `[a, b]`), got {describe(value)}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a mapping (`key: value` lines), got {describe(value)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {describe(value)}"
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        word = "at least" if kind == "greater_than_equal" else "more than"
        return f"must be {word} {bound}, got {describe(value)}"
    if kind == "too_short":
        return f"must list at least {ctx.get('min_length', 1)} item(s), got none"
    return str(error["msg"])


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _at(data: Any, path: Path) -> Any:
    for part in path:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_dict or in_list:
            data = data[part]
        else:
            return None
    return data


def unknown_key_message(loc: Path, siblings: Any = None) -> str:
    key = str(loc[-1])
    model = model_at(loc[:-1])
    known = field_keys(model) if model is not None else {}
    field_name = known.get(_norm(key))
    if loc[-2:] == ("transform", "datumBatching") or loc[-2:] == ("transform", "datum_batching"):
        return "datumBatching is set both here and at the top level; keep one"
    present = isinstance(siblings, dict) and any(
        other != key and isinstance(other, str) and _norm(other) == _norm(key) for other in siblings
    )
    if field_name is not None and present:
        return f"{key!r} repeats another spelling of the same field {field_name!r}; keep one"
    if field_name is not None:
        return f"unknown key {key!r}: did you mean {field_name!r}?"
    if key in UNSUPPORTED:
        return f"unknown key {key!r}: a Pachyderm option not supported here: {UNSUPPORTED[key]}"
    # Keys accepted only to be ignored (Kubernetes settings) are not worth suggesting.
    ignored = {info.alias or name for name, info in model.model_fields.items() if info.exclude}
    candidates = sorted({name for name in known.values()} - {to_camel(n) for n in ignored})
    lowered = {name.lower(): name for name in candidates}
    match = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    if match:
        return f"unknown key {key!r}: did you mean {lowered[match[0]]!r}?"
    if candidates:
        return f"unknown key {key!r}: expected one of {', '.join(candidates)}"
    return f"unknown key {key!r}"


def _norm(key: str) -> str:
    return key.replace("_", "").lower()


def field_keys(model: type[BaseModel]) -> dict[str, str]:
    """Normalised spelling -> the key to suggest, for every key ``model`` accepts."""
    keys: dict[str, str] = {}
    for name, info in model.model_fields.items():
        shown = info.alias or name
        keys[_norm(name)] = shown
        keys[_norm(shown)] = shown
        choices = getattr(info.validation_alias, "choices", None) or []
        for choice in choices:
            if isinstance(choice, str):
                keys[_norm(choice)] = shown
    return keys


def model_at(path: Path) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path`` of a pipeline spec."""
    model: type[BaseModel] | None = PipelineSpec
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        wanted = _norm(part)
        annotation = None
        for name, info in model.model_fields.items():
            names = {_norm(name), _norm(info.alias or name)}
            choices = getattr(info.validation_alias, "choices", None) or []
            names.update(_norm(c) for c in choices if isinstance(c, str))
            if wanted in names:
                annotation = info.annotation
                break
        model = _model_in(annotation) if annotation is not None else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is dict:
        return None
    args: tuple[Any, ...] = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) or origin is list or args:
        for arg in args:
            found = _model_in(arg)
            if found is not None:
                return found
    return None
