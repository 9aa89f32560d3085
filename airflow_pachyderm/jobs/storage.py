"""Reading and writing the job's files (state, manifests, datum lists) in lakeFS."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO, TypeVar

from airflow_pachyderm.datums import FileEntry, Manifest, read_manifest
from airflow_pachyderm.datums.manifest import (
    MANIFEST_PATH,
    PlanningManifest,
    read_planning_manifest,
)
from airflow_pachyderm.jobs.job import RESERVED_PREFIX
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.errors import NotFoundError

T = TypeVar("T")

# Spill to disk past this size so that a big manifest never sits in memory twice.
_SPOOL_BYTES = 8 * 1024 * 1024


def upload_written(
    client: LakeFSClient, repo: str, branch: str, path: str, write: Callable[[IO[bytes]], object]
) -> None:
    """Upload what ``write(fileobj)`` writes, spooled to disk when large."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as fh:
        write(fh)
        fh.seek(0)
        client.upload(repo, branch, path, fh)


def read_with(
    client: LakeFSClient, repo: str, ref: str, path: str, read: Callable[[IO[bytes]], T]
) -> T:
    """Download ``path`` (spooled) and hand the file object to ``read``."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as fh:
        client.download(repo, ref, path, fh)
        fh.seek(0)
        return read(fh)


# Listings up to this many files are kept for a second read of the same repo@commit (a
# cross of a repo with itself); bigger ones are listed again rather than held in memory.
LISTING_CACHE_FILES = 10_000


def read_previous_manifest(
    client: LakeFSClient, repo: str, commit: str, *, compact: bool = False
) -> Manifest | PlanningManifest | None:
    """The datum manifest of an output commit; None for a commit no job wrote.

    :param compact: read it as a :class:`PlanningManifest` (no inputs, a fraction of the
        memory), enough to plan a job.
    """
    reader = read_planning_manifest if compact else read_manifest
    try:
        return read_with(
            client, repo, commit, MANIFEST_PATH,
            lambda fh: reader(fh, source=f"{repo}@{commit}/{MANIFEST_PATH}"),
        )
    except NotFoundError:
        return None


def lakefs_lister(client: LakeFSClient) -> Callable[[object], Iterator[FileEntry]]:
    """A datum lister over lakeFS listings at pinned commits.

    The provider's own bookkeeping under ``_pachyderm/`` is never an input. Listings of the
    same repo@commit (a repo read twice in a cross) are fetched once when they are small
    (``LISTING_CACHE_FILES``), else listed again: the datum engine streams big listings.
    """
    cache: dict[tuple[str, str], list[FileEntry]] = {}

    def list_files(leaf: object) -> Iterator[FileEntry]:
        repo, commit = leaf.repo, leaf.commit  # type: ignore[attr-defined]
        key = (repo, commit)
        if key in cache:
            yield from cache[key]
            return
        collected: list[FileEntry] | None = []
        for path, checksum, size in client.iter_object_entries(repo, commit):
            if path.startswith(RESERVED_PREFIX):
                continue
            entry = FileEntry(path, checksum, size)
            if collected is not None:
                collected.append(entry)
                if len(collected) > LISTING_CACHE_FILES:
                    collected = None
            yield entry
        if collected is not None:
            cache[key] = collected

    return list_files
