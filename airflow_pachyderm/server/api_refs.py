"""Routes for repositories, branches, tags, commits, log, diff and merge."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from airflow_pachyderm.server.errors import BadRequest
from airflow_pachyderm.server.store import Page, Store, successor
from airflow_pachyderm.server.tree import DiffItem

DEFAULT_AMOUNT = 100
MAX_AMOUNT = 1000
# Commit dates clients can turn into a date-time: 0001-01-01 .. 9999-12-31 (epoch seconds).
MIN_COMMIT_DATE = -62_135_596_800
MAX_COMMIT_DATE = 253_402_300_799


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _utf8_text(self) -> _Body:
        # JSON may escape lone surrogates ("\ud800"): text no UTF-8 store or client can hold.
        for name, value in self:
            for text in _strings(value):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError(f"{name}: text is not valid UTF-8 (lone surrogate)") from None
        return self


# The base of every JSON request body, for the other route modules.
RequestBody = _Body


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, BaseModel):
        for _, item in value:
            yield from _strings(item)


class RepositoryCreation(_Body):
    name: str
    storage_namespace: str
    default_branch: str = "main"
    sample_data: bool = False
    read_only: bool = False
    storage_id: str | None = None


class BranchCreation(_Body):
    name: str
    source: str
    force: bool = False
    hidden: bool = False


class ResetCreation(_Body):
    type: str
    path: str | None = None
    force: bool = False


class CommitOverrides(_Body):
    message: str | None = None
    metadata: dict[str, str] | None = None


class CherryPickCreation(_Body):
    ref: str
    parent_number: int | None = None
    commit_overrides: CommitOverrides | None = None
    force: bool = False


class RevertCreation(_Body):
    ref: str
    parent_number: int
    commit_overrides: CommitOverrides | None = None
    force: bool = False
    allow_empty: bool = False


class CommitCreation(_Body):
    message: str
    metadata: dict[str, str] | None = None
    date: int | None = Field(default=None, ge=MIN_COMMIT_DATE, le=MAX_COMMIT_DATE)
    allow_empty: bool = False
    force: bool = False


class TagCreation(_Body):
    id: str
    ref: str
    force: bool = False


class Merge(_Body):
    message: str | None = None
    metadata: dict[str, str] | None = None
    strategy: str | None = None
    force: bool = False
    allow_empty: bool = False
    squash_merge: bool = False


def page_amount(amount: int | None) -> int:
    """lakeFS: missing or non-positive -> the default page size; capped at 1000."""
    if amount is None or amount <= 0:
        return DEFAULT_AMOUNT
    return min(amount, MAX_AMOUNT)


def list_response(page: Page) -> JSONResponse:
    return JSONResponse(
        {
            "pagination": {
                "has_more": page.has_more,
                "next_offset": page.next_offset,
                "results": len(page.items),
                "max_per_page": MAX_AMOUNT,
            },
            "results": page.items,
        }
    )


def diff_json(item: DiffItem, uncommitted: bool = False) -> dict:
    """One lakeFS Diff entry. As in lakeFS, a removal's size is the removed object's in a diff
    between commits, but 0 in a branch's uncommitted changes (its staged tombstone's size)."""
    path, left, right = item
    kind = "added" if left is None else "removed" if right is None else "changed"
    size = 0 if right is None and uncommitted else (right or left).size  # type: ignore[union-attr]
    return {"type": kind, "path": path, "path_type": "object", "size_bytes": size}


def diff_page(
    items: Iterator[DiffItem],
    prefix: str,
    after: str,
    delimiter: str,
    amount: int,
    uncommitted: bool = False,
) -> Page:
    """Page through a diff stream; with a delimiter, changed sub-trees show as one prefix."""

    def results() -> Iterator[dict]:
        last_prefix = None
        for item in items:
            path = item[0]
            place = window(path, prefix, after)
            if place == "past":
                return
            if place == "outside":
                continue
            common = common_prefix(path, prefix, delimiter)
            if common is not None:
                if common != last_prefix and common > after:
                    last_prefix = common
                    yield {"type": "prefix_changed", "path": common, "path_type": "common_prefix"}
                continue
            yield diff_json(item, uncommitted)

    return take_page(results(), amount)


def window(path: str, prefix: str, after: str) -> str:
    """Where a path of a sorted listing stands: "in" the page window, "outside" it (before
    the prefix or not after ``after``), or "past" it (beyond the prefix: stop reading)."""
    if not path.startswith(prefix):
        return "past" if path > prefix else "outside"
    return "outside" if path <= after else "in"


def common_prefix(path: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix a delimiter folds ``path`` into, or None for a plain entry."""
    if not delimiter:
        return None
    cut = path.find(delimiter, len(prefix))
    return path[: cut + len(delimiter)] if cut >= 0 else None


