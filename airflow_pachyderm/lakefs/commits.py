"""lakeFS commits and merges: commit, read and log commits, diff, merge, revert."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import lakefs_sdk

from airflow_pachyderm.lakefs.transport import Transport


class Commits(Transport):
    """Commit, diff and merge calls of :class:`~airflow_pachyderm.lakefs.client.LakeFSClient`."""

    def commit(
        self,
        repo: str,
        branch: str,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        allow_empty: bool = False,
    ) -> lakefs_sdk.Commit:
        creation = lakefs_sdk.CommitCreation(
            message=message, metadata=dict(metadata or {}), allow_empty=allow_empty
        )
        return self._call(
            f"{repo}@{branch} commit",
            lambda: lakefs_sdk.CommitsApi(self.api).commit(repo, branch, creation),
            idempotent=False,
        )

    def get_commit(self, repo: str, ref: str) -> lakefs_sdk.Commit:
        """The commit a ref (branch, tag, id or prefix, ``main~2``, ``main@``) points at."""
        return self._call(
            f"{repo}@{ref}",
            lambda: lakefs_sdk.CommitsApi(self.api).get_commit(repo, ref),
            idempotent=True,
        )

    def resolve_ref(self, repo: str, ref: str) -> str:
        """Resolve any lakeFS ref to a full 64-hex commit id."""
        return self.get_commit(repo, ref).id

    def log_commits(
        self, repo: str, ref: str, *, amount: int | None = None, first_parent: bool = False
    ) -> Iterator[lakefs_sdk.Commit]:
        """Commits reachable from ``ref``, newest first, fetched lazily page by page.

        (Not named ``log``: Airflow hooks use that name for their logger.)
        """
        api = lakefs_sdk.RefsApi(self.api)
        return self._paginate(
            f"{repo}@{ref} log",
            lambda after, n: api.log_commits(
                repo, ref, after=after, amount=n, first_parent=first_parent or None
            ),
            amount,
        )

    def diff(
        self, repo: str, left_ref: str, right_ref: str, *, prefix: str = ""
    ) -> Iterator[lakefs_sdk.Diff]:
        """Changes from ``left_ref`` to ``right_ref`` (what merging right into left adds)."""
        api = lakefs_sdk.RefsApi(self.api)
        return self._paginate(
            f"{repo} diff {left_ref}...{right_ref}",
            lambda after, n: api.diff_refs(
                repo, left_ref, right_ref, after=after, amount=n, prefix=prefix or None
            ),
            None,
        )

    def diff_uncommitted(
        self, repo: str, branch: str, *, prefix: str = ""
    ) -> Iterator[lakefs_sdk.Diff]:
        api = lakefs_sdk.BranchesApi(self.api)
        return self._paginate(
            f"{repo}@{branch} uncommitted",
            lambda after, n: api.diff_branch(
                repo, branch, after=after, amount=n, prefix=prefix or None
            ),
            None,
        )

    def merge(
        self,
        repo: str,
        source_ref: str,
        destination_branch: str,
        *,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
        strategy: str | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Merge ``source_ref`` into ``destination_branch``; return the merge commit id."""
        merge = lakefs_sdk.Merge(
            message=message,
            metadata=dict(metadata or {}),
            strategy=strategy,
            allow_empty=allow_empty,
        )
        result = self._call(
            f"{repo} merge {source_ref} into {destination_branch}",
            lambda: lakefs_sdk.RefsApi(self.api).merge_into_branch(
                repo, source_ref, destination_branch, merge=merge
            ),
            idempotent=False,
        )
        return result.reference

    def revert(
        self,
        repo: str,
        branch: str,
        ref: str,
        *,
        parent_number: int = 0,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Add a commit on ``branch`` undoing ``ref``; return the new head commit id."""
        creation = lakefs_sdk.RevertCreation(
            ref=ref,
            parent_number=parent_number,
            commit_overrides=lakefs_sdk.CommitOverrides(
                message=message, metadata=dict(metadata or {})
            )
            if (message or metadata)
            else None,
        )
        self._call(
            f"{repo}@{branch} revert {ref}",
            lambda: lakefs_sdk.BranchesApi(self.api).revert_branch(repo, branch, creation),
            idempotent=False,
        )
        return self.get_branch(repo, branch)
