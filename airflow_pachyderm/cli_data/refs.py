"""``REPO@REF[:PATH]`` arguments, with Pachyderm repo names mapped as the specs map them."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_pachyderm.cli_data.common import CommandError


@dataclass(frozen=True)
class Target:
    """One parsed argument: lakeFS repo, ref (None: the repo's default branch) and path."""

    repo: str
    ref: str | None
    path: str | None
    written: str  # as the user wrote it, for messages

    def with_ref(self, ref: str) -> Target:
        return Target(self.repo, ref, self.path, self.written)


def lakefs_repo(name: str) -> str:
    """The lakeFS repository for ``name`` or ``project/name`` (raises NameMappingError)."""
    from airflow_pachyderm.spec.names import lakefs_repo_name

    project, sep, repo = name.rpartition("/")
    return lakefs_repo_name(repo, project if sep else None)


def parse_target(text: str, *, need_ref: bool = False) -> Target:
    """Parse ``REPO[@REF][:PATH]``; REF may be a branch, tag, commit (prefix) or ``main~1``.

    :raises CommandError: on an empty repo, ref or path part.
    """
    head, colon, path = text.partition(":")
    repo, at, ref = head.partition("@")
    if not repo:
        raise CommandError(f"{text!r}: expected REPO@REF[:PATH]")
    if at and not ref:
        raise CommandError(f"{text!r}: empty ref after '@'")
    if need_ref and not at:
        raise CommandError(f"{text!r}: expected REPO@REF (e.g. {repo}@main)")
    if colon and not path:
        path = ""
    return Target(lakefs_repo(repo), ref or None, path.lstrip("/") if colon else None, text)


def resolve(client, target: Target) -> tuple[str, object]:
    """The target's ref (default branch filled in) and its commit; raises on a bad ref."""
    ref = target.ref or client.get_repository(target.repo).default_branch
    return ref, client.get_commit(target.repo, ref)