def take_page(items: Iterator[dict], amount: int) -> Page:
    """Up to ``amount`` items, and whether more follow (read one beyond to know)."""
    taken = []
    for item in items:
        taken.append(item)
        if len(taken) > amount:
            break
    has_more = len(taken) > amount
    taken = taken[:amount]
    return Page(taken, has_more, taken[-1]["path"] if has_more else "")


def diff_start(prefix: str, after: str, delimiter: str) -> str:
    """Where a diff or listing page starts: past ``after`` and past its whole sub-tree."""
    if (
        delimiter
        and after.startswith(prefix)
        and after.endswith(delimiter)
        and len(after) > len(prefix)
    ):
        return successor(after)
    return max(prefix, after)


def router(store: Store) -> APIRouter:
    api = APIRouter()

    # ------------------------------------------------------------ repositories

    @api.post("/repositories", status_code=201)
    def create_repository(body: RepositoryCreation, bare: bool = False) -> Response:
        if body.storage_id:
            # lakeFS with a single blockstore knows only the storage id "".
            raise BadRequest(f"storage id: invalid value {body.storage_id!r}: validation error")
        repo = store.create_repository(
            body.name,
            body.storage_namespace,
            body.default_branch,
            bare=bare,
            sample_data=body.sample_data,
        )
        return JSONResponse(repo, 201)

    @api.get("/repositories")
    def list_repositories(
        prefix: str = "", after: str = "", amount: int | None = None, search: str = ""
    ) -> Response:
        page = store.list_repositories(prefix, after, page_amount(amount))
        if search:
            page.items = [r for r in page.items if search in r["id"]]
        return list_response(page)

    @api.get("/repositories/{repository}")
    def get_repository(repository: str) -> Response:
        return JSONResponse(store.get_repository(repository))

    @api.delete("/repositories/{repository}", status_code=204)
    def delete_repository(repository: str, force: bool = False) -> Response:
        store.delete_repository(repository)
        return Response(status_code=204)

    @api.get("/repositories/{repository}/metadata")
    def get_repository_metadata(repository: str) -> Response:
        store.get_repository(repository)
        return JSONResponse({})

    # ------------------------------------------------------------ branches

    @api.post("/repositories/{repository}/branches", status_code=201)
    def create_branch(repository: str, body: BranchCreation) -> Response:
        commit_id = store.create_branch(repository, body.name, body.source, hidden=body.hidden)
        return PlainTextResponse(commit_id, 201)

    @api.get("/repositories/{repository}/branches")
    def list_branches(
        repository: str,
        prefix: str = "",
        after: str = "",
        amount: int | None = None,
        show_hidden: bool = False,
    ) -> Response:
        return list_response(
            store.list_refs("branches", repository, prefix, after, page_amount(amount), show_hidden)
        )

    @api.get("/repositories/{repository}/branches/{branch}")
    def get_branch(repository: str, branch: str) -> Response:
        return JSONResponse(store.get_branch(repository, branch))

    @api.delete("/repositories/{repository}/branches/{branch}", status_code=204)
    def delete_branch(repository: str, branch: str, force: bool = False) -> Response:
        store.delete_branch(repository, branch)
        return Response(status_code=204)

    @api.put("/repositories/{repository}/branches/{branch}", status_code=204)
    def reset_branch(repository: str, branch: str, body: ResetCreation) -> Response:
        store.reset_branch(repository, branch, body.type, body.path)
        return Response(status_code=204)

    @api.put("/repositories/{repository}/branches/{branch}/hard_reset", status_code=204)
    def hard_reset_branch(repository: str, branch: str, ref: str, force: bool = False) -> Response:
        store.hard_reset(repository, branch, ref)
        return Response(status_code=204)

    @api.post("/repositories/{repository}/branches/{branch}/revert", status_code=204)
    def revert_branch(repository: str, branch: str, body: RevertCreation) -> Response:
        overrides = body.commit_overrides or CommitOverrides()
        store.revert(
            repository,
            branch,
            body.ref,
            body.parent_number,
            allow_empty=body.allow_empty,
            message=overrides.message,
            metadata=overrides.metadata,
        )
        return Response(status_code=204)

    @api.post("/repositories/{repository}/branches/{branch}/cherry-pick", status_code=201)
    def cherry_pick(repository: str, branch: str, body: CherryPickCreation) -> Response:
        overrides = body.commit_overrides or CommitOverrides()
        commit = store.cherry_pick(
            repository,
            branch,
            body.ref,
            body.parent_number,
            message=overrides.message,
            metadata=overrides.metadata,
        )
        return JSONResponse(commit, 201)

    @api.get("/repositories/{repository}/branches/{branch}/diff")
    def diff_branch(
        repository: str,
        branch: str,
        after: str = "",
        amount: int | None = None,
        prefix: str = "",
        delimiter: str = "",
    ) -> Response:
        start = diff_start(prefix, after, delimiter)
        items = store.diff_uncommitted(repository, branch, start)
        page = diff_page(items, prefix, after, delimiter, page_amount(amount), uncommitted=True)
        return list_response(page)

    # ------------------------------------------------------------ commits

    @api.post("/repositories/{repository}/branches/{branch}/commits", status_code=201)
    def commit(
        repository: str, branch: str, body: CommitCreation, source_metarange: str | None = None
    ) -> Response:
        if source_metarange:
            raise BadRequest("source_metarange is not supported by this server")
        result = store.commit(
            repository,
            branch,
            body.message,
            body.metadata or {},
            allow_empty=body.allow_empty,
            date=body.date,
        )
        return JSONResponse(result, 201)

    @api.get("/repositories/{repository}/commits/{commit_id}")
    def get_commit(repository: str, commit_id: str) -> Response:
        return JSONResponse(store.get_commit(repository, commit_id))

    @api.get("/repositories/{repository}/refs/{ref}/commits")
    def log_commits(
        repository: str,
        ref: str,
        after: str = "",
        amount: int | None = None,
        objects: list[str] = Query(default=[]),  # noqa: B008 - FastAPI's way to declare lists
        prefixes: list[str] = Query(default=[]),  # noqa: B008
        limit: bool = False,
        first_parent: bool = False,
        since: str | None = None,
        stop_at: str | None = None,
    ) -> Response:
        page = store.log(
            repository,
            ref,
            after,
            page_amount(amount),
            first_parent=first_parent,
            objects=objects,
            prefixes=prefixes,
            stop_at=stop_at or None,
            since=_epoch(since),
            limit=limit,
        )
        return list_response(page)

    # ------------------------------------------------------------ diff and merge

    @api.get("/repositories/{repository}/refs/{left_ref}/diff/{right_ref}")
    def diff_refs(
        repository: str,
        left_ref: str,
        right_ref: str,
        after: str = "",
        amount: int | None = None,
        prefix: str = "",
        delimiter: str = "",
        type: str = "three_dot",
        include_right_stats: bool = False,
    ) -> Response:
        if type not in ("two_dot", "three_dot"):
            raise BadRequest(f"type {type!r} is invalid: use 'two_dot' or 'three_dot'")
        start = diff_start(prefix, after, delimiter)
        items = store.diff(repository, left_ref, right_ref, start, two_dot=type == "two_dot")
        return list_response(diff_page(items, prefix, after, delimiter, page_amount(amount)))

    @api.post("/repositories/{repository}/refs/{source_ref}/merge/{destination_branch}")
    def merge_into_branch(
        repository: str, source_ref: str, destination_branch: str, body: Merge | None = None
    ) -> Response:
        body = body or Merge()
        commit_id = store.merge(
            repository,
            source_ref,
            destination_branch,
            message=body.message,
            metadata=body.metadata,
            strategy=body.strategy,
            allow_empty=body.allow_empty or body.force,
            squash=body.squash_merge,
        )
        return JSONResponse({"reference": commit_id})

    @api.get("/repositories/{repository}/refs/{source_ref}/merge/{destination_branch}")
    def find_merge_base(repository: str, source_ref: str, destination_branch: str) -> Response:
        return JSONResponse(store.find_merge_base(repository, source_ref, destination_branch))

    # ------------------------------------------------------------ tags

    @api.post("/repositories/{repository}/tags", status_code=201)
    def create_tag(repository: str, body: TagCreation) -> Response:
        return JSONResponse(store.create_tag(repository, body.id, body.ref), 201)

    @api.get("/repositories/{repository}/tags")
    def list_tags(
        repository: str, prefix: str = "", after: str = "", amount: int | None = None
    ) -> Response:
        return list_response(
            store.list_refs("tags", repository, prefix, after, page_amount(amount))
        )

    @api.get("/repositories/{repository}/tags/{tag}")
    def get_tag(repository: str, tag: str) -> Response:
        return JSONResponse(store.get_tag(repository, tag))

    @api.delete("/repositories/{repository}/tags/{tag}", status_code=204)
    def delete_tag(repository: str, tag: str, force: bool = False) -> Response:
        store.delete_tag(repository, tag)
        return Response(status_code=204)

    return api


def _epoch(since: str | None) -> int | None:
    """``since`` is an RFC 3339 date-time (lakeFS) -> epoch seconds."""
    if not since:
        return None
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise BadRequest(f"since {since!r} is not an RFC 3339 date-time") from exc
