"""Helpers for datum tests: in-memory repos listed like lakeFS lists them (sorted).

A uniquely named module (not conftest) so that tests of other packages never shadow it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from airflow_pachyderm.datums import FileEntry, PfsLeaf


def checksum_of(content: str) -> str:
    return hashlib.md5(content.encode()).hexdigest()


class Repos:
    """repo -> commit -> {path: content}; the lister sorts paths as lakeFS does."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict[str, str]]] = {}
        self.calls: list[tuple[str, str]] = []

    def put(self, repo: str, commit: str, files: Mapping[str, str] | Iterable[str]) -> None:
        if not isinstance(files, Mapping):
            files = {path: path for path in files}
        self.data.setdefault(repo, {})[commit] = dict(files)

    def lister(self, leaf: PfsLeaf) -> list[FileEntry]:
        self.calls.append((leaf.repo, leaf.commit))
        files = self.data[leaf.repo][leaf.commit]
        return [
            FileEntry(path, checksum_of(content), len(content))
            for path, content in sorted(files.items())
        ]


def pfs(repo: str, glob: str, commit: str = "c1", **kwargs: object) -> PfsLeaf:
    name = kwargs.pop("name", repo)
    return PfsLeaf(name=name, repo=repo, branch="main", commit=commit, glob=glob, **kwargs)
