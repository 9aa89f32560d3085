"""``airflow-pachyderm put`` and ``get``: parallel streaming transfers with progress.

``put`` uploads every file to the branch (staged) in parallel and makes one commit at the
end, so readers and pipelines see all the files or none; ``get`` downloads from one resolved
commit, so a branch moving meanwhile cannot mix two versions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from airflow_pachyderm.cli_data.common import (
    CommandError,
    add_json,
    command,
    human_bytes,
    make_client,
    print_json,
    short,
)
from airflow_pachyderm.cli_data.refs import parse_target

SMALL_FILE = 256 * 1024  # read whole, sent in one piece
DEFAULT_PARALLELISM = 32  # small files: the server keeps ~32 requests busy (measured)


@dataclass(frozen=True)
class Item:
    local: Path
    remote: str
    size: int


def add_put_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="LOCAL... REPO@BRANCH[:PATH]",
                        help="local files or directories, then the destination")
    parser.add_argument("-r", "--recursive", action="store_true", help="upload directories")
    parser.add_argument("-m", "--message", help="commit message")
    parser.add_argument("--no-commit", action="store_true",
                        help="leave the uploads staged on the branch, uncommitted")
    parser.add_argument("-p", "--parallelism", type=int, default=DEFAULT_PARALLELISM,
                        help=f"concurrent uploads (default {DEFAULT_PARALLELISM})")
    add_json(parser)


def add_get_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="REPO@REF:PATH")
    parser.add_argument("-o", "--output", metavar="LOCAL",
                        help="file or directory to write (default: the file's name here; "
                        "'-' writes one file to stdout)")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="download every file under PATH")
    parser.add_argument("-p", "--parallelism", type=int, default=DEFAULT_PARALLELISM,
                        help=f"concurrent downloads (default {DEFAULT_PARALLELISM})")
    add_json(parser)


# -- put --------------------------------------------------------------------------------------


def plan_uploads(sources: list[Path], base: str | None, recursive: bool) -> list[Item]:
    """Map local files to repository paths.

    One file and a destination path not ending in ``/`` -> that path; otherwise each file
    goes under the destination as its name, a directory's files under their relative paths
    (under the directory's own name when the destination names no path: ``REPO@BRANCH``;
    ``REPO@BRANCH:`` or ``:/`` is the root).
    :raises CommandError: for a missing source, or a directory without ``-r``.
    """
    items: list[Item] = []
    single_file = len(sources) == 1 and sources[0].is_file()
    for source in sources:
        if source.is_dir():
            if not recursive:
                raise CommandError(f"{source} is a directory: add -r to upload it")
            prefix = base if base is not None else source.resolve().name + "/"
            for file in sorted(p for p in source.rglob("*") if p.is_file()):
                rel = file.relative_to(source).as_posix()
                items.append(Item(file, _join(prefix, rel), file.stat().st_size))
        elif source.is_file():
            if single_file and base and not base.endswith("/"):
                remote = base
            else:
                remote = _join(base or "", source.name)
            items.append(Item(source, remote, source.stat().st_size))
        else:
            raise CommandError(f"{source}: no such file or directory")
    return items


def _join(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return prefix.rstrip("/") + "/" + name


def _run_parallel(jobs, parallelism: int) -> None:
    """Run callables on a thread pool; the first failure cancels what has not started."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        futures = [pool.submit(job) for job in jobs]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in done:
            future.result()


@command
def run_put(args: argparse.Namespace) -> int:
    from airflow_pachyderm.cli_data.progress import CountingReader, transfer_progress

    if len(args.sources) < 2:
        raise CommandError("expected LOCAL... REPO@BRANCH[:PATH]")
    target = parse_target(args.sources[-1])
    items = plan_uploads([Path(s) for s in args.sources[:-1]], target.path, args.recursive)
    if not items:
        raise CommandError("nothing to upload (the directories are empty)")
    client = make_client()
    branch = target.ref or client.get_repository(target.repo).default_branch
    client.get_branch(target.repo, branch)  # a clear error before any upload
    total = sum(item.size for item in items)
    started = time.monotonic()
    with transfer_progress(len(items), total, "put") as transfer:

        def upload(item: Item) -> None:
            if item.size <= SMALL_FILE:  # one send of headers and body, no stream wrapper
                data = item.local.read_bytes()
                client.upload(target.repo, branch, item.remote, data)
                transfer.add_bytes(len(data))
            else:
                with item.local.open("rb") as fh:
                    client.upload(target.repo, branch, item.remote, CountingReader(fh, transfer))
            transfer.file_done()

        try:
            _run_parallel([lambda i=i: upload(i) for i in items], args.parallelism)
        except BaseException:
            print(f"airflow-pachyderm put: stopped; files uploaded so far stay staged on "
                  f"{target.repo}@{branch} (uncommitted)", file=sys.stderr)
            raise
    seconds = time.monotonic() - started
    commit_id = None
    if not args.no_commit:
        message = args.message or f"put {len(items)} file(s)"
        commit_id = client.commit(target.repo, branch, message,
                                  metadata={"airflow-pachyderm.put.files": str(len(items))}).id
    result = {"repo": target.repo, "branch": branch, "files": len(items), "bytes": total,
              "seconds": round(seconds, 3), "commit": commit_id,
              "paths": [item.remote for item in items][:1000]}
    if args.json:
        print_json(result)
    else:
        where = f"commit {target.repo}@{commit_id}" if commit_id else "staged, not committed"
        print(f"put {len(items)} file(s), {human_bytes(total)} to {target.repo}@{branch} in "
              f"{seconds:.1f}s: {where}")
    return 0


