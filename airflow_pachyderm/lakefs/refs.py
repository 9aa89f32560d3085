"""lakeFS branches and tags: create, read, list, delete, reset."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import lakefs_sdk

from airflow_pachyderm.lakefs.errors import LakeFSError, NotFoundError
from airflow_pachyderm.lakefs.transport import Transport


class Refs(Transport):
    """Branch and tag calls of :class:`~airflow_pachyderm.lakefs.client.LakeFSClient`."""

    def create_branch(
        self, repo: str, branch: str, source: str, *, exist_ok: bool = False
    ) -> str:
        """Create ``branch`` at ``source`` (any ref); return the branch's head commit id.

        With ``exist_ok`` an existing branch is kept as it is (its head is returned), which
        is what a retried task wants.
        """
        where = f"{repo}@{branch}"
        if exist_ok:
            with contextlib.suppress(NotFoundError):
                return self.get_branch(repo, branch)
        try:
            return self._call(
                where,
                lambda: lakefs_sdk.BranchesApi(self.api).create_branch(
                    repo, lakefs_sdk.BranchCreation(name=branch, source=source)
                ),
                idempotent=False,
            ).strip()
        except LakeFSError as exc:
            if exist_ok and exc.status == 409:
                return self.get_branch(repo, branch)
            raise

    def get_branch(self, repo: str, branch: str) -> str:
        """The commit id the branch points at."""
        ref = self._call(
            f"{repo}@{branch}",
            lambda: lakefs_sdk.BranchesApi(self.api).get_branch(repo, branch),
            idempotent=True,
        )
        return ref.commit_id

    def branch_exists(self, repo: str, branch: str) -> bool:
        try:
            self.get_branch(repo, branch)
        except NotFoundError:
            return False
        return True

    def list_branches(self, repo: str, prefix: str = "") -> Iterator[lakefs_sdk.Ref]:
        api = lakefs_sdk.BranchesApi(self.api)
        return self._paginate(
            f"{repo} branches",
            lambda after, n: api.list_branches(repo, prefix=prefix or None, after=after, amount=n),
            None,
        )

    def delete_branch(self, repo: str, branch: str, *, missing_ok: bool = False) -> None:
        try:
            self._call(
                f"{repo}@{branch}",
                lambda: lakefs_sdk.BranchesApi(self.api).delete_branch(repo, branch),
                idempotent=True,
            )
        except NotFoundError:
            if not missing_ok:
                raise

    def reset_branch(self, repo: str, branch: str, *, path: str | None = None) -> None:
        """Discard uncommitted changes on ``branch`` (all, or those under ``path``)."""
        creation = (
            lakefs_sdk.ResetCreation(type="reset")
            if path is None
            else lakefs_sdk.ResetCreation(
                type="common_prefix" if path.endswith("/") else "object", path=path
            )
        )
        self._call(
            f"{repo}@{branch}",
            lambda: lakefs_sdk.BranchesApi(self.api).reset_branch(repo, branch, creation),
            idempotent=True,
        )

    def hard_reset_branch(self, repo: str, branch: str, ref: str, *, force: bool = False) -> None:
        """Point ``branch`` at ``ref`` (lakeFS marks this experimental; history is left)."""
        self._call(
            f"{repo}@{branch}",
            lambda: lakefs_sdk.ExperimentalApi(self.api).hard_reset_branch(
                repo, branch, ref, force=force
            ),
            idempotent=True,
        )


    def create_tag(self, repo: str, tag: str, ref: str) -> str:
        creation = lakefs_sdk.TagCreation(id=tag, ref=ref)
        result = self._call(
            f"{repo} tag {tag}",
            lambda: lakefs_sdk.TagsApi(self.api).create_tag(repo, creation),
            idempotent=False,
        )
        return result.commit_id

    def get_tag(self, repo: str, tag: str) -> str:
        return self._call(
            f"{repo} tag {tag}",
            lambda: lakefs_sdk.TagsApi(self.api).get_tag(repo, tag),
            idempotent=True,
        ).commit_id

    def list_tags(self, repo: str, prefix: str = "") -> Iterator[lakefs_sdk.Ref]:
        api = lakefs_sdk.TagsApi(self.api)
        return self._paginate(
            f"{repo} tags",
            lambda after, n: api.list_tags(repo, prefix=prefix or None, after=after, amount=n),
            None,
        )

    def delete_tag(self, repo: str, tag: str) -> None:
        self._call(
            f"{repo} tag {tag}",
            lambda: lakefs_sdk.TagsApi(self.api).delete_tag(repo, tag),
            idempotent=True,
        )
