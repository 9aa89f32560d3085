"""Routes for objects: upload, download (ranged), stat, list, delete, copy."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from email.utils import formatdate

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from airflow_pachyderm.server import multipart
from airflow_pachyderm.server.api_refs import (
    RequestBody,
    common_prefix,
    diff_start,
    list_response,
    page_amount,
    take_page,
    window,
)
from airflow_pachyderm.server.blobs import BlobCorrupt
from airflow_pachyderm.server.errors import ApiError, BadRequest, DataCorrupt
from airflow_pachyderm.server.store import Page, Store, successor
from airflow_pachyderm.server.transfer import BlobSink, parse_range, read_range, read_verified
from airflow_pachyderm.server.tree import Entry

META_HEADER_PREFIX = "x-lakefs-meta-"
# lakeFS clients send metadata keys starting with "::lakefs::" under this header prefix.
INTERNAL_HEADER_PREFIX = "x-lakefs-internal-"
INTERNAL_KEY_PREFIX = "::lakefs::"
# Whole objects up to this size are hashed before the first byte is sent, so a damaged one
# gets a proper error response; bigger ones are hashed as they stream (see read_verified).
VERIFY_FIRST_BYTES = 8 * 1024 * 1024

log = logging.getLogger(__name__)


class PathList(RequestBody):
    paths: list[str]


class ObjectCopyCreation(RequestBody):
    src_path: str
    src_ref: str | None = None
    force: bool = False
    shallow: bool = False


def stats_json(store: Store, entry: Entry, user_metadata: bool = True) -> dict:
    stats = {
        "path": entry.path,
        "path_type": "object",
        "physical_address": store.physical_address(entry),
        "checksum": entry.checksum,
        "size_bytes": entry.size,
        "mtime": entry.mtime,
        "content_type": entry.content_type,
    }
    if user_metadata:
        stats["metadata"] = dict(entry.metadata)
    return stats


def common_prefix_json(path: str) -> dict:
    return {
        "path": path,
        "path_type": "common_prefix",
        "physical_address": "",
        "checksum": "",
        "mtime": 0,
    }


def list_page(
    store: Store,
    repo: str,
    ref: str,
    prefix: str,
    after: str,
    delimiter: str,
    amount: int,
    user_metadata: bool,
) -> Page:
    def results() -> Iterator[dict]:
        entries = store.iterate(repo, ref, diff_start(prefix, after, delimiter))
        while True:
            entry = next(entries, None)
            if entry is None:
                return
            place = window(entry.path, prefix, after)
            if place == "past":
                return
            if place == "outside":
                continue
            common = common_prefix(entry.path, prefix, delimiter)
            if common is not None:
                yield common_prefix_json(common)
                # Jump over the whole sub-tree instead of reading it.
                entries = store.iterate(repo, ref, successor(common))
                continue
            yield stats_json(store, entry, user_metadata)

    return take_page(results(), amount)


def user_metadata(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """User metadata from ``x-lakefs-meta-*`` headers (keys lower-case, as lakeFS's clients)."""
    metadata = {}
    for key, value in headers:
        key = key.lower()
        if key.startswith(META_HEADER_PREFIX):
            metadata[key[len(META_HEADER_PREFIX) :]] = value
        elif key.startswith(INTERNAL_HEADER_PREFIX):
            metadata[INTERNAL_KEY_PREFIX + key[len(INTERNAL_HEADER_PREFIX) :]] = value
    return metadata


def object_headers(entry: Entry) -> dict[str, str]:
    return {
        "ETag": f'"{entry.checksum}"',
        "Last-Modified": formatdate(entry.mtime, usegmt=True),
        "Content-Type": entry.content_type or "application/octet-stream",
        "Accept-Ranges": "bytes",
    }


def object_body(store: Store, entry: Entry, name: str, start: int, end: int) -> Iterator[bytes]:
    """The bytes ``start..end`` of an object, checked against its blob's content address.

    Raises ``_Gone`` (410) when the blob is missing and :class:`DataCorrupt` (500, naming
    the object and the blob) when it is damaged and that is known before sending.
    """
    blobs = store.blobs
    try:
        file = blobs.open_checked(entry.address, entry.size)
    except FileNotFoundError:
        raise _Gone(
            f"data of object {name!r} (blob {entry.address}) is missing from the blob store"
        ) from None
    except BlobCorrupt as exc:
        raise _corrupt(name, exc) from None
    if not blobs.verify_reads:
        return read_range(file, start, end)
    whole = start == 0 and end == entry.size
    try:
        blobs.check_known_damage(entry.address, file)
        if whole and entry.size > VERIFY_FIRST_BYTES:
            return _cut_short_if_corrupt(read_verified(blobs, entry.address, file), name)
        blobs.verify(entry.address, file, trust_unchanged=not whole)
    except BlobCorrupt as exc:
        file.close()
        raise _corrupt(name, exc) from None
    return read_range(file, start, end)


def _corrupt(name: str, exc: BlobCorrupt) -> DataCorrupt:
    message = f"data of object {name!r} is corrupt: {exc}; upload the same content to repair it"
    log.error("%s", message)
    return DataCorrupt(message)


def _cut_short_if_corrupt(chunks: Iterator[bytes], name: str) -> Iterator[bytes]:
    try:
        yield from chunks
    except BlobCorrupt as exc:
        _corrupt(name, exc)
        log.error("response for object %r cut short before its last bytes", name)
        raise


def router(store: Store) -> APIRouter:
    api = APIRouter()
    objects = "/repositories/{repository}/refs/{ref}/objects"
    branch_objects = "/repositories/{repository}/branches/{branch}/objects"

    @api.post(branch_objects, status_code=201)
    async def upload_object(
        request: Request,
        repository: str,
        branch: str,
        path: str,
        storageClass: str | None = None,  # lakeFS's query parameter name; ignored
        force: bool = False,
    ) -> Response:
        if_none_match = request.headers.get("if-none-match")
        if_match = request.headers.get("if-match")
        # Fail fast (unknown branch, existing path with If-None-Match) before reading the body.
        await run_in_threadpool(store.check_can_write, repository, branch, path, if_none_match)
        metadata = user_metadata(request.headers.items())
        sink = BlobSink(store.blobs)
        try:
            declared = request.headers.get("content-type", "")
            if declared.lower().startswith("multipart/form-data"):
                content_type = await multipart.read_part(
                    request.stream(), multipart.boundary_of(declared), "content", sink.write
                )
            else:
                content_type = declared or "application/octet-stream"
                async for chunk in request.stream():
                    await sink.write(chunk)
            blob = await sink.finish()
        except BaseException:
            await sink.abort()
            raise
        entry = await run_in_threadpool(
            store.stage,
            repository,
            branch,
            path,
            blob,
            content_type,
            metadata,
            if_none_match,
            if_match,
        )
        return JSONResponse(stats_json(store, entry), 201)

    @api.get(objects)
    def get_object(
        request: Request, repository: str, ref: str, path: str, presign: bool = False
    ) -> Response:
        entry = store.stat(repository, ref, path)
        headers = object_headers(entry)
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers={"ETag": headers["ETag"]})
        start, end, status = 0, entry.size, 200
        range_header = request.headers.get("range")
        if range_header:
            start, end = parse_range(range_header, entry.size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
        headers["Content-Length"] = str(end - start)
        body = object_body(store, entry, f"{repository}/{ref}/{path}", start, end)
        return StreamingResponse(body, status, headers=headers)

    @api.head(objects)
    def head_object(request: Request, repository: str, ref: str, path: str) -> Response:
        entry = store.stat(repository, ref, path)
        headers = object_headers(entry)
        start, end, status = 0, entry.size, 200
        range_header = request.headers.get("range")
        if range_header:
            start, end = parse_range(range_header, entry.size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
        headers["Content-Length"] = str(end - start)
        return Response(status_code=status, headers=headers)

    @api.get(objects + "/stat")
    def stat_object(
        repository: str, ref: str, path: str, user_metadata: bool = True, presign: bool = False
    ) -> Response:
        return JSONResponse(stats_json(store, store.stat(repository, ref, path), user_metadata))

    @api.get(objects + "/underlyingProperties")
    def get_underlying_properties(repository: str, ref: str, path: str) -> Response:
        store.stat(repository, ref, path)
        return JSONResponse({"storage_class": None})

    @api.get(objects + "/ls")
    def list_objects(
        repository: str,
        ref: str,
        user_metadata: bool = True,
        presign: bool = False,
        after: str = "",
        amount: int | None = None,
        delimiter: str = "",
        prefix: str = "",
    ) -> Response:
        page = list_page(
            store, repository, ref, prefix, after, delimiter, page_amount(amount), user_metadata
        )
        return list_response(page)

    @api.delete(branch_objects, status_code=204)
    def delete_object(
        repository: str, branch: str, path: str, force: bool = False, no_tombstone: bool = False
    ) -> Response:
        store.delete_object(repository, branch, path)
        return Response(status_code=204)

    @api.post(branch_objects + "/delete")
    def delete_objects(
        repository: str,
        branch: str,
        body: PathList,
        force: bool = False,
        no_tombstone: bool = False,
    ) -> Response:
        if len(body.paths) > 1000:
            raise BadRequest("paths: at most 1000 paths per request")
        store.check_branch(repository, branch)
        errors = []
        for path in body.paths:
            try:
                store.delete_object(repository, branch, path, missing_ok=True)
            except ApiError as exc:
                errors.append({"status_code": exc.status, "message": exc.message, "path": path})
        return JSONResponse({"errors": errors})

    @api.post(branch_objects + "/copy", status_code=201)
    def copy_object(
        repository: str, branch: str, dest_path: str, body: ObjectCopyCreation
    ) -> Response:
        entry = store.copy_object(repository, branch, dest_path, body.src_path, body.src_ref)
        return JSONResponse(stats_json(store, entry), 201)

    return api


class _Gone(ApiError):
    status = 410
