"""Benchmark of ``airflow-pachyderm put`` and ``get`` through the installed script.

* ``put`` of many small files (default 10,000) with ``-r``, in files/s, against uploading
  the same files one by one with the ``lakefs`` wrapper (``branch.object(p).upload(data)``
  in a loop, then one commit). Target: ratio >= 5.
* ``get`` of one 1 GiB file, in MiB/s, against ``cp`` of the same bytes from a local file
  to another local file. Target: ratio >= 0.5.

Run: ``python benchmarks/cli_transfer.py [--files N] [--gib X]``. Prints one JSON object per
line: ``{"benchmark", "metric", "value", "unit", "baseline", "ratio", "target"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lakefs

from airflow_pachyderm.lakefs.client import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

MiB = 1024 * 1024


def emit(metric: str, value: float, unit: str, baseline: float, target: str) -> None:
    print(json.dumps({
        "benchmark": "cli_transfer", "metric": metric, "value": round(value, 3), "unit": unit,
        "baseline": round(baseline, 3), "ratio": round(value / baseline, 3), "target": target,
    }), flush=True)


def script() -> list[str]:
    found = shutil.which("airflow-pachyderm", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "airflow_pachyderm"]


def make_files(root: Path, count: int) -> int:
    total = 0
    for i in range(count):
        path = root / f"part-{i // 1000:02d}" / f"record-{i:05d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"id": i, "value": "x" * (100 + i % 400)}).encode()
        path.write_bytes(data)
        total += len(data)
    return total


def bench_put(server: LakeFSServerProcess, work: Path, count: int) -> None:
    src = work / "small"
    make_files(src, count)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    client = lakefs.Client(host=server.endpoint, username=server.access_key_id,
                           password=server.secret_access_key)
    repo = lakefs.Repository("bench-wrapper", client=client).create(
        storage_namespace="local://bench-wrapper")
    branch = repo.branch("main")
    start = time.perf_counter()
    for path in files:
        branch.object(path.relative_to(src).as_posix()).upload(path.read_bytes())
    branch.commit(message="one by one")
    wrapper_rate = count / (time.perf_counter() - start)

    env = {**os.environ, **server.env()}
    subprocess.run([*script(), "repo", "create", "bench-put"], env=env, check=True,
                   capture_output=True)
    start = time.perf_counter()
    subprocess.run([*script(), "put", "-r", str(src), "bench-put@main:"], env=env,
                   check=True, capture_output=True)
    put_rate = count / (time.perf_counter() - start)
    emit(f"put_{count}_small_files", put_rate, "files/s", wrapper_rate, ">= 5x lakefs wrapper loop")


def bench_get(server: LakeFSServerProcess, work: Path, gib: float) -> None:
    size = int(gib * 1024 * MiB)
    big = work / "big.bin"
    with big.open("wb") as fh:
        block = os.urandom(4 * MiB)
        for _ in range(size // len(block)):
            fh.write(block)
    config = LakeFSConfig(server.endpoint, server.access_key_id, server.secret_access_key)
    client = LakeFSClient(config)
    client.create_repository("bench-get")
    client.upload("bench-get", "main", "big.bin", big)
    client.commit("bench-get", "main", "big file")
    client.close()

    env = {**os.environ, **server.env()}
    copies = []
    gets = []
    for attempt in range(3):  # best of three: the machine is shared
        target = work / f"cp-{attempt}.bin"
        start = time.perf_counter()
        subprocess.run(["cp", str(big), str(target)], check=True)
        copies.append(time.perf_counter() - start)
        target.unlink()
        out = work / f"get-{attempt}.bin"
        start = time.perf_counter()
        subprocess.run([*script(), "get", "bench-get@main:big.bin", "-o", str(out)], env=env,
                       check=True, capture_output=True)
        gets.append(time.perf_counter() - start)
        assert out.stat().st_size == size
        out.unlink()
    emit(f"get_{gib:g}_gib_file", size / MiB / min(gets), "MiB/s", size / MiB / min(copies),
         ">= 0.5x cp")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--only", choices=("put", "get"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cli-transfer-"))
    try:
        with LakeFSServerProcess(data_dir=work / "lakefs") as server:
            if args.only in (None, "put"):
                bench_put(server, work, args.files)
            if args.only in (None, "get"):
                bench_get(server, work, args.gib)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
