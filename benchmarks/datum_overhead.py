"""Datum overhead: what it costs to run a tiny transform once per datum.

Four ways to copy N tiny input files (one per datum) to the output, each as JSON lines on
stdout, ``{"benchmark": "datum_overhead", "metric", "value", "unit", "baseline", "ratio",
"target"}``, where ``value`` is wall-clock seconds per datum, ``baseline`` the naive figure and
``ratio`` = naive / value (the speed-up over one container per datum):

  naive        one ``docker run`` per datum (timed on a sample, see --naive-sample)
  per_datum    this runner, one process per datum in one container (the supervisor)
  per_datum_exec  the same with ``docker exec`` per datum (images without python3; sampled)
  batching     this runner with datum batching: one process walks all datums
  limit        one container copying all N files at once: the physical floor

Targets: per_datum at least 3x faster than naive; batching at least 8x faster than naive and
within 3x of the limit. Needs Docker and airflow-pachyderm/python:latest.

    python benchmarks/datum_overhead.py [--n 1000] [--naive-sample 100] [--exec-sample 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from airflow_pachyderm.runners.base import DatumWork, InputFile, JobContext, TransformSpec
from airflow_pachyderm.runners.cache import ContentCache, link_or_copy
from airflow_pachyderm.runners.docker import DockerRunner, default_user

IMAGE = "airflow-pachyderm/python:latest"
COPY_CMD = ["cp", "-r", "/pfs/in/.", "/pfs/out/"]
BATCH_COPY = (
    "import json, os, shutil\n"
    "for line in open(os.environ['PACH_DATUMS_FILE']):\n"
    "    d = json.loads(line)\n"
    "    src = d['inputs']['in']\n"
    "    for name in os.listdir(src):\n"
    "        shutil.copyfile(os.path.join(src, name), os.path.join(d['out'], name))\n"
)


def make_datums(root: Path, n: int) -> list[DatumWork]:
    cache = ContentCache(root / "cache")
    datums = []
    for i in range(n):
        data = f"datum {i}\n".encode()
        local = cache.ensure(f"bench-{i}", lambda s, data=data: s.write(data))
        datums.append(DatumWork(f"{i:08d}", [InputFile("in", f"f{i:05d}.txt", local)]))
    return datums


def check_outputs(results, n: int, mode: str) -> None:
    bad = [r for r in results if r.status != "success" or len(r.output_paths) != 1]
    if len(results) != n or bad:
        raise SystemExit(f"{mode}: {len(bad)} of {len(results)} datums failed: {bad[:1]}")


def time_naive(datums: list[DatumWork], root: Path) -> float:
    import docker

    client = docker.from_env()
    started = time.perf_counter()
    for datum in datums:
        tmp = Path(tempfile.mkdtemp(dir=root))
        (tmp / "in").mkdir()
        (tmp / "out").mkdir()
        os.chmod(tmp / "out", 0o777)
        for f in datum.files:
            link_or_copy(f.local_path, tmp / "in" / f.path)
        client.containers.run(
            IMAGE,
            COPY_CMD,
            volumes={
                str(tmp / "in"): {"bind": "/pfs/in", "mode": "ro"},
                str(tmp / "out"): {"bind": "/pfs/out", "mode": "rw"},
            },
            network_mode="none",
            user=default_user(),
            remove=True,
        )
        if len(os.listdir(tmp / "out")) != 1:
            raise SystemExit("naive: output missing")
        shutil.rmtree(tmp)
    return (time.perf_counter() - started) / len(datums)


def time_runner(datums, root: Path, **kwargs) -> float:
    supervisor = kwargs.pop("use_supervisor", True)
    spec = TransformSpec(image=IMAGE, **kwargs)
    job = JobContext("bench", "bench", workdir=root / "work", log=lambda line: None)
    started = time.perf_counter()
    results = DockerRunner(use_supervisor=supervisor).run_batch(spec, job, datums).datums
    elapsed = time.perf_counter() - started
    check_outputs(results, len(datums), str(kwargs))
    shutil.rmtree(root / "work")
    return elapsed / len(datums)


def time_limit(datums, root: Path) -> float:
    import docker

    client = docker.from_env()
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=root))
    (tmp / "in").mkdir()
    (tmp / "out").mkdir()
    os.chmod(tmp / "out", 0o777)
    for datum in datums:
        for f in datum.files:
            link_or_copy(f.local_path, tmp / "in" / f.path)
    client.containers.run(
        IMAGE,
        COPY_CMD,
        volumes={
            str(tmp / "in"): {"bind": "/pfs/in", "mode": "ro"},
            str(tmp / "out"): {"bind": "/pfs/out", "mode": "rw"},
        },
        network_mode="none",
        user=default_user(),
        remove=True,
    )
    elapsed = time.perf_counter() - started
    if len(os.listdir(tmp / "out")) != len(datums):
        raise SystemExit("limit: outputs missing")
    shutil.rmtree(tmp)
    return elapsed / len(datums)


def emit(metric: str, value: float, naive: float, target: str, unit: str = "s/datum") -> None:
    line = {
        "benchmark": "datum_overhead",
        "metric": metric,
        "value": round(value, 5),
        "unit": unit,
        "baseline": round(naive, 5),
        "ratio": round(naive / value, 2) if value else None,
        "target": target,
    }
    print(json.dumps(line), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="number of datums (default 1000)")
    parser.add_argument(
        "--naive-sample", type=int, default=100, help="datums timed for the naive baseline"
    )
    parser.add_argument(
        "--exec-sample", type=int, default=200, help="datums timed in docker-exec mode"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.naive_sample < 1 or args.exec_sample < 1:
        parser.error("--n, --naive-sample and --exec-sample must be positive")

    root = Path(tempfile.mkdtemp(prefix="datum-overhead-"))
    try:
        datums = make_datums(root, args.n)
        naive_n = min(args.naive_sample, args.n)
        exec_n = min(args.exec_sample, args.n)
        naive = time_naive(datums[:naive_n], root)
        per_datum = time_runner(datums, root, cmd=COPY_CMD)
        per_exec = time_runner(datums[:exec_n], root, cmd=COPY_CMD, use_supervisor=False)
        batching = time_runner(datums, root, cmd=["python3", "-c", BATCH_COPY], datum_batching=True)
        limit = time_limit(datums, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    sampled = "" if naive_n == args.n else f", sampled {naive_n} of {args.n}"
    emit(f"naive_docker_run_per_datum{sampled}", naive, naive, "baseline")
    emit(f"runner_process_per_datum (n={args.n})", per_datum, naive, "ratio >= 3")
    exec_note = "" if exec_n == args.n else f", sampled {exec_n} of {args.n}"
    emit(f"runner_exec_per_datum{exec_note}", per_exec, naive, "informative")
    emit(f"runner_datum_batching (n={args.n})", batching, naive, "ratio >= 8")
    emit(f"limit_one_container (n={args.n})", limit, naive, "floor")
    print(
        json.dumps(
            {
                "benchmark": "datum_overhead",
                "metric": "datum_batching_vs_limit",
                "value": round(batching / limit, 2),
                "unit": "x (batching time / limit time)",
                "baseline": round(limit, 5),
                "ratio": round(batching / limit, 2),
                "target": "value <= 3",
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
