"""The versioned store behind the API: repositories, branches, tags, commits, staged changes.

Semantics follow lakeFS (graveler): a branch is a pointer to a commit plus a staging area of
uncommitted changes; reading a branch shows both; a commit turns the staging area into a new
tree; merge is three-way against the merge base; revert applies the inverse of a commit.
Every change of refs happens in one SQLite transaction, so a crash leaves either the old or
the new state.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from airflow_pachyderm.server import names
from airflow_pachyderm.server.blobs import BlobInfo, BlobStore
from airflow_pachyderm.server.db import Database
from airflow_pachyderm.server.errors import (
    BadRequest,
    Conflict,
    DirtyBranch,
    Forbidden,
    MergeConflict,
    NoChanges,
    NotFound,
    PreconditionFailed,
)
from airflow_pachyderm.server.refs import looks_like_commit_id, parse_ref
from airflow_pachyderm.server.tree import Change, DiffItem, Entry, TreeStore, same_object

MERGE_STRATEGIES = ("source-wins", "dest-wins")
MERGE_STRATEGY_KEY = ".lakefs.merge.strategy"  # graveler MergeStrategyMetadataKey


@dataclass(frozen=True)
class Commit:
    id: str
    parents: list[str]
    committer: str
    message: str
    creation_date: int
    created_ns: int
    metadata: dict[str, str]
    meta_range_id: str
    generation: int

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "parents": list(self.parents),
            "committer": self.committer,
            "message": self.message,
            "creation_date": self.creation_date,
            "meta_range_id": self.meta_range_id,
            "metadata": dict(self.metadata),
            "generation": self.generation,
            "version": 1,
        }


@dataclass(frozen=True)
class View:
    """What a ref resolves to: a commit, plus the branch whose staging area is visible."""

    commit: Commit
    branch: str | None = None


@dataclass
class Page:
    items: list = field(default_factory=list)
    has_more: bool = False
    next_offset: str = ""


# Greater than every key the server stores: keys are at most MAX_PATH_BYTES of UTF-8 and
# U+10FFFF takes 4 bytes, so no key holds this many of them.
PAST_EVERY_KEY = "\U0010ffff" * (names.MAX_PATH_BYTES // 4 + 1)


def successor(prefix: str) -> str:
    """The smallest string greater than every key starting with ``prefix``.

    Trailing U+10FFFF have no successor and are dropped; the surrogate block (not valid in
    UTF-8, so in no key) is skipped. A prefix of only U+10FFFF gives ``PAST_EVERY_KEY``.
    """
    stripped = prefix.rstrip("\U0010ffff")
    if not stripped:
        return PAST_EVERY_KEY
    following = ord(stripped[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return stripped[:-1] + chr(following)


def page_of(items: Iterator, amount: int, key) -> Page:
    taken = []
    for item in items:
        taken.append(item)
        if len(taken) > amount:
            break
    has_more = len(taken) > amount
    taken = taken[:amount]
    return Page(taken, has_more, key(taken[-1]) if has_more else "")


class Store:
    def __init__(self, data_dir: Path, committer: str = "admin") -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.db = Database(data_dir / "lakefs.sqlite")
        self.blobs = BlobStore(data_dir / "blobs")
        self.trees = TreeStore(self.db)
        self.committer = committer

    # ---------------------------------------------------------------- repositories

    def create_repository(
        self,
        name: str,
        storage_namespace: str,
        default_branch: str,
        bare: bool = False,
        sample_data: bool = False,
    ) -> dict:
        """Create a repository (with ``default_branch`` on an empty first commit unless bare).

        Raises BadRequest (bad names, empty namespace, sample data asked: this server has
        none of lakeFS's sample assets) and Conflict (exists; checked first, as lakeFS does).
        """
        names.check_repository_name(name)
        names.check_branch_name(default_branch)
        if not storage_namespace:
            raise BadRequest("storage_namespace must not be empty")
        now = time.time_ns()
        with self.db.write() as conn:
            if self._repo_row(conn, name) is not None:
                raise Conflict(f"repository {name!r} already exists")
            if sample_data:
                raise BadRequest("sample_data is not supported by this server")
            conn.execute(
                "INSERT INTO repositories VALUES (?, ?, ?, ?)",
                (name, storage_namespace, default_branch, now // 1_000_000_000),
            )
            if not bare:
                commit = self._new_commit(
                    conn, name, [], "Repository created", {}, self.trees.empty_id, committer=""
                )
                conn.execute(
                    "INSERT INTO branches (repo, name, commit_id) VALUES (?, ?, ?)",
                    (name, default_branch, commit.id),
                )
        return self.get_repository(name)

    def get_repository(self, name: str) -> dict:
        row = self._repo_row(self.db.conn(), name)
        if row is None:
            raise NotFound(f"repository {name!r} not found")
        return _repo_api(row)

    def list_repositories(self, prefix: str, after: str, amount: int) -> Page:
        rows = self._list_names(
            "SELECT name, storage_namespace, default_branch, creation_date FROM repositories",
            "name",
            (),
            prefix,
            after,
            amount,
        )
        return page_of(iter(_repo_api(r) for r in rows), amount, lambda r: r["id"])

    def delete_repository(self, name: str) -> None:
        with self.db.write() as conn:
            if self._repo_row(conn, name) is None:
                raise NotFound(f"repository {name!r} not found")
            for table in ("staging", "branches", "tags", "commits"):
                conn.execute(f"DELETE FROM {table} WHERE repo = ?", (name,))
            conn.execute("DELETE FROM repositories WHERE name = ?", (name,))

    # ---------------------------------------------------------------- branches and tags

    def create_branch(self, repo: str, name: str, source: str, hidden: bool = False) -> str:
        """Create branch ``name`` at ``source``'s commit; a hidden one is left out of listings.

        Raises NotFound (repository or source), Conflict (exists), BadRequest (bad name).
        """
        names.check_branch_name(name)
        with self.db.write() as conn:
            self._require_repo(conn, repo)
            if self._branch_commit(conn, repo, name) is not None:
                raise Conflict(f"branch already exists: {name!r}")
            commit = self.resolve(conn, repo, source).commit
            conn.execute(
                "INSERT INTO branches (repo, name, commit_id, hidden) VALUES (?, ?, ?, ?)",
                (repo, name, commit.id, int(hidden)),
            )
        return commit.id

    def get_branch(self, repo: str, name: str) -> dict:
        conn = self.db.conn()
        self._require_repo(conn, repo)
        commit_id = self._branch_commit(conn, repo, name)
        if commit_id is None:
            raise NotFound(f"branch {name!r} not found in repository {repo!r}")
        return {"id": name, "commit_id": commit_id}

    def list_refs(
        self,
        table: str,
        repo: str,
        prefix: str,
        after: str,
        amount: int,
        show_hidden: bool = True,
    ) -> Page:
        conn = self.db.conn()
        self._require_repo(conn, repo)
        visible = "" if show_hidden or table != "branches" else " AND hidden = 0"
        rows = self._list_names(
            f"SELECT name, commit_id FROM {table} WHERE repo = ?{visible}",
            "name",
            (repo,),
            prefix,
            after,
            amount,
        )
        refs = ({"id": n, "commit_id": c} for n, c in rows)
        return page_of(refs, amount, lambda r: r["id"])

    def delete_branch(self, repo: str, name: str) -> None:
        with self.db.write() as conn:
            repo_row = self._require_repo(conn, repo)
            if self._branch_commit(conn, repo, name) is None:
                raise NotFound(f"branch {name!r} not found in repository {repo!r}")
            if repo_row[2] == name:
                raise Forbidden(f"cannot delete the default branch {name!r}")
            conn.execute("DELETE FROM staging WHERE repo = ? AND branch = ?", (repo, name))
            conn.execute("DELETE FROM branches WHERE repo = ? AND name = ?", (repo, name))

    def create_tag(self, repo: str, name: str, ref: str) -> dict:
        names.check_tag_name(name)
        with self.db.write() as conn:
            self._require_repo(conn, repo)
            row = conn.execute(
                "SELECT 1 FROM tags WHERE repo = ? AND name = ?", (repo, name)
            ).fetchone()
            if row is not None:
                raise Conflict(f"tag already exists: {name!r} (tags are immutable)")
            commit = self.resolve(conn, repo, ref).commit
            conn.execute("INSERT INTO tags VALUES (?, ?, ?)", (repo, name, commit.id))
        return {"id": name, "commit_id": commit.id}

    def get_tag(self, repo: str, name: str) -> dict:
        conn = self.db.conn()
        self._require_repo(conn, repo)
        row = conn.execute(
            "SELECT commit_id FROM tags WHERE repo = ? AND name = ?", (repo, name)
        ).fetchone()
        if row is None:
            raise NotFound(f"tag {name!r} not found in repository {repo!r}")
        return {"id": name, "commit_id": row[0]}

    def delete_tag(self, repo: str, name: str) -> None:
        with self.db.write() as conn:
            self._require_repo(conn, repo)
            cur = conn.execute("DELETE FROM tags WHERE repo = ? AND name = ?", (repo, name))
            if cur.rowcount == 0:
                raise NotFound(f"tag {name!r} not found in repository {repo!r}")

    # ---------------------------------------------------------------- refs

    def resolve(self, conn: sqlite3.Connection, repo: str, ref: str) -> View:
        """Resolve a ref expression; a plain branch name includes its staged changes."""
        self._require_repo(conn, repo)
        expr = parse_ref(ref)
        branch_commit = self._branch_commit(conn, repo, expr.base)
        view_branch: str | None = None
        if branch_commit is not None:
            commit = self._commit(conn, repo, branch_commit)
            if not expr.committed_only and not expr.modifiers:
                view_branch = expr.base
        elif expr.committed_only:
            raise NotFound(f"branch {expr.base!r} not found in repository {repo!r}")
        else:
            row = conn.execute(
                "SELECT commit_id FROM tags WHERE repo = ? AND name = ?", (repo, expr.base)
            ).fetchone()
            if row is not None:
                commit = self._commit(conn, repo, row[0])
            else:
                commit = self._commit_by_prefix(conn, repo, expr.base, ref)
        for sign, n in expr.modifiers:
            if sign == "~":
                for _ in range(n):
                    if not commit.parents:
                        raise NotFound(f"ref {ref!r}: commit {commit.id} has no parent")
                    commit = self._commit(conn, repo, commit.parents[0])
            elif n > 0:
                if n > len(commit.parents):
                    raise NotFound(f"ref {ref!r}: commit {commit.id} has no parent number {n}")
                commit = self._commit(conn, repo, commit.parents[n - 1])
        return View(commit, view_branch)

    def get_commit(self, repo: str, ref: str) -> dict:
        with self.db.read() as conn:
            return self.resolve(conn, repo, ref).commit.to_api()

    def _commit_by_prefix(self, conn: sqlite3.Connection, repo: str, prefix: str, ref: str):
        if looks_like_commit_id(prefix):
            rows = conn.execute(
                "SELECT id FROM commits WHERE repo = ? AND id >= ? AND id < ? LIMIT 2",
                (repo, prefix, prefix + "g"),
            ).fetchall()
            if len(rows) > 1:
                raise Conflict(f"ref {ref!r} matches more than one commit")
            if rows:
                return self._commit(conn, repo, rows[0][0])
        raise NotFound(f"reference {ref!r} not found in repository {repo!r}")

    # ---------------------------------------------------------------- commits and log

    def commit(
        self,
        repo: str,
        branch: str,
        message: str,
        metadata: dict[str, str],
        allow_empty: bool = False,
        date: int | None = None,
    ) -> dict:
        if not message:
            raise BadRequest("commit message must not be empty")
        with self.db.write() as conn:
            head = self._branch_head(conn, repo, branch)
            changes = self._staged_changes(conn, repo, branch)
            if not changes and not allow_empty:
                raise NoChanges("commit")
            meta_range = self.trees.apply(conn, head.meta_range_id, changes)
            commit = self._new_commit(
                conn, repo, [head.id], message, metadata, meta_range, date=date
            )
            conn.execute("DELETE FROM staging WHERE repo = ? AND branch = ?", (repo, branch))
            self._move_branch(conn, repo, branch, commit.id)
        return commit.to_api()

    def log(
        self,
        repo: str,
        ref: str,
        after: str,
        amount: int,
        first_parent: bool = False,
        objects: Sequence[str] = (),
        prefixes: Sequence[str] = (),
        stop_at: str | None = None,
        since: int | None = None,
        limit: bool = False,
    ) -> Page:
        """Commits reachable from ``ref``, newest first (lakeFS's log order)."""
        conn = self.db.conn()
        start = self.resolve(conn, repo, ref).commit
        stop_id = self.resolve(conn, repo, stop_at).commit.id if stop_at else None

        def walk() -> Iterator[Commit]:
            heap = [(-start.created_ns, start.id, start)]
            seen = {start.id}
            skipping = bool(after)
            while heap:
                _, _, commit = heapq.heappop(heap)
                if since is not None and commit.creation_date < since:
                    return
                if skipping:
                    skipping = commit.id != after
                elif self._touches(conn, repo, commit, objects, prefixes):
                    yield commit
                if commit.id == stop_id:
                    return
                parents = commit.parents[:1] if first_parent else commit.parents
                for parent_id in parents:
                    if parent_id not in seen:
                        seen.add(parent_id)
                        parent = self._commit(conn, repo, parent_id)
                        heapq.heappush(heap, (-parent.created_ns, parent.id, parent))

        page = page_of(walk(), amount, lambda c: c.id)
        if limit:
            page.has_more, page.next_offset = False, ""
        page.items = [c.to_api() for c in page.items]
        return page

    def _touches(
        self,
        conn: sqlite3.Connection,
        repo: str,
        commit: Commit,
        objects: Sequence[str],
        prefixes: Sequence[str],
    ) -> bool:
        if not objects and not prefixes:
            return True
        parent_tree = (
            self._commit(conn, repo, commit.parents[0]).meta_range_id
            if commit.parents
            else self.trees.empty_id
        )
        for path in objects:
            old = self.trees.lookup(parent_tree, path)
            if not same_object(old, self.trees.lookup(commit.meta_range_id, path)):
                return True
        for prefix in prefixes:
            for path, _, _ in self.trees.diff(parent_tree, commit.meta_range_id, prefix):
                if path.startswith(prefix):
                    return True
                break
        return False

    # ---------------------------------------------------------------- branch state changes

    def reset_branch(self, repo: str, branch: str, kind: str, path: str | None) -> None:
        """Discard uncommitted changes: all, one object, or everything under a prefix."""
        with self.db.write() as conn:
            self._branch_head(conn, repo, branch)
            if kind == "reset":
                conn.execute("DELETE FROM staging WHERE repo = ? AND branch = ?", (repo, branch))
            elif kind == "object":
                names.check_object_path(path or "")
                conn.execute(
                    "DELETE FROM staging WHERE repo = ? AND branch = ? AND path = ?",
                    (repo, branch, path),
                )
            elif kind == "common_prefix":
                if not path:
                    raise BadRequest("path must not be empty when resetting a common_prefix")
                names.check_object_path(path)
                conn.execute(
                    "DELETE FROM staging WHERE repo = ? AND branch = ? AND path >= ? AND path < ?",
                    (repo, branch, path, successor(path)),
                )
            else:
                raise BadRequest(
                    f"type {kind!r} is invalid: use 'reset', 'object' or 'common_prefix'"
                )

    def hard_reset(self, repo: str, branch: str, ref: str) -> None:
        """Point a branch at another commit, dropping its staged changes (experimental)."""
        with self.db.write() as conn:
            self._branch_head(conn, repo, branch)
            commit = self.resolve(conn, repo, ref).commit
            conn.execute("DELETE FROM staging WHERE repo = ? AND branch = ?", (repo, branch))
            self._move_branch(conn, repo, branch, commit.id)

    def revert(
        self,
        repo: str,
        branch: str,
        ref: str,
        parent_number: int,
        allow_empty: bool = False,
        message: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict:
        """A new commit on ``branch`` undoing the changes ``ref`` made relative to a parent."""
        with self.db.write() as conn:
            head = self._branch_head(conn, repo, branch)
            if self._is_dirty(conn, repo, branch):
                raise DirtyBranch(branch)
            target = self.resolve(conn, repo, ref).commit
            if not target.parents:
                raise BadRequest(f"cannot revert commit {target.id}: it has no parent")
            if len(target.parents) > 1 and parent_number < 1:
                raise Conflict(
                    f"commit {target.id} is a merge commit: give parent_number (1-based)"
                )
            if parent_number < 0 or parent_number > len(target.parents):
                raise BadRequest(
                    f"parent_number {parent_number} is out of range: commit {target.id} has "
                    f"{len(target.parents)} parent(s)"
                )
            parent = self._commit(conn, repo, target.parents[max(parent_number, 1) - 1])
            changes: list[Change] = []
            conflicts: list[str] = []
            for path, was, restore in self.trees.diff(target.meta_range_id, parent.meta_range_id):
                current = self.trees.lookup(head.meta_range_id, path)
                if same_object(current, was):
                    changes.append((path, restore))
                elif not same_object(current, restore):
                    conflicts.append(path)
            if conflicts:
                raise MergeConflict(conflicts)
            if not changes and not allow_empty:
                raise NoChanges("revert")
            meta_range = self.trees.apply(conn, head.meta_range_id, changes)
            commit = self._new_commit(
                conn,
                repo,
                [head.id],
                message or f"Revert {target.id}",
                metadata or {},
                meta_range,
            )
            self._move_branch(conn, repo, branch, commit.id)
        return commit.to_api()

    # ---------------------------------------------------------------- merge

    def merge_base(self, conn: sqlite3.Connection, repo: str, a: Commit, b: Commit) -> Commit:
        """The nearest common ancestor, walking both histories newest generation first."""
        if a.id == b.id:
            return a
        flags = {a.id: 1, b.id: 2}
        commits = {a.id: a, b.id: b}
        heap = [(-a.generation, a.id), (-b.generation, b.id)]
        while heap:
            _, commit_id = heapq.heappop(heap)
            flag = flags[commit_id]
            if flag == 3:
                return commits[commit_id]
            for parent_id in commits[commit_id].parents:
                before = flags.get(parent_id, 0)
                if before | flag != before:
                    flags[parent_id] = before | flag
                    if parent_id not in commits:
                        commits[parent_id] = self._commit(conn, repo, parent_id)
                    heapq.heappush(heap, (-commits[parent_id].generation, parent_id))
        raise NotFound(f"commits {a.id} and {b.id} have no common ancestor")

    def find_merge_base(self, repo: str, source: str, destination: str) -> dict:
        with self.db.read() as conn:
            src = self.resolve(conn, repo, source).commit
            dst = self._branch_head(conn, repo, destination)
            base = self.merge_base(conn, repo, src, dst)
        return {
            "source_commit_id": src.id,
            "destination_commit_id": dst.id,
            "base_commit_id": base.id,
        }

    def merge(
        self,
        repo: str,
        source: str,
        destination: str,
        message: str | None = None,
        metadata: dict[str, str] | None = None,
        strategy: str | None = None,
        allow_empty: bool = False,
        squash: bool = False,
    ) -> str:
        if strategy and strategy not in MERGE_STRATEGIES:
            raise BadRequest(f"strategy {strategy!r} is invalid: use 'source-wins' or 'dest-wins'")
        with self.db.write() as conn:
            dest = self._branch_head(conn, repo, destination)
            if self._is_dirty(conn, repo, destination):
                raise DirtyBranch(destination)
            src = self.resolve(conn, repo, source).commit
            base = self.merge_base(conn, repo, src, dest)
            # As lakeFS (committed manager): "no changes" means the source changed nothing
            # since the merge base; a merge whose result equals the destination still commits.
            if not allow_empty and _same_tree(base, src):
                raise NoChanges("merge")
            changes = self._three_way(
                base.meta_range_id, src.meta_range_id, dest.meta_range_id, strategy
            )
            meta_range = self.trees.apply(conn, dest.meta_range_id, changes)
            parents = [dest.id] if squash else [dest.id, src.id]
            commit = self._new_commit(
                conn,
                repo,
                parents,
                message or f"Merge '{source}' into '{destination}'",
                # lakeFS records the strategy on every merge commit, over a user key alike.
                {**(metadata or {}), MERGE_STRATEGY_KEY: strategy or "default"},
                meta_range,
            )
            self._move_branch(conn, repo, destination, commit.id)
        return commit.id

    def cherry_pick(
        self,
        repo: str,
        branch: str,
        ref: str,
        parent_number: int | None = None,
        message: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict:
        """A new commit on ``branch`` replaying what ``ref`` changed relative to a parent.

        As lakeFS (graveler ``CherryPick``): a three-way merge with the parent as base, the
        commit's message and metadata (or the overrides), plus ``cherry-pick-origin`` and
        ``cherry-pick-committer`` metadata; refused on a dirty branch; merge commits need a
        1-based ``parent_number``.
        """
        with self.db.write() as conn:
            head = self._branch_head(conn, repo, branch)
            target = self.resolve(conn, repo, ref).commit
            if parent_number is None:
                if len(target.parents) > 1:
                    raise BadRequest(
                        "must specify 1-based parent number for cherry-picking merge commit"
                    )
                parent_number = 1
            if parent_number < 1 or parent_number > len(target.parents):
                raise BadRequest(
                    f"parent {parent_number}: given commit does not have the given parent number"
                )
            if self._is_dirty(conn, repo, branch):
                raise DirtyBranch(branch)
            parent = self._commit(conn, repo, target.parents[parent_number - 1])
            if _same_tree(parent, target):
                raise NoChanges("cherry-pick")
            changes = self._three_way(
                parent.meta_range_id, target.meta_range_id, head.meta_range_id, None
            )
            meta_range = self.trees.apply(conn, head.meta_range_id, changes)
            picked_metadata = dict(target.metadata if metadata is None else metadata)
            picked_metadata["cherry-pick-origin"] = target.id
            picked_metadata["cherry-pick-committer"] = target.committer
            commit = self._new_commit(
                conn, repo, [head.id], message or target.message, picked_metadata, meta_range
            )
            self._move_branch(conn, repo, branch, commit.id)
        return commit.to_api()

    def _three_way(
        self, base_tree: str, src_tree: str, dest_tree: str, strategy: str | None
    ) -> list[Change]:
        """Changes to apply to ``dest_tree``: what the source changed since the base.

        Paths changed differently on both sides are conflicts unless ``strategy`` resolves them.
        """
        changes: list[Change] = []
        conflicts: list[str] = []
        src_diff = self.trees.diff(base_tree, src_tree)
        dest_diff = self.trees.diff(base_tree, dest_tree)
        a = next(src_diff, None)
        b = next(dest_diff, None)
        while a is not None:
            while b is not None and b[0] < a[0]:
                b = next(dest_diff, None)
            if b is None or b[0] != a[0]:
                changes.append((a[0], a[2]))
            elif not same_object(a[2], b[2]):
                if strategy == "source-wins":
                    changes.append((a[0], a[2]))
                elif strategy != "dest-wins":
                    conflicts.append(a[0])
            a = next(src_diff, None)
        if conflicts:
            raise MergeConflict(conflicts)
        return changes

    # ---------------------------------------------------------------- diffs

    def diff(
        self, repo: str, left: str, right: str, start: str, two_dot: bool
    ) -> Iterator[DiffItem]:
        """Changes from ``left`` to ``right``; three-dot compares against their merge base."""
        conn = self.db.conn()
        left_view = self.resolve(conn, repo, left)
        right_view = self.resolve(conn, repo, right)
        left_commit = left_view.commit
        if not two_dot:
            left_commit = self.merge_base(conn, repo, left_commit, right_view.commit)
            right_view = View(right_view.commit)
        committed = self.trees.diff(
            left_commit.meta_range_id, right_view.commit.meta_range_id, start
        )
        if right_view.branch is None:
            return committed
        # Staged changes on the right branch override its committed side.
        staged = (
            (e[0], None, e[1]) for e in self._staging_rows(conn, repo, right_view.branch, start)
        )
        left_tree = left_commit.meta_range_id

        def combine(path: str, committed_item, staged_item):
            if staged_item is None:
                return committed_item
            before = self.trees.lookup(left_tree, path)
            after = staged_item[2]
            return None if same_object(before, after) else (path, before, after)

        return _merged(committed, staged, combine)

    def diff_uncommitted(self, repo: str, branch: str, start: str) -> Iterator[DiffItem]:
        conn = self.db.conn()
        head = self._branch_head(conn, repo, branch)
        for path, entry in self._staging_rows(conn, repo, branch, start):
            yield path, self.trees.lookup(head.meta_range_id, path), entry

    # ---------------------------------------------------------------- objects

    def stat(self, repo: str, ref: str, path: str) -> Entry:
        names.check_object_path(path)
        with self.db.read() as conn:
            view = self.resolve(conn, repo, ref)
            entry = self._lookup(conn, repo, view, path)
        if entry is None:
            raise NotFound(f"object {path!r} not found at ref {ref!r}")
        return entry

    def iterate(self, repo: str, ref: str, start: str) -> Iterator[Entry]:
        """Objects at ``ref`` with path >= start, in path order."""
        conn = self.db.conn()
        return self._iterate_view(conn, repo, self.resolve(conn, repo, ref), start)

    def _iterate_view(
        self, conn: sqlite3.Connection, repo: str, view: View, start: str
    ) -> Iterator[Entry]:
        committed = ((e.path, e) for e in self.trees.iterate(view.commit.meta_range_id, start))
        if view.branch is None:
            return (e for _, e in committed)
        staged = self._staging_rows(conn, repo, view.branch, start)

        def combine(path, committed_item, staged_item):
            if staged_item is not None:
                return staged_item[1]  # None (a tombstone) hides the committed entry
            return committed_item[1]

        return _merged(committed, staged, combine)

    def check_branch(self, repo: str, branch: str) -> None:
        self._branch_head(self.db.conn(), repo, branch)

    def check_can_write(self, repo: str, branch: str, path: str, if_none_match: str | None) -> None:
        """Early checks before receiving an upload body (repeated atomically when staging)."""
        names.check_object_path(path)
        if if_none_match not in (None, "*"):
            raise BadRequest("If-None-Match supports only '*'")
        with self.db.read() as conn:
            head = self._branch_head(conn, repo, branch)
            if if_none_match == "*" and self._lookup(conn, repo, View(head, branch), path):
                raise PreconditionFailed(f"object {path!r} already exists on branch {branch!r}")

    def stage(
        self,
        repo: str,
        branch: str,
        path: str,
        blob: BlobInfo,
        content_type: str,
        metadata: dict[str, str],
        if_none_match: str | None = None,
        if_match: str | None = None,
    ) -> Entry:
        names.check_object_path(path)
        entry = Entry(
            path, blob.address, blob.checksum, blob.size, int(time.time()), content_type, metadata
        )
        with self.db.write(durable=False) as conn:
            head = self._branch_head(conn, repo, branch)
            current = self._lookup(conn, repo, View(head, branch), path)
            if if_none_match == "*" and current is not None:
                raise PreconditionFailed(f"object {path!r} already exists on branch {branch!r}")
            if if_match is not None and (
                current is None or current.checksum != if_match.strip('"')
            ):
                raise PreconditionFailed(f"object {path!r} does not match If-Match {if_match!r}")
            self._put_staged(conn, repo, branch, head, entry)
        return entry

    def delete_object(self, repo: str, branch: str, path: str, missing_ok: bool = False) -> None:
        names.check_object_path(path)
        with self.db.write(durable=False) as conn:
            head = self._branch_head(conn, repo, branch)
            if self._lookup(conn, repo, View(head, branch), path) is None:
                if missing_ok:
                    return
                raise NotFound(f"object {path!r} not found on branch {branch!r}")
            committed = self.trees.lookup(head.meta_range_id, path)
            if committed is None:
                conn.execute(
                    "DELETE FROM staging WHERE repo = ? AND branch = ? AND path = ?",
                    (repo, branch, path),
                )
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO staging (repo, branch, path) VALUES (?, ?, ?)",
                    (repo, branch, path),
                )

    def copy_object(
        self, repo: str, branch: str, dest_path: str, src_path: str, src_ref: str | None
    ) -> Entry:
        names.check_object_path(dest_path, "dest_path")
        source = self.stat(repo, src_ref or branch, src_path)
        copied = source._replace(path=dest_path, mtime=int(time.time()))
        with self.db.write(durable=False) as conn:
            head = self._branch_head(conn, repo, branch)
            self._put_staged(conn, repo, branch, head, copied)
        return copied

    def blob_path(self, entry: Entry) -> Path:
        return self.blobs.path(entry.address)

    def physical_address(self, entry: Entry) -> str:
        return f"local://{self.blob_path(entry)}"

    # ---------------------------------------------------------------- internals

    def _put_staged(
        self, conn: sqlite3.Connection, repo: str, branch: str, head: Commit, entry: Entry
    ) -> None:
        # Writing back what is committed is no change: keep the staging area a true diff.
        if same_object(self.trees.lookup(head.meta_range_id, entry.path), entry):
            conn.execute(
                "DELETE FROM staging WHERE repo = ? AND branch = ? AND path = ?",
                (repo, branch, entry.path),
            )
            return
        conn.execute(
            "INSERT OR REPLACE INTO staging VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                repo,
                branch,
                entry.path,
                entry.address,
                entry.checksum,
                entry.size,
                entry.mtime,
                entry.content_type,
                json.dumps(entry.metadata, sort_keys=True),
            ),
        )

    def _lookup(self, conn: sqlite3.Connection, repo: str, view: View, path: str) -> Entry | None:
        if view.branch is not None:
            row = conn.execute(
                "SELECT path, address, checksum, size, mtime, content_type, metadata FROM staging"
                " WHERE repo = ? AND branch = ? AND path = ?",
                (repo, view.branch, path),
            ).fetchone()
            if row is not None:
                return _staged_entry(row)
        return self.trees.lookup(view.commit.meta_range_id, path)

    def _staging_rows(
        self, conn: sqlite3.Connection, repo: str, branch: str, start: str = ""
    ) -> Iterator[tuple[str, Entry | None]]:
        """Staged changes in path order, fetched in pages so huge staging areas stream."""
        query = (
            "SELECT path, address, checksum, size, mtime, content_type, metadata FROM staging"
            " WHERE repo = ? AND branch = ? AND path {op} ? ORDER BY path LIMIT 1000"
        )
        rows = conn.execute(query.format(op=">="), (repo, branch, start)).fetchall()
        while rows:
            for row in rows:
                yield row[0], _staged_entry(row)
            rows = conn.execute(query.format(op=">"), (repo, branch, rows[-1][0])).fetchall()

    def _staged_changes(self, conn: sqlite3.Connection, repo: str, branch: str) -> list[Change]:
        return list(self._staging_rows(conn, repo, branch))

    def _is_dirty(self, conn: sqlite3.Connection, repo: str, branch: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM staging WHERE repo = ? AND branch = ? LIMIT 1", (repo, branch)
        ).fetchone()
        return row is not None

    def _repo_row(self, conn: sqlite3.Connection, name: str):
        return conn.execute(
            "SELECT name, storage_namespace, default_branch, creation_date FROM repositories"
            " WHERE name = ?",
            (name,),
        ).fetchone()

    def _require_repo(self, conn: sqlite3.Connection, repo: str):
        row = self._repo_row(conn, repo)
        if row is None:
            raise NotFound(f"repository {repo!r} not found")
        return row

    def _branch_commit(self, conn: sqlite3.Connection, repo: str, branch: str) -> str | None:
        row = conn.execute(
            "SELECT commit_id FROM branches WHERE repo = ? AND name = ?", (repo, branch)
        ).fetchone()
        return row[0] if row else None

    def _branch_head(self, conn: sqlite3.Connection, repo: str, branch: str) -> Commit:
        self._require_repo(conn, repo)
        commit_id = self._branch_commit(conn, repo, branch)
        if commit_id is None:
            raise NotFound(f"branch {branch!r} not found in repository {repo!r}")
        return self._commit(conn, repo, commit_id)

    def _move_branch(
        self, conn: sqlite3.Connection, repo: str, branch: str, commit_id: str
    ) -> None:
        conn.execute(
            "UPDATE branches SET commit_id = ? WHERE repo = ? AND name = ?",
            (commit_id, repo, branch),
        )

    def _commit(self, conn: sqlite3.Connection, repo: str, commit_id: str) -> Commit:
        row = conn.execute(
            "SELECT id, parents, committer, message, creation_date, created_ns, metadata,"
            " meta_range_id, generation FROM commits WHERE repo = ? AND id = ?",
            (repo, commit_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"commit {commit_id!r} not found in repository {repo!r}")
        return Commit(
            row[0],
            json.loads(row[1]),
            row[2],
            row[3],
            row[4],
            row[5],
            json.loads(row[6]),
            row[7],
            row[8],
        )

    def _new_commit(
        self,
        conn: sqlite3.Connection,
        repo: str,
        parents: list[str],
        message: str,
        metadata: dict[str, str],
        meta_range_id: str,
        date: int | None = None,
        committer: str | None = None,
    ) -> Commit:
        parent_commits = [self._commit(conn, repo, p) for p in parents]
        # Strictly increasing along history, so "newest first" is also "children first".
        created_ns = max([time.time_ns()] + [p.created_ns + 1 for p in parent_commits])
        generation = max([p.generation for p in parent_commits], default=0) + 1
        fields = {
            "repository": repo,
            "parents": parents,
            "committer": self.committer if committer is None else committer,
            "message": message,
            "created_ns": created_ns,
            "creation_date": date if date is not None else created_ns // 1_000_000_000,
            "metadata": metadata,
            "meta_range_id": meta_range_id,
        }
        commit_id = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        commit = Commit(
            commit_id,
            parents,
            fields["committer"],
            message,
            fields["creation_date"],
            created_ns,
            dict(metadata),
            meta_range_id,
            generation,
        )
        conn.execute(
            "INSERT INTO commits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                repo,
                commit.id,
                json.dumps(parents),
                commit.committer,
                message,
                commit.creation_date,
                created_ns,
                json.dumps(metadata, sort_keys=True),
                meta_range_id,
                generation,
            ),
        )
        return commit

    def _list_names(
        self, select: str, column: str, args: tuple, prefix: str, after: str, amount: int
    ) -> list:
        where = " AND " if " WHERE " in select else " WHERE "
        clauses, params = [], list(args)
        if prefix:
            clauses.append(f"{column} >= ? AND {column} < ?")
            params += [prefix, successor(prefix)]
        if after:
            clauses.append(f"{column} > ?")
            params.append(after)
        sql = select + (where + " AND ".join(clauses) if clauses else "")
        sql += f" ORDER BY {column} LIMIT ?"
        params.append(amount + 1)
        return self.db.conn().execute(sql, params).fetchall()


def _same_tree(base: Commit, source: Commit) -> bool:
    """lakeFS's test for a merge source that changed nothing: equal metarange ids.

    A repository's first commit has lakeFS's empty metarange id "", which no written tree
    has: a tree emptied again by later commits still counts as a change against it.
    """
    if source.id == base.id:
        return True
    return bool(base.parents) and source.meta_range_id == base.meta_range_id


def _repo_api(row) -> dict:
    return {
        "id": row[0],
        "storage_namespace": row[1],
        "default_branch": row[2],
        "creation_date": row[3],
        "read_only": False,
        # One blockstore, so one storage, whose id is "" as in a single-blockstore lakeFS.
        "storage_id": "",
    }


def _staged_entry(row) -> Entry | None:
    if row[1] is None:
        return None
    return Entry(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]))


def _merged(first: Iterator, second: Iterator, combine) -> Iterator:
    """Walk two (path, ...)-tuple streams sorted by path; skip None results of ``combine``."""
    a = next(first, None)
    b = next(second, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            result = combine(a[0], a, None)
            a = next(first, None)
        elif a is None or b[0] < a[0]:
            result = combine(b[0], None, b)
            b = next(second, None)
        else:
            result = combine(a[0], a, b)
            a = next(first, None)
            b = next(second, None)
        if result is not None:
            yield result