# -- get --------------------------------------------------------------------------------------

PART_BYTES = 32 * 1024 * 1024  # big files come down in ranges of this size, in parallel
SPLIT_AT = 2 * PART_BYTES


class _Download:
    """One file: written to a temporary file next to its destination (in parallel ranges
    when big), renamed into place only when complete."""

    def __init__(self, client, repo: str, commit: str, item: Item, transfer) -> None:
        self.client, self.repo, self.commit, self.item = client, repo, commit, item
        self.transfer = transfer
        item.local.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=item.local.parent, prefix=f".{item.local.name}.")
        os.close(fd)
        self.parts_left = 0

    def jobs(self) -> list:
        size = self.item.size
        if size < SPLIT_AT:
            return [self._whole]
        os.truncate(self.tmp, size)
        starts = range(0, size, PART_BYTES)
        self.parts_left = len(starts)
        return [lambda s=s: self._part(s, min(s + PART_BYTES, size)) for s in starts]

    def _whole(self) -> None:
        from airflow_pachyderm.cli_data.progress import CountingWriter

        with open(self.tmp, "wb") as fh:
            self.client.download(self.repo, self.commit, self.item.remote,
                                 CountingWriter(fh, self.transfer))
        self.transfer.file_done()

    def _part(self, start: int, end: int) -> None:
        from airflow_pachyderm.lakefs.client import CHUNK_SIZE

        response = self.client.open_stream(self.repo, self.commit, self.item.remote,
                                           byte_range=(start, end - 1))
        fd = os.open(self.tmp, os.O_WRONLY)
        try:
            offset = start
            for chunk in response.stream(CHUNK_SIZE):
                os.pwrite(fd, chunk, offset)
                offset += len(chunk)
                self.transfer.add_bytes(len(chunk))
        finally:
            os.close(fd)
            response.release_conn()
        if offset != end:
            raise CommandError(f"{self.repo}@{self.commit[:12]}:{self.item.remote}: got "
                           f"{offset - start} of {end - start} bytes at offset {start}")
        self.parts_left -= 1  # one thread per part; the count is only read at the end
        if self.parts_left == 0:
            self.transfer.file_done()

    def finish(self) -> None:
        os.replace(self.tmp, self.item.local)
        self.tmp = ""

    def discard(self) -> None:
        if self.tmp:
            Path(self.tmp).unlink(missing_ok=True)


@command
def run_get(args: argparse.Namespace) -> int:
    from airflow_pachyderm.cli_data.progress import transfer_progress
    from airflow_pachyderm.lakefs.errors import NotFoundError

    target = parse_target(args.target)
    if target.path is None:
        raise CommandError(f"{args.target!r}: expected REPO@REF:PATH")
    client = make_client()
    ref = target.ref or client.get_repository(target.repo).default_branch
    commit = client.get_commit(target.repo, ref).id  # read one version throughout
    path = target.path
    if args.recursive:
        prefix = path.rstrip("/") + "/" if path else ""
        stats = [o for o in client.list_objects(target.repo, commit, prefix=prefix)
                 if o.path_type == "object"]
        if not stats:
            raise CommandError(f"{target.repo}@{ref}:{path}: no such directory (no files under it)")
        out_dir = Path(args.output or (Path(path.rstrip("/")).name or target.repo))
        items = [Item(out_dir / o.path[len(prefix):], o.path, o.size_bytes or 0) for o in stats]
    else:
        if not path or path.endswith("/"):
            raise CommandError(f"{args.target!r}: a directory: add -r to download it")
        try:
            stat = client.stat(target.repo, commit, path)
        except NotFoundError:
            if any(True for _ in client.list_objects(target.repo, commit, prefix=path + "/")):
                raise CommandError(f"{target.repo}@{ref}:{path} is a directory: add -r") from None
            raise CommandError(f"{target.repo}@{ref}:{path}: no such file") from None
        if args.output == "-":
            client.download(target.repo, commit, path, sys.stdout.buffer)
            return 0
        out = Path(args.output) if args.output else Path(Path(path).name)
        if out.is_dir():
            out = out / Path(path).name
        items = [Item(out, path, stat.size_bytes or 0)]
    total = sum(item.size for item in items)
    started = time.monotonic()
    with transfer_progress(len(items), total, "get") as transfer:
        downloads = [_Download(client, target.repo, commit, item, transfer) for item in items]
        try:
            _run_parallel([job for d in downloads for job in d.jobs()], args.parallelism)
            for download in downloads:
                download.finish()
        finally:
            for download in downloads:
                download.discard()
    seconds = time.monotonic() - started
    result = {"repo": target.repo, "ref": ref, "commit": commit, "files": len(items),
              "bytes": total, "seconds": round(seconds, 3),
              "local": [str(item.local) for item in items][:1000]}
    if args.json:
        print_json(result)
    else:
        dest = out_dir if args.recursive else items[0].local
        print(f"got {len(items)} file(s), {human_bytes(total)} from "
              f"{target.repo}@{short(commit)} to {dest} in {seconds:.1f}s")
    return 0
