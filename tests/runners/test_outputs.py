from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_pachyderm.runners.base import OutputError
from airflow_pachyderm.runners.outputs import clear_dir, collect_outputs, move_contents


def test_collects_nested_regular_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("1")
    (tmp_path / "top.csv").write_text("2")
    (tmp_path / "empty").mkdir()
    assert collect_outputs("d1", tmp_path) == ["a/b/x.txt", "top.csv"]


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p: os.symlink("/etc/passwd", p), "symbolic links"),
        (lambda p: os.symlink("does-not-exist", p), "symbolic links"),
        (lambda p: os.symlink("../..", p), "symbolic links"),
        (lambda p: os.mkfifo(p), "only regular files"),
    ],
    ids=["absolute-link", "dangling-link", "escaping-dir-link", "fifo"],
)
def test_rejects_links_and_special_files(tmp_path: Path, make, problem: str) -> None:
    (tmp_path / "sub").mkdir()
    make(tmp_path / "sub" / "bad")
    with pytest.raises(OutputError) as info:
        collect_outputs("datum-7", tmp_path)
    assert info.value.datum_id == "datum-7"
    assert info.value.path == "sub/bad"
    assert problem in str(info.value)
    assert "datum datum-7: /pfs/out/sub/bad" in str(info.value)


def test_clear_and_move_keep_the_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "d").mkdir(parents=True)
    (out / "d" / "f").write_text("x")
    (out / "g").write_text("y")
    inode = os.stat(out).st_ino
    move_contents(out, tmp_path / "result")
    assert sorted(os.listdir(tmp_path / "result")) == ["d", "g"]
    assert os.listdir(out) == []
    (out / "h").write_text("z")
    clear_dir(out)
    assert os.listdir(out) == []
    assert os.stat(out).st_ino == inode


def test_reserved_bookkeeping_directory_is_refused(tmp_path) -> None:
    (tmp_path / "_pachyderm").mkdir()
    (tmp_path / "_pachyderm" / "manifest.jsonl.gz").write_bytes(b"forged")
    with pytest.raises(OutputError, match="reserved"):
        collect_outputs("d1", tmp_path)
