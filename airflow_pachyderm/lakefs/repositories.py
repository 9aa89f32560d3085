"""lakeFS repositories: create, read, list, delete."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import lakefs_sdk

from airflow_pachyderm.lakefs.errors import LakeFSError, NotFoundError
from airflow_pachyderm.lakefs.transport import Transport


class Repositories(Transport):
    """Repository calls of :class:`~airflow_pachyderm.lakefs.client.LakeFSClient`."""

    def create_repository(
        self,
        repo: str,
        *,
        storage_namespace: str | None = None,
        default_branch: str = "main",
        exist_ok: bool = False,
    ) -> lakefs_sdk.Repository:
        """Create ``repo``; with ``exist_ok`` return the existing one instead of failing."""
        if exist_ok:
            with contextlib.suppress(NotFoundError):
                return self.get_repository(repo)
        def create() -> lakefs_sdk.Repository:
            creation = lakefs_sdk.RepositoryCreation(
                name=repo,
                storage_namespace=storage_namespace or self.config.storage_namespace(repo),
                default_branch=default_branch,
            )
            return lakefs_sdk.RepositoriesApi(self.api).create_repository(creation)

        try:
            return self._call(f"repository {repo}", create, idempotent=False)
        except LakeFSError as exc:
            if exist_ok and exc.status == 409:  # created concurrently
                return self.get_repository(repo)
            raise

    def get_repository(self, repo: str) -> lakefs_sdk.Repository:
        return self._call(
            f"repository {repo}",
            lambda: lakefs_sdk.RepositoriesApi(self.api).get_repository(repo),
            idempotent=True,
        )

    def repository_exists(self, repo: str) -> bool:
        try:
            self.get_repository(repo)
        except NotFoundError:
            return False
        return True

    def list_repositories(self, prefix: str = "") -> Iterator[lakefs_sdk.Repository]:
        api = lakefs_sdk.RepositoriesApi(self.api)
        return self._paginate(
            "repositories",
            lambda after, n: api.list_repositories(prefix=prefix or None, after=after, amount=n),
            None,
        )

    def delete_repository(self, repo: str, *, missing_ok: bool = False) -> None:
        try:
            self._call(
                f"repository {repo}",
                lambda: lakefs_sdk.RepositoriesApi(self.api).delete_repository(repo),
                idempotent=True,
            )
        except NotFoundError:
            if not missing_ok:
                raise
