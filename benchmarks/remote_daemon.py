"""Remote-daemon overhead: a batch through archives (Docker API) against bind mounts.

The runner bind-mounts host directories on a local daemon and, on a daemon that cannot see
this host (``transfer="archive"``), uploads each datum's inputs and downloads its outputs
through the Docker API instead. Three runs of the same batches (``--datums`` datums of one
small file each, ``cp`` of the input to ``/pfs/out``, ``--batches`` batches):

  bind             the local daemon, bind mounts (the fast local path, the baseline)
  archive_local    the local daemon, archive transfer forced: the cost of the transfer alone
  archive_remote   a second dockerd on a loopback TCP port in its own mount namespace (it
                   cannot see this host's files; tests/remote_dockerd.py), archive transfer

Each prints, as JSON lines ``{"benchmark": "remote_daemon", "metric", "value", "unit",
"baseline", "ratio", "target"}``, the seconds per batch and per datum with ``baseline`` the
bind figure of the same run and ``ratio = value / baseline``. No target: the figure is
reported. Needs root (the second dockerd), Docker and airflow-pachyderm/python:latest.

    python benchmarks/remote_daemon.py [--datums 20] [--batches 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from datum_overhead import make_datums
from figures import emit

from airflow_pachyderm.runners.base import JobContext, TransformSpec
from airflow_pachyderm.runners.docker import DockerRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from remote_dockerd import remote_dockerd

IMAGE = "airflow-pachyderm/python:latest"
CMD = ["sh", "-c", 'cp "$in" /pfs/out/']


def _seconds_per_batch(runner: DockerRunner, root: Path, datums, batches: int) -> float:
    spec = TransformSpec(image=IMAGE, cmd=CMD)
    times = []
    for index in range(batches):
        job = JobContext("bench", "bench", workdir=root / f"work-{index}", log=lambda _l: None)
        started = time.perf_counter()
        results = runner.run_batch(spec, job, datums).datums
        times.append(time.perf_counter() - started)
        bad = [r for r in results if r.status != "success" or len(r.output_paths) != 1]
        if bad:
            raise SystemExit(f"{runner.transfer}: {len(bad)} datums failed: {bad[0].error}")
        shutil.rmtree(root / f"work-{index}")
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--datums", type=int, default=20, help="datums per batch (20)")
    parser.add_argument("--batches", type=int, default=3, help="batches per mode (3)")
    args = parser.parse_args(argv)
    if args.datums < 1 or args.batches < 1:
        parser.error("--datums and --batches must be at least 1")
    import docker

    root = Path(tempfile.mkdtemp(prefix="remote-daemon-bench-"))
    try:
        datums = make_datums(root, args.datums)
        local = docker.from_env().api
        bind = _seconds_per_batch(DockerRunner(api=local), root, datums, args.batches)
        forced = DockerRunner(api=local, transfer="archive")
        archive_local = _seconds_per_batch(forced, root, datums, args.batches)
        with remote_dockerd([IMAGE], hidden=root) as daemon:
            remote = docker.APIClient(base_url=daemon.url, timeout=120)
            archive_remote = _seconds_per_batch(
                DockerRunner(api=remote), root, datums, args.batches
            )
            remote.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    emit("remote_daemon", "bind_seconds_per_batch", bind, "s")
    emit("remote_daemon", "archive_local_seconds_per_batch", archive_local, "s", bind)
    emit("remote_daemon", "archive_remote_seconds_per_batch", archive_remote, "s", bind)
    per_datum, count = bind / args.datums, args.datums
    emit("remote_daemon", "bind_seconds_per_datum", per_datum, "s")
    emit("remote_daemon", "archive_local_seconds_per_datum", archive_local / count, "s", per_datum)
    emit("remote_daemon", "archive_remote_seconds_per_datum", archive_remote / count, "s",
         per_datum)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
