"""Files, directories, documents, YAML features and hostile YAML."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from airflow_pachyderm.spec import SpecErrors, load_specs
from airflow_pachyderm.spec.loader import collect_specs

VALID = Path(__file__).parent / "valid"

SPEC = """\
pipeline: {{name: {name}}}
input: {{pfs: {{repo: {repo}, glob: "/*"}}}}
transform: {{image: busybox, cmd: ["true"]}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_multi_document_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "two.yaml",
        SPEC.format(name="aaa", repo="raw") + "---\n" + SPEC.format(name="bbb", repo="aaa"),
    )
    specs = load_specs(path)
    assert [(s.name, s.source_file, s.source_line) for s in specs] == [
        ("aaa", str(path), 1),
        ("bbb", str(path), 5),
    ]
    assert specs[1].source_text == SPEC.format(name="bbb", repo="aaa")


def test_pipelines_list_keeps_each_items_text(tmp_path: Path) -> None:
    (spec,) = load_specs(VALID / "nested.yaml")
    assert spec.source_line == 2
    assert spec.source_text is not None
    assert spec.source_text.startswith("pipeline: {name: nested}\ndescription:")
    assert "\n  cross:\n" in spec.source_text  # list indentation removed


def test_anchor_and_merge_key() -> None:
    first, second = load_specs(VALID / "anchors.yaml")
    assert first.transform.image == second.transform.image == "python:3.12-slim"
    assert second.transform.env == {"MODE": "fast"}
    # The merge does not override the key written next to it.
    assert second.transform.cmd == ["python3", "/code/second.py"]


def test_directory_is_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", SPEC.format(name="bbb", repo="raw"))
    write(tmp_path / "a.yml", SPEC.format(name="aaa", repo="raw"))
    write(
        tmp_path / "sub" / "c.json",
        '{"pipeline": {"name": "ccc"}, "input": {"pfs": '
        '{"repo": "raw", "glob": "/"}}, "transform": {"image": "busybox", "cmd": ["true"]}}',
    )
    write(tmp_path / ".hidden" / "d.yaml", "not: [a, spec")
    write(tmp_path / "notes.txt", "ignored")
    assert [s.name for s in load_specs(tmp_path)] == ["aaa", "bbb", "ccc"]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecErrors) as raised:
        load_specs([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert str(raised.value).splitlines() == [
        f"{tmp_path / 'empty'}:1:1: directory holds no *.yaml, *.yml or *.json file",
        f"{tmp_path / 'nope.yaml'}:1:1: no such file or directory",
    ]


def test_valid_specs_are_returned_beside_errors(tmp_path: Path) -> None:
    good = write(tmp_path / "good.yaml", SPEC.format(name="good", repo="raw"))
    bad = write(tmp_path / "bad.yaml", SPEC.format(name="bad", repo="raw").replace("busybox", '""'))
    specs, errors = collect_specs([good, bad])
    assert [s.name for s in specs] == ["good"]
    assert [str(e) for e in errors] == [f"{bad}:3:20: transform.image: must not be empty"]


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = write(tmp_path / "laughs.yaml", "\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(SpecErrors) as raised:
        load_specs(path)
    assert time.monotonic() - started < 5
    (error,) = raised.value.errors
    assert "expands to more than 100000 values" in error.message
    assert 1 <= error.line <= 10  # a node of the document, not a crash


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "loop.yaml", "pipeline: &loop\n  name: *loop\n")
    with pytest.raises(SpecErrors) as raised:
        load_specs(path)
    assert any("deeper than" in e.message or "more than" in e.message for e in raised.value.errors)


def test_duplicate_key_blocks_the_spec(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.yaml", SPEC.format(name="dup", repo="raw") + "salt: a\nsalt: b\n")
    specs, errors = collect_specs(path)
    assert specs == []
    assert [str(e) for e in errors] == [
        f"{path}:5:1: salt: duplicate key 'salt' (first set at line 4); keep one"
    ]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("pipeline: {name: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(SpecErrors, match=r"latin1.yaml:1:1: file is not UTF-8 text"):
        load_specs(path)


def test_cache_sees_changed_files(tmp_path: Path) -> None:
    path = write(tmp_path / "spec.yaml", SPEC.format(name="first", repo="raw"))
    assert load_specs(path)[0].name == "first"
    assert load_specs(path)[0] is load_specs(path)[0]  # served from the cache
    path.write_text(SPEC.format(name="second", repo="raw"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_specs(path)[0].name == "second"
