"""Benchmark of the embedded lakeFS-compatible server, measured through lakefs-sdk on loopback.

Run: ``python benchmarks/lakefs_server.py [--quick] [--verify-cost]``. Prints one JSON object
per line: ``{"benchmark", "metric", "value", "unit", "baseline", "ratio", "target"}``.
``--verify-cost`` runs only the cost of checking blobs on read (1 GiB, or 64 MiB with
``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lakefs_sdk
import urllib3

from airflow_pachyderm.server.cli import NO_VERIFY_ENV
from airflow_pachyderm.server.process import LakeFSServerProcess

MiB = 1024 * 1024


def emit(benchmark, metric, value, unit, target, baseline=None) -> None:
    ratio = round(value / baseline, 3) if baseline else None
    print(
        json.dumps(
            {
                "benchmark": benchmark,
                "metric": metric,
                "value": round(value, 3),
                "unit": unit,
                "baseline": round(baseline, 3) if baseline is not None else None,
                "ratio": ratio,
                "target": target,
            }
        ),
        flush=True,
    )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[int], object], n: int) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


class Bench:
    def __init__(self, server: LakeFSServerProcess, work: Path) -> None:
        self.server = server
        self.work = work
        self.client = lakefs_sdk.ApiClient(
            lakefs_sdk.Configuration(
                host=f"{server.endpoint}/api/v1",
                username=server.access_key_id,
                password=server.secret_access_key,
            )
        )
        self.repos = lakefs_sdk.RepositoriesApi(self.client)
        self.branches = lakefs_sdk.BranchesApi(self.client)
        self.commits = lakefs_sdk.CommitsApi(self.client)
        self.objects = lakefs_sdk.ObjectsApi(self.client)
        self.http = urllib3.PoolManager(
            maxsize=8,
            headers=urllib3.make_headers(
                basic_auth=f"{server.access_key_id}:{server.secret_access_key}"
            ),
        )

    def objects_url(self, repo: str, branch: str) -> str:
        return f"{self.server.endpoint}/api/v1/repositories/{repo}/branches/{branch}/objects"

    def raw_put(self, repo: str, branch: str, path: str, body) -> None:
        response = self.http.urlopen(
            "POST",
            f"{self.objects_url(repo, branch)}?{urllib.parse.urlencode({'path': path})}",
            body=body,
            headers={**self.http.headers, "Content-Type": "application/octet-stream"},
            retries=False,
        )
        if response.status != 201:
            raise RuntimeError(f"upload of {path} failed: {response.status} {response.data!r}")

    def repo(self, name: str) -> str:
        self.repos.create_repository(
            lakefs_sdk.RepositoryCreation(name=name, storage_namespace=f"local://{name}")
        )
        return name

    # -- latency -------------------------------------------------------------------------

    def latencies(self, n: int) -> None:
        repo = self.repo("latency")
        small = self.work / "small.bin"
        small.write_bytes(os.urandom(4096))
        figures = {
            "upload_4kb": lambda i: self.objects.upload_object(
                repo, "main", f"obj/{i:05d}", content=str(small)
            ),
            "stat": lambda i: self.objects.stat_object(repo, "main", f"obj/{i:05d}"),
            "get_4kb": lambda i: self.objects.get_object(repo, "main", f"obj/{i:05d}"),
            "branch_create": lambda i: self.branches.create_branch(
                repo, lakefs_sdk.BranchCreation(name=f"b{i}", source="main")
            ),
        }
        for name, fn in figures.items():
            samples = timed(fn, n)
            target = "<= 30 ms p90" if name.startswith("branch") else "<= 25 ms p90"
            emit(name, "p50", percentile(samples, 0.5), "ms", target)
            emit(name, "p90", percentile(samples, 0.9), "ms", target)

        def commit_one(i: int) -> None:
            self.raw_put(repo, "main", f"change/{i}", f"change {i}".encode())
            start = time.perf_counter()
            self.commits.commit(repo, "main", lakefs_sdk.CommitCreation(message=f"c{i}"))
            commit_samples.append((time.perf_counter() - start) * 1000)

        commit_samples: list[float] = []
        for i in range(n):
            commit_one(i)
        emit("commit_one_change", "p50", percentile(commit_samples, 0.5), "ms", "<= 30 ms p90")
        emit("commit_one_change", "p90", percentile(commit_samples, 0.9), "ms", "<= 30 ms p90")

    # -- commit cost vs branch size --------------------------------------------------------

    def populate(self, repo: str, branch: str, count: int) -> float:
        start = time.perf_counter()

        def put(k: int) -> None:
            for i in range(k, min(k + 500, count)):
                self.raw_put(repo, branch, f"data/{i:07d}.txt", f"{i}".encode())

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(put, range(0, count, 500)))
        self.commits.commit(repo, branch, lakefs_sdk.CommitCreation(message=f"{count} objects"))
        return time.perf_counter() - start

    def commit_scaling(self, big: int, rounds: int) -> None:
        repo = self.repo("scaling")
        for name in ("small", "big"):
            self.branches.create_branch(repo, lakefs_sdk.BranchCreation(name=name, source="main"))
        self.populate(repo, "small", 100)
        seconds = self.populate(repo, "big", big)
        emit("populate_branch", f"uploads_per_s_{big}", big / seconds, "1/s", "informational")

        def commit_cost(branch: str) -> float:
            samples = []
            for i in range(rounds):
                self.raw_put(repo, branch, f"data/{i * 997 % big:07d}.txt", f"new {i}".encode())
                start = time.perf_counter()
                self.commits.commit(repo, branch, lakefs_sdk.CommitCreation(message=f"r{i}"))
                samples.append((time.perf_counter() - start) * 1000)
            return statistics.median(samples)

        small_ms = commit_cost("small")
        big_ms = commit_cost("big")
        emit("commit_one_change_100_objects", "median", small_ms, "ms", "informational")
        emit(
            f"commit_one_change_{big}_objects",
            "median",
            big_ms,
            "ms",
            "<= 2x the 100-object branch",
            baseline=small_ms,
        )

    # -- throughput ------------------------------------------------------------------------

    def throughput(self, size: int) -> None:
        repo = self.repo("throughput")
        source = self.work / "big.bin"
        with source.open("wb") as f:
            block = os.urandom(MiB)
            for _ in range(size // MiB):
                f.write(block)
        subprocess.run(["sync"], check=True)

        copy = self.work / "copy.bin"
        start = time.perf_counter()
        shutil.copyfile(source, copy)
        _fsync(copy)
        cp_seconds = time.perf_counter() - start
        copy.unlink()
        cp_rate = size / MiB / cp_seconds

        start = time.perf_counter()
        with source.open("rb") as body:
            response = self.http.urlopen(
                "POST",
                f"{self.objects_url(repo, 'main')}?path=big.bin",
                body=body,
                headers={
                    **self.http.headers,
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(size),
                },
                retries=False,
            )
        upload_seconds = time.perf_counter() - start
        if response.status != 201:
            raise RuntimeError(f"1 GiB upload failed: {response.status} {response.data!r}")
        emit("upload_large", "MiB_per_s", size / MiB / upload_seconds, "MiB/s",
             ">= 0.5x cp", baseline=cp_rate)  # fmt: skip

        target = self.work / "download.bin"
        start = time.perf_counter()
        response = self.http.request(
            "GET",
            f"{self.server.endpoint}/api/v1/repositories/{repo}/refs/main/objects?path=big.bin",
            preload_content=False,
        )
        with target.open("wb") as out:
            for chunk in response.stream(MiB):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        download_seconds = time.perf_counter() - start
        response.release_conn()
        if target.stat().st_size != size:
            raise RuntimeError("download size mismatch")
        target.unlink()
        emit("download_large", "MiB_per_s", size / MiB / download_seconds, "MiB/s",
             ">= 0.5x cp", baseline=cp_rate)  # fmt: skip
        source.unlink()


def download_seconds(bench: Bench, repo: str, path: str, size: int, rounds: int) -> float:
    """Best time to stream an object (bytes discarded: the server's cost, not the disk's)."""
    url = f"{bench.server.endpoint}/api/v1/repositories/{repo}/refs/main/objects?path={path}"
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        response = bench.http.request("GET", url, preload_content=False)
        received = sum(len(chunk) for chunk in response.stream(MiB))
        response.release_conn()
        best = min(best, time.perf_counter() - start)
        if response.status != 200 or received != size:
            raise RuntimeError(f"download failed: {response.status}, {received} bytes")
    return best


def verify_cost(work: Path, size: int, rounds: int = 3) -> None:
    """A download with every byte hashed against the blob's address, and one without."""
    source = work / "verify.bin"
    with source.open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
    seconds = {}
    for verified in (False, True):
        os.environ.pop(NO_VERIFY_ENV, None)
        if not verified:
            os.environ[NO_VERIFY_ENV] = "1"
        try:
            with LakeFSServerProcess(data_dir=work / f"data-verified-{verified}") as server:
                bench = Bench(server, work)
                repo = bench.repo("verify")
                with source.open("rb") as body:
                    bench.raw_put(repo, "main", "big.bin", body)
                seconds[verified] = download_seconds(bench, repo, "big.bin", size, rounds)
        finally:
            os.environ.pop(NO_VERIFY_ENV, None)
    source.unlink()
    label = f"{size // MiB}MiB"
    emit("download_verified", f"seconds_{label}", seconds[True], "s",
         None, baseline=seconds[False])  # fmt: skip


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="measure only the large upload and download (and cp, their baseline)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--verify-cost", action="store_true", help="only the cost of checking blobs on read"
    )
    args = parser.parse_args()
    n = 30 if args.quick else 200
    big = 5_000 if args.quick else 100_000
    size = (64 if args.quick else 1024) * MiB
    work = Path(tempfile.mkdtemp(prefix="lakefs-bench-"))
    if args.verify_cost:
        try:
            verify_cost(work, size)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        with LakeFSServerProcess(data_dir=work / "data") as server:
            bench = Bench(server, work)
            if not args.throughput_only:
                bench.latencies(n)
                bench.commit_scaling(big, rounds=10 if args.quick else 20)
            bench.throughput(size)
            emit("server", "peak_rss", peak_rss_mib(server.pid), "MiB", "<= 256 MiB")
        verify_cost(work, size)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
