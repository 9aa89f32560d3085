"""Lineage: what an output was made from, and what was made from a commit.

Every output commit names its inputs' commits in its metadata (``pachyderm.input.*``) and
every output file its datum and input files in the datum manifest, so lineage is a walk
over commit metadata; nothing else is stored. Upstream walks follow the input commits;
downstream walks scan the commits newer than the start (an output is always younger than
its inputs) once, and index them by the inputs they name.

The CLI (``airflow-pachyderm lineage``/``wait``) and the UI plugin both render
:meth:`Lineage.to_dict`; neither walks provenance itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from airflow_pachyderm.datums.manifest import MANIFEST_PATH, ManifestInput, iter_manifest
from airflow_pachyderm.errors import LineageError
from airflow_pachyderm.jobs.storage import read_with
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.lakefs.provenance import Provenance

Direction = Literal["upstream", "downstream"]
CommitKey = tuple[str, str]  # (repo, commit id)

# Commit dates have one-second resolution and clocks of writers may differ slightly: a
# downstream scan keeps reading this far past the start commit's date.
_DATE_SLACK_SECONDS = 5


@dataclass(frozen=True)
class CommitNode:
    """One commit in a lineage graph; ``provenance`` is None for source data."""

    repo: str
    commit: str
    message: str
    creation_date: int
    committer: str
    provenance: Provenance | None

    @property
    def key(self) -> CommitKey:
        return (self.repo, self.commit)

    def to_dict(self) -> dict[str, Any]:
        node: dict[str, Any] = {
            "repo": self.repo,
            "commit": self.commit,
            "message": self.message,
            "creation_date": self.creation_date,
            "committer": self.committer,
            "pipeline": None,
        }
        prov = self.provenance
        if prov is not None:
            node.update(
                pipeline=prov.pipeline,
                job=prov.job,
                spec_hash=prov.spec_hash,
                image=prov.image,
                image_id=prov.image_id,
                datums=dict(prov.datums),
                output_branch=prov.output_branch,
                dag_id=prov.dag_id,
                run_id=prov.run_id,
                airflow_url=prov.airflow_url,
            )
        return node


@dataclass(frozen=True)
class LineageEdge:
    """``output`` was computed from ``input`` (read as the pipeline input ``input_name``)."""

    output: CommitKey
    input: CommitKey
    input_name: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": {"repo": self.output[0], "commit": self.output[1]},
            "input": {"repo": self.input[0], "commit": self.input[1]},
            "input_name": self.input_name,
        }


@dataclass(frozen=True)
class FileOrigin:
    """Where one file of a commit came from: its datum and the exact files it read.

    ``datum_id`` is empty for a file of source data (no pipeline wrote it).
    """

    repo: str
    commit: str
    path: str
    datum_id: str = ""
    inputs: tuple[ManifestInput, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "commit": self.commit,
            "path": self.path,
            "datum_id": self.datum_id or None,
            "inputs": [
                {"input": i.input_name, "repo": i.repo, "commit": i.commit, "path": i.path}
                for i in self.inputs
            ],
        }


@dataclass
class Lineage:
    """A provenance graph around one commit (and optionally one of its files)."""

    root: CommitNode
    direction: Direction
    nodes: dict[CommitKey, CommitNode] = field(default_factory=dict)
    edges: list[LineageEdge] = field(default_factory=list)
    file: FileOrigin | None = None
    # True when ``depth`` stopped the walk before the graph ended.
    truncated: bool = False

    def inputs_of(self, key: CommitKey) -> list[LineageEdge]:
        return [edge for edge in self.edges if edge.output == key]

    def outputs_of(self, key: CommitKey) -> list[LineageEdge]:
        return [edge for edge in self.edges if edge.input == key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "root": {"repo": self.root.repo, "commit": self.root.commit},
            "nodes": [node.to_dict() for node in self.nodes.values()],
            "edges": [edge.to_dict() for edge in self.edges],
            "file": self.file.to_dict() if self.file else None,
            "truncated": self.truncated,
        }


def commit_node(client: LakeFSClient, repo: str, ref: str) -> CommitNode:
    """The commit ``ref`` resolves to in ``repo``.

    :raises NotFoundError: no such repository or ref.
    """
    return _node(repo, client.get_commit(repo, ref))


def _node(repo: str, commit: Any) -> CommitNode:
    metadata = dict(commit.metadata or {})
    return CommitNode(
        repo=repo,
        commit=commit.id,
        message=commit.message or "",
        creation_date=int(commit.creation_date or 0),
        committer=commit.committer or "",
        provenance=Provenance.from_metadata(metadata),
    )


def upstream(
    client: LakeFSClient,
    repo: str,
    ref: str,
    path: str | None = None,
    depth: int | None = None,
) -> Lineage:
    """Every commit ``repo@ref`` was computed from, back to source data.

    :param path: a file of that commit: also find the datum that wrote it and the exact
        input files it read (for source data, only that the file exists).
    :param depth: how many pipeline steps to walk up (None: to the sources).
    :raises NotFoundError: the repository, ref or path does not exist.
    :raises LineageError: ``path`` is in an output commit but no datum wrote it.
    """
    root = commit_node(client, repo, ref)
    lineage = Lineage(root=root, direction="upstream", nodes={root.key: root})
    if path is not None:
        lineage.file = file_origin(client, root, path)
    frontier: deque[tuple[CommitNode, int]] = deque([(root, 0)])
    while frontier:
        node, level = frontier.popleft()
        if node.provenance is None:
            continue
        if depth is not None and level >= depth:
            lineage.truncated = True
            continue
        for item in node.provenance.inputs:
            key = (item.repo, item.commit)
            lineage.edges.append(LineageEdge(node.key, key, item.name))
            if key in lineage.nodes:
                continue
            try:
                parent = commit_node(client, item.repo, item.commit)
            except NotFoundError:
                # The input repo was deleted since: keep the edge, name what is known.
                parent = CommitNode(item.repo, item.commit, "(not found)", 0, "", None)
            lineage.nodes[key] = parent
            frontier.append((parent, level + 1))
    return lineage


def file_origin(client: LakeFSClient, node: CommitNode, path: str) -> FileOrigin:
    """The datum that wrote ``path`` in ``node`` and the input files it read.

    The manifest is streamed: finding one file never holds the whole manifest in memory.

    :raises NotFoundError: ``path`` is not a file of that commit.
    :raises LineageError: the commit is a pipeline output but no datum wrote ``path``.
    """
    path = path.lstrip("/")
    client.stat(node.repo, node.commit, path)  # NotFoundError names a missing path
    if node.provenance is None:
        return FileOrigin(node.repo, node.commit, path)
    source = f"{node.repo}@{node.commit}/{MANIFEST_PATH}"

    def find(fh: IO[bytes]) -> FileOrigin | None:
        for entry in iter_manifest(fh, source):
            if path in entry.outputs:
                return FileOrigin(node.repo, node.commit, path, entry.datum_id, entry.inputs)
        return None

    try:
        origin = read_with(client, node.repo, node.commit, MANIFEST_PATH, find)
    except NotFoundError:
        origin = None
    if origin is None:
        raise LineageError(
            f"{node.repo}@{node.commit[:12]}: no datum of job "
            f"{node.provenance.job[:12]} wrote {path!r}"
        )
    return origin


def downstream(
    client: LakeFSClient,
    repo: str,
    ref: str,
    depth: int | None = None,
    repos: Iterable[str] | None = None,
) -> Lineage:
    """Every output commit computed from ``repo@ref``, directly or through other outputs.

    Scans the branches of ``repos`` (default: every repository) back to the start
    commit's date, once, and follows the inputs the commits name.

    :param depth: how many pipeline steps to walk down (None: all).
    :param repos: the repositories that may hold outputs (e.g. a pipeline graph's).
    :raises NotFoundError: the repository or ref does not exist.
    """
    root = commit_node(client, repo, ref)
    lineage = Lineage(root=root, direction="downstream", nodes={root.key: root})
    made_from: dict[CommitKey, list[tuple[CommitNode, str]]] = {}
    for node in _outputs_since(client, repos, root.creation_date - _DATE_SLACK_SECONDS):
        assert node.provenance is not None
        for item in node.provenance.inputs:
            made_from.setdefault((item.repo, item.commit), []).append((node, item.name))
    frontier: deque[tuple[CommitNode, int]] = deque([(root, 0)])
    while frontier:
        node, level = frontier.popleft()
        children = made_from.get(node.key, [])
        if children and depth is not None and level >= depth:
            lineage.truncated = True
            continue
        for child, input_name in children:
            lineage.edges.append(LineageEdge(child.key, node.key, input_name))
            if child.key not in lineage.nodes:
                lineage.nodes[child.key] = child
                frontier.append((child, level + 1))
    return lineage


def _outputs_since(
    client: LakeFSClient, repos: Iterable[str] | None, since: int
) -> Iterator[CommitNode]:
    """Pipeline output commits on any branch of ``repos`` created at or after ``since``."""
    names = list(repos) if repos is not None else [r.id for r in client.list_repositories()]
    for name in names:
        seen: set[str] = set()
        try:
            branches = [b.id for b in client.list_branches(name)]
        except NotFoundError:
            continue
        for branch in branches:
            for commit in client.log_commits(name, branch):
                if int(commit.creation_date or 0) < since:
                    break
                if commit.id in seen:  # shared history with a branch already scanned
                    continue
                seen.add(commit.id)
                node = _node(name, commit)
                if node.provenance is not None:
                    yield node
