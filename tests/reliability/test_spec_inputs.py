"""Causes 9-13: hostile globs cannot stall planning; odd spec files get FILE:LINE:COL errors.

Every spec here goes through the real CLI (`validate`, `datums`) in a subprocess, as a user
would run it: a non-zero exit, a located message, and never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from rawhttp import RawClient

from airflow_pachyderm.datums.glob import MAX_NESTING

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)$")
SPEC = """\
pipeline: {{name: {name}}}
input:
  pfs: {{repo: some-data, name: data, glob: "/*"}}
transform:
  image: airflow-pachyderm/python:latest
  cmd: [python3, -c, "pass"]
{extra}"""


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    environment = {**os.environ, **(env or {})}
    for key in [k for k in environment if k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME"]:
        del environment[key]
    return subprocess.run(
        [sys.executable, "-m", "airflow_pachyderm", *args],
        capture_output=True, text=True, timeout=timeout, env=environment,
    )  # fmt: skip


def validate(tmp_path: Path, files: dict[str, str]) -> dict[str, list[str]]:
    """Validate ``files`` (name -> text) in one run; the errors of each file, located."""
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    result = cli("validate", *paths)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    errors: dict[str, list[str]] = {name: [] for name in files}
    for line in output.splitlines():
        if not line or line.endswith("error(s)"):
            continue
        match = LOCATED.match(line)
        assert match, f"not FILE:LINE:COL: {line!r}"
        errors[Path(match["file"]).name].append(match["rest"])
    return errors


# ---------------------------------------------------------------- 9: catastrophic globs

HOSTILE_GLOBS = [
    "/+(+(a|aa))b",  # nested repetition of alternatives
    "/*(*(a)|a)b",  # nested repetition, overlapping branches
    "/**a**a**a**a**a**a**a**a**ab",  # many unbounded runs
    "/+(@(a|a|a))*(a)+(a)c",  # identical alternatives, repeated
    "/(*)*(*)*(*)*(*)*(*)x",  # captures around overlapping stars
]


def test_hostile_globs_plan_in_linear_time(lakefs_server, tmp_path: Path) -> None:
    raw = RawClient(lakefs_server)
    repo = raw.new_repo()
    # Crafted names: long runs that almost match, plus one that matches each glob.
    for name in ["a" * 3000, "a" * 2999 + "!", "a" * 1500 + "/" + "a" * 1500]:
        raw.upload(repo, name, b"crafted")
    for name in ["aab", "ab", "aaac", "x", "a" * 9 + "b"]:
        raw.upload(repo, name, b"ok")
    assert raw.commit(repo).status == 201
    raw.close()
    members = "\n".join(
        f'    - pfs: {{repo: {repo}, name: in{i}, glob: "{glob}"}}'
        for i, glob in enumerate(HOSTILE_GLOBS)
    )
    spec = tmp_path / "hostile.yaml"
    spec.write_text(
        "pipeline: {name: hostile}\ninput:\n  cross:\n" + members + "\n"
        "transform: {image: airflow-pachyderm/python:latest, cmd: [python3]}\n"
    )
    env = {**lakefs_server.env(), "AIRFLOW_PACHYDERM_RUN_HOME": str(tmp_path / "airflow")}
    # Backtracking took > 90 s on one of these names; linear matching takes well under one.
    result = cli("datums", str(spec), "--json", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    picked: dict[str, set[str]] = {}
    for row in rows:
        for file in row["files"]:
            picked.setdefault(file["input"], set()).add(file["path"])
    nine = "a" * 9 + "b"
    assert picked == {"in0": {"aab", "ab", nine}, "in1": {"aab", "ab", nine}, "in2": {nine},
                      "in3": {"aaac"}, "in4": {"x"}}  # fmt: skip
    assert len(rows) == 3 * 3


# ---------------------------------------------------------------- 10: deep glob nesting


def test_deeply_nested_glob_is_a_located_error(tmp_path: Path) -> None:
    files, expected = {}, {}
    for opener in ["(", "{", "+(", "@("]:
        closer = ")" if "(" in opener else "}"
        for depth in [MAX_NESTING + 1, 500, 5000]:
            glob = "/" + opener * depth + "a" + closer * depth
            name = f"deep-{len(files)}.yaml"
            files[name] = SPEC.format(name=name[:-5], extra="").replace('"/*"', json.dumps(glob))
            expected[name] = (
                "characters long: at most 1024 are allowed" if len(glob) > 1024
                else f"nest deeper than {MAX_NESTING} levels"
            )  # fmt: skip
    for name, errors in validate(tmp_path, files).items():
        assert len(errors) == 1 and errors[0].startswith("input.pfs.glob: "), errors
        assert expected[name] in errors[0] and len(errors[0]) < 400  # not echoed in full


def test_glob_nesting_up_to_the_bound_is_fine(tmp_path: Path) -> None:
    glob = "/" + "(" * MAX_NESTING + "a" + ")" * MAX_NESTING
    text = SPEC.format(name="deep", extra="").replace('"/*"', json.dumps(glob))
    (tmp_path / "ok.yaml").write_text(text)
    result = cli("validate", str(tmp_path / "ok.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- 11: huge numbers


HUGE_NUMBER_PLACES = [
    "parallelismSpec: {{constant: {n}}}",
    "datumTries: {n}",
    "resourceLimits: {{cpu: {n}}}",
    "resourceLimits: {{memory: {n}}}",
    "resourceLimits: {{cpu: {n}.5}}",
    "datumSetSpec: {{number: -{n}}}",
    "airflow: {{max_active_runs: {n}}}",
    "salt: {n}.0",
]


def test_huge_integer_is_a_located_error(tmp_path: Path) -> None:
    files = {
        f"huge-{i}-{digits}.yaml": SPEC.format(
            name=f"huge-{i}-{digits}", extra=place.format(n="9" * digits)
        )
        for i, place in enumerate(HUGE_NUMBER_PLACES)
        for digits in [101, 5000, 50_000]
    }
    for name, errors in validate(tmp_path, files).items():
        assert len(errors) == 1, (name, errors)
        assert "characters is too long (at most 100)" in errors[0], errors


# ---------------------------------------------------------------- 12: null documents


def test_null_document_is_not_ok(tmp_path: Path) -> None:
    texts = ["~\n", "null\n", "---\n~\n", "--- null\n", "~\n...\n", "# comment\n~\n"]
    files = {f"null-{i}.yaml": text for i, text in enumerate(texts)}
    for errors in validate(tmp_path, files).values():
        assert errors == [
            "expected a pipeline spec (a mapping with pipeline, input, transform...) or "
            "`pipelines:` followed by a list of them"
        ]


def test_null_document_next_to_a_valid_one_is_still_reported(tmp_path: Path) -> None:
    text = SPEC.format(name="good", extra="") + "---\n~\n"
    errors = validate(tmp_path, {"mixed.yaml": text})["mixed.yaml"]
    assert len(errors) == 1 and errors[0].startswith("expected a pipeline spec")


# ---------------------------------------------------------------- 13: resource limits


REFUSED_LIMITS = [
    ("memory: 999999999999999999999Ti", "memory", "more than Docker or Kubernetes accept"),
    ("memory: 9Ei", "memory", "more than Docker or Kubernetes accept"),
    ("memory: 1e30", "memory", "more than Docker or Kubernetes accept"),
    ("memory: 1Mi", "memory", "below Docker's minimum of 6Mi"),
    ("memory: 100", "memory", "below Docker's minimum of 6Mi"),
    ("cpu: 99999999999", "cpu", "more than any machine has"),
    ("cpu: .inf", "cpu", "more than any machine has"),
    ("cpu: .nan", "cpu", "more than any machine has"),
    ("cpu: 1m", "cpu", "below Docker's minimum of 0.01"),
    ("cpu: 0.001", "cpu", "below Docker's minimum of 0.01"),
    ("pids: 0", "pids", "must be at least 16"),
    ("pids: 99999999999", "pids", "less than or equal to 4194304"),
]


def test_resource_limits_docker_refuses_are_refused_when_validating(tmp_path: Path) -> None:
    files = {
        f"limits-{i}.yaml": SPEC.format(name=f"limits-{i}", extra=f"resourceLimits: {{{limits}}}\n")
        for i, (limits, _, _) in enumerate(REFUSED_LIMITS)
    }
    found = validate(tmp_path, files)
    for i, (limits, field, message) in enumerate(REFUSED_LIMITS):
        errors = found[f"limits-{i}.yaml"]
        assert len(errors) == 1, (limits, errors)
        assert errors[0].startswith(f"resourceLimits.{field}: ") and message in errors[0], errors


def test_resource_limits_docker_accepts_validate(tmp_path: Path) -> None:
    text = SPEC.format(
        name="limits", extra="resourceLimits: {memory: 6Mi, cpu: 10m, pids: 64}\n"
    )
    (tmp_path / "ok.yaml").write_text(text)
    result = cli("validate", str(tmp_path / "ok.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
