"""Datums, their files, their ids (which paths) and their hashes (which content)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import NamedTuple

PFS_ROOT = "/pfs"


class DatumFile(NamedTuple):
    """One input file of a datum (a named tuple: a job holds hundreds of thousands).

    ``datum_root`` is the path the glob matched (a file, a directory, or ``""`` for the
    whole repo with glob ``/``); ``path`` is the file itself. ``empty_files`` and ``lazy``
    are copied from the pfs input for the materialiser.
    """

    input_name: str
    repo: str
    commit: str
    path: str
    checksum: str
    size: int
    datum_root: str
    empty_files: bool = False
    lazy: bool = False

    @property
    def container_path(self) -> str:
        """Where the user's code finds the file: ``/pfs/<input name>/<original path>``."""
        return f"{PFS_ROOT}/{self.input_name}/{self.path}"


class Datum(NamedTuple):
    """A unit of work: its stable id and the files it reads, in input order.

    Datums, their files and manifest entries are named tuples rather than dataclasses:
    a job holds hundreds of thousands of them, and tuples of plain values drop out of
    the garbage collector's scans, which keeps planning fast.
    """

    id: str
    files: tuple[DatumFile, ...]

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    @property
    def input_names(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for file in self.files:
            seen.setdefault(file.input_name)
        return tuple(seen)

    def commits(self) -> dict[str, str]:
        """Input name -> commit id read by this datum."""
        return {file.input_name: file.commit for file in self.files}


# Every field is length-prefixed ("3:abc") so that ("ab", "c") and ("a", "bc") never hash
# alike. The formatting is inlined below: these run once per datum of every job.


def datum_id(parts: Iterable[tuple[str, str, str]]) -> str:
    """Id of a datum from its ``(input name, repo, matched path)`` parts, in order.

    Only names and matched paths count (as in Pachyderm, which also hashes the repo), not
    content and not commit ids: the same files keep the same datum id from commit to
    commit, which is what lets a new job recognise datums it has already processed.
    The id is the full sha256 hex digest (64 characters).
    """
    text = "".join(
        [f"{len(name)}:{name}{len(repo)}:{repo}{len(root)}:{root}" for name, repo, root in parts]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def datum_hash(datum: Datum, salt: str) -> str:
    """Hash of what a datum would compute: its id, each file's path and lakeFS checksum,
    and the pipeline salt (which changes when the transform changes).

    lakeFS already knows every object's checksum, so nothing is downloaded. The path is
    hashed with the checksum so that renaming a file inside a directory datum counts as a
    change.
    """
    files = "".join(
        [
            f"{len(f.input_name)}:{f.input_name}{len(f.path)}:{f.path}"
            f"{len(f.checksum)}:{f.checksum}"
            for f in datum.files
        ]
    )
    text = f"{len(datum.id)}:{datum.id}{files}{len(salt)}:{salt}"
    return hashlib.sha256(text.encode()).hexdigest()
