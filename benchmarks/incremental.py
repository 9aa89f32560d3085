"""Incremental benchmark: the datum engine alone, then a real job through lakeFS.

Run: ``python benchmarks/incremental.py [--lakefs-files N] [SCENARIO ...]``. Prints one JSON
object per line and figure:
``{"benchmark", "metric", "value", "unit", "baseline", "ratio", "target"}``.

* ``incremental_10k``: ``/*`` over 10,000 files, a first plan gives the previous manifest,
  then one file's checksum changes: datums to process (must be 1), plan time, peak RSS.
* ``cross_model_change_10k``: 10,000 images crossed with a model; the model changes, so
  every datum must be reprocessed.
* ``plan_100k``: 100,000 input files, from the generated listing to the JobPlan, reading
  the previous manifest and writing the new one: time (target <= 5 s) and peak RSS
  (target <= 500 MiB).

* ``plan_lakefs_10k``, ``plan_lakefs_100k``, ``plan_lakefs_1m``: planning a job over 10,000,
  100,000 or 1,000,000 input files with one changed, through the embedded server: the
  listing, the previous output commit's manifest (a datum per file, one output each) and the
  job state all go through its API, with the real plan step (``plan_job_run``, which streams
  the datums and the skeleton manifest). Then the one changed datum runs (Docker) and the
  real commit step streams the new manifest. Figures: plan time (target <= 60 s at 1M),
  peak RSS of the planning process (target <= 1 GiB at 1M), commit time and peak RSS of the
  commit step; the three sizes side by side show the growth. Seeding a million objects
  through the upload API would take about an hour, so the input and output repos are
  written by a child process straight into the server's store, before the server starts,
  as its staging rows (the rows an upload writes), committed by the store's own commit
  code; every object points to one real blob, so the store is consistent.

* ``incremental_lakefs``: the same change through the real job code (plan, process with
  the Docker runner and datum batching, commit) against the embedded lakeFS-compatible
  server: an input repo of N small files (``--lakefs-files``, default 10,000), a first job
  that processes every datum, then one changed file and a second job: datums processed
  (from the output commit's provenance, must be 1), plan time, whole-job time, and peak
  RSS of the server process and of this benchmark process. Needs Docker and the image
  ``airflow-pachyderm/python:latest`` (``docker/build-images.sh``).

Baseline for times: Pachyderm's published cost of about 1 ms per datum to skip, i.e.
``0.001 * N`` seconds; ``ratio = value / baseline`` (lower is better). Each scenario runs
in its own process so that its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from figures import emit

from airflow_pachyderm.datums import (
    CrossInput,
    FileEntry,
    JobPlan,
    Manifest,
    PfsLeaf,
    iter_datums,
    plan_job,
    read_manifest,
    write_manifest,
)

PACHYDERM_SKIP_SECONDS_PER_DATUM = 0.001
SALT = "benchmark-salt"


_emit = emit


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _listing(count: int, prefix: str = "") -> list[FileEntry]:
    return [
        FileEntry(
            f"{prefix}img-{index:07d}.png",
            hashlib.md5(b"%d" % index).hexdigest(),
            1000 + index % 5000,
        )
        for index in range(count)
    ]


def _outputs_of(plan: JobPlan) -> dict[str, list[str]]:
    # Every processed datum writes one output named after its first input file.
    return {planned.id: [planned.datum.files[0].path + ".json"] for planned in plan.to_process}


def _manifest_bytes(entries: Any) -> bytes:
    buffer = io.BytesIO()
    write_manifest(buffer, entries)
    return buffer.getvalue()


def _first_manifest(tree: Any, lister: Any) -> bytes:
    plan = plan_job(iter_datums(tree, lister), None, salt=SALT)
    return _manifest_bytes(plan.manifest_entries(_outputs_of(plan)))


def scenario_incremental_10k() -> None:
    count = 10_000
    tree = PfsLeaf(name="images", repo="images", branch="main", commit="c1", glob="/*")
    files = _listing(count)
    previous = _first_manifest(tree, lambda _leaf: files)
    changed = list(files)
    changed[count // 2] = FileEntry(changed[count // 2].path, "0" * 32, 1)
    tree2 = PfsLeaf(name="images", repo="images", branch="main", commit="c2", glob="/*")
    started = time.perf_counter()
    manifest = read_manifest(io.BytesIO(previous))
    plan = plan_job(iter_datums(tree2, lambda _leaf: changed), manifest, salt=SALT)
    elapsed = time.perf_counter() - started
    name = "incremental_10k"
    _emit(name, "datums_to_process", len(plan.to_process), "datums", baseline=1, target=1)
    _emit(name, "datums_skipped", len(plan.to_skip), "datums", baseline=count - 1, target=count - 1)
    _emit(name, "plan_time", elapsed, "s", baseline=PACHYDERM_SKIP_SECONDS_PER_DATUM * count)
    _emit(name, "peak_rss", _peak_rss_mib(), "MiB")


def scenario_cross_model_change_10k() -> None:
    count = 10_000
    images = _listing(count)
    model_v1 = [FileEntry("model.pkl", "a" * 32, 10_000)]
    model_v2 = [FileEntry("model.pkl", "b" * 32, 10_000)]

    def tree(model_commit: str) -> CrossInput:
        return CrossInput(
            (
                PfsLeaf(name="images", repo="images", branch="main", commit="c1", glob="/*"),
                PfsLeaf(name="model", repo="model", branch="main", commit=model_commit, glob="/"),
            )
        )

    def lister(model: list[FileEntry]) -> Any:
        return lambda leaf: images if leaf.repo == "images" else model

    previous = _first_manifest(tree("m1"), lister(model_v1))
    started = time.perf_counter()
    manifest = read_manifest(io.BytesIO(previous))
    plan = plan_job(iter_datums(tree("m2"), lister(model_v2)), manifest, salt=SALT)
    elapsed = time.perf_counter() - started
    name = "cross_model_change_10k"
    _emit(name, "datums_to_process", len(plan.to_process), "datums", baseline=count, target=count)
    _emit(name, "plan_time", elapsed, "s", baseline=PACHYDERM_SKIP_SECONDS_PER_DATUM * count)
    _emit(name, "peak_rss", _peak_rss_mib(), "MiB")


def scenario_plan_100k() -> None:
    count = 100_000
    files = _listing(count, prefix="images/")
    tree = PfsLeaf(name="images", repo="images", branch="main", commit="c1", glob="/images/*")
    previous = _first_manifest(tree, lambda _leaf: files)
    # The new commit adds 1% of files and changes 1%: a typical incremental job.
    new_files = list(files) + _listing(count // 100, prefix="images/zz-")
    for index in range(0, count, 100):
        new_files[index] = FileEntry(new_files[index].path, "f" * 32, 1)
    tree2 = PfsLeaf(name="images", repo="images", branch="main", commit="c2", glob="/images/*")
    started, cpu_started = time.perf_counter(), time.process_time()
    manifest: Manifest = read_manifest(io.BytesIO(previous))
    plan = plan_job(iter_datums(tree2, lambda _leaf: new_files), manifest, salt=SALT)
    written = _manifest_bytes(plan.manifest_entries(_outputs_of(plan)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    name = "plan_100k"
    _emit(name, "input_files", len(new_files), "files")
    _emit(
        name,
        "datums_to_process",
        len(plan.to_process),
        "datums",
        baseline=2 * (count // 100),
        target=2 * (count // 100),
    )
    _emit(
        name,
        "plan_time",
        elapsed,
        "s",
        baseline=PACHYDERM_SKIP_SECONDS_PER_DATUM * count,
        target=5.0,
    )
    # CPU time of this process alone: the wall time above grows when other work shares the
    # cores.
    _emit(
        name,
        "plan_cpu_time",
        cpu,
        "s",
        baseline=PACHYDERM_SKIP_SECONDS_PER_DATUM * count,
        target=5.0,
    )
    _emit(name, "manifest_size", len(written) / 1024 / 1024, "MiB")
    _emit(name, "peak_rss", _peak_rss_mib(), "MiB", target=500.0)


IMAGE = "airflow-pachyderm/python:latest"
UPLOAD_THREADS = 8
# The transform, in datum-batching mode: one process walks every datum of the batch and
# writes, per input file, ``<name>.sha256`` holding the digest of its content.
SHA256_TRANSFORM = (
    "import hashlib, json, os\n"
    "for line in open(os.environ['PACH_DATUMS_FILE']):\n"
    "    d = json.loads(line)\n"
    "    root = d['inputs']['data']\n"
    "    for name in os.listdir(root):\n"
    "        with open(os.path.join(root, name), 'rb') as fh:\n"
    "            digest = hashlib.sha256(fh.read()).hexdigest()\n"
    "        with open(os.path.join(d['out'], name + '.sha256'), 'w') as fh:\n"
    "            fh.write(digest + '\\n')\n"
)


def _vm_hwm_mib(pid: int | str) -> float:
    """Peak resident set size of a process since its start or its last reset."""
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")


def _reset_peak_rss(pid: int | str) -> bool:
    """Restart the VmHWM count of a process we own (Linux >= 4.0); False where refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _input_file(index: int, version: int = 1) -> tuple[str, bytes]:
    return f"f-{index:07d}.txt", f"record {index} version {version}\n".encode()


def _require_docker_image() -> None:
    import docker

    try:
        docker.from_env().images.get(IMAGE)
    except docker.errors.ImageNotFound:
        raise SystemExit(
            f"incremental_lakefs: Docker image {IMAGE} is missing; build it with "
            "docker/build-images.sh"
        ) from None
    except docker.errors.DockerException as exc:
        raise SystemExit(f"incremental_lakefs: Docker is not reachable: {exc}") from None


def scenario_incremental_lakefs(count: int) -> None:
    # Imported here, not at the top: the engine scenarios' peak RSS must not include them.
    from airflow_pachyderm.jobs.commit import JobCommit, commit_job
    from airflow_pachyderm.jobs.job import job_id_for
    from airflow_pachyderm.jobs.plan import JobRequest, plan_job_run
    from airflow_pachyderm.jobs.process import process_batch
    from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
    from airflow_pachyderm.runners.cache import ContentCache
    from airflow_pachyderm.runners.docker import DockerRunner
    from airflow_pachyderm.server.process import LakeFSServerProcess
    from airflow_pachyderm.spec.models import PipelineSpec

    _require_docker_image()
    name = "incremental_lakefs"
    baseline = PACHYDERM_SKIP_SECONDS_PER_DATUM * count
    input_repo = "bench-input"
    spec = PipelineSpec.from_dict(
        {
            "pipeline": {"name": "bench-sha256"},
            "input": {"pfs": {"repo": input_repo, "name": "data", "glob": "/*"}},
            "transform": {"image": IMAGE, "cmd": ["python3", "-c", SHA256_TRANSFORM]},
            "datumBatching": True,
            "parallelismSpec": {"constant": 1},
            # One batch, so the first job starts a single container for every datum.
            "datumSetSpec": {"number": count},
        }
    )
    root = Path(tempfile.mkdtemp(prefix="incremental-lakefs-"))
    cache = ContentCache(root / "cache")

    def run_job(client: LakeFSClient, run_id: str) -> tuple[float, float, JobCommit]:
        """Plan, process and commit one job; return plan time, job time and the commit."""
        started = time.perf_counter()
        request = JobRequest(dag_id=spec.dag_id, run_id=run_id, input_refs={})
        _, batches = plan_job_run(client, spec, request)
        planned = time.perf_counter()
        for batch in batches:
            process_batch(
                client, spec, batch, DockerRunner(),
                workdir=root / "work" / run_id / f"b{batch.index}", cache=cache,
            )  # fmt: skip
        result = commit_job(
            client, spec.output_repo, job_id_for(spec.dag_id, run_id), output_branch="main"
        )
        finished = time.perf_counter()
        return planned - started, finished - started, result

    try:
        with LakeFSServerProcess(data_dir=root / "lakefs") as server:
            assert server.pid is not None
            client = LakeFSClient(
                LakeFSConfig(server.endpoint, server.access_key_id, server.secret_access_key)
            )
            # First call in this thread: it builds the client's lazily created API object,
            # which the upload threads then share.
            client.create_repository(input_repo)

            def upload(index: int) -> None:
                client.upload(input_repo, "main", *_input_file(index))

            started = time.perf_counter()
            with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
                list(pool.map(upload, range(count)))
            client.commit(input_repo, "main", f"{count} files")
            upload_time = time.perf_counter() - started

            first_plan, first_job, first = run_job(client, "bench-first")

            changed = count // 2
            changed_path, changed_data = _input_file(changed, version=2)
            client.upload(input_repo, "main", changed_path, changed_data)
            client.commit(input_repo, "main", f"change {changed_path}")

            server_peak_before = _vm_hwm_mib(server.pid)
            # Read before the reset below, which may also lower what ru_maxrss reports.
            bench_peak_before = _peak_rss_mib()
            # Peaks of the second job alone, when the kernel lets us restart the count.
            second_only = _reset_peak_rss(server.pid) and _reset_peak_rss("self")
            plan_time, job_time, second = run_job(client, "bench-second")
            server_peak_second = _vm_hwm_mib(server.pid)
            bench_peak_second = _vm_hwm_mib("self")

            output = client.read_bytes(spec.output_repo, "main", changed_path + ".sha256")
            outputs = sum(
                1
                for obj in client.list_objects(spec.output_repo, "main")
                if obj.path.endswith(".sha256")
            )
            client.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    _emit(name, "input_files", count, "files")
    _emit(name, "input_upload_rate", count / upload_time, "files/s")
    _emit(
        name, "first_job_datums_processed", first.provenance.datums["processed"], "datums",
        baseline=count, target=count,
    )  # fmt: skip
    _emit(name, "first_job_plan_time", first_plan, "s", baseline=baseline)
    _emit(name, "first_job_time", first_job, "s")
    _emit(name, "datums_processed", second.provenance.datums["processed"], "datums",
          baseline=1, target=1)  # fmt: skip
    _emit(name, "datums_skipped", second.provenance.datums["skipped"], "datums",
          baseline=count - 1, target=count - 1)  # fmt: skip
    _emit(name, "plan_time", plan_time, "s", baseline=baseline)
    # The same figure against this run's own plan of the all-new first job.
    _emit(name, "plan_time_vs_first_job_plan", plan_time, "s", baseline=round(first_plan, 4))
    _emit(name, "job_time", job_time, "s", baseline=baseline)
    _emit(name, "server_peak_rss_through_first_job", server_peak_before, "MiB")
    _emit(name, "benchmark_process_peak_rss_through_first_job", bench_peak_before, "MiB")
    if second_only:
        # Peaks from the start of the second job: never below the RSS held at that point.
        _emit(name, "server_peak_rss_second_job", server_peak_second, "MiB")
        _emit(name, "benchmark_process_peak_rss_second_job", bench_peak_second, "MiB")

    expected = hashlib.sha256(changed_data).hexdigest()
    if output.decode().strip() != expected:
        raise SystemExit(
            f"{name}: output {changed_path}.sha256 holds {output!r}, expected the digest of "
            "the changed file"
        )
    if outputs != count:
        raise SystemExit(f"{name}: output repo holds {outputs} outputs, expected {count}")


LAKEFS_PLAN_SPEC = {
    "pipeline": {"name": "bench-plan"},
    "input": {"pfs": {"repo": "bench-input", "name": "data", "glob": "/*"}},
    "transform": {"image": IMAGE, "cmd": ["python3", "-c", SHA256_TRANSFORM]},
    "datumBatching": True,
}


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _seed_store(data_dir: Path, count: int) -> None:
    """Write the input repo (``count`` files) and the output of a previous job over it (one
    output per datum and its manifest) straight into a stopped server's store."""
    from airflow_pachyderm.datums import iter_datums as datums_of
    from airflow_pachyderm.datums.manifest import MANIFEST_PATH, ManifestEntry
    from airflow_pachyderm.datums.model import datum_hash
    from airflow_pachyderm.jobs.convert import datum_salt, input_tree
    from airflow_pachyderm.server.store import Store
    from airflow_pachyderm.spec.models import PipelineSpec

    spec = PipelineSpec.from_dict(LAKEFS_PLAN_SPEC)
    store = Store(data_dir)
    record = store.blobs.put(b"record\n")
    output = store.blobs.put(b"0" * 64 + b"\n")

    def stage(repo: str, rows: Any) -> None:
        with store.db.write(durable=False) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO staging VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def rows(repo: str, blob: Any, paths: Any) -> Any:
        now = int(time.time())
        for path in paths:
            yield (repo, "main", path, blob.address, blob.checksum, blob.size, now,
                   "application/octet-stream", "{}")  # fmt: skip

    names = [_input_file(index)[0] for index in range(count)]
    store.create_repository("bench-input", "local://bench-input", "main")
    stage("bench-input", rows("bench-input", record, names))
    input_commit = store.commit("bench-input", "main", f"{count} files", {})["id"]

    store.create_repository(spec.output_repo, f"local://{spec.output_repo}", "main")
    stage(spec.output_repo, rows(spec.output_repo, output, [n + ".sha256" for n in names]))
    # The previous job's manifest: what its commit step would have written.
    listing = [FileEntry(name, record.checksum, record.size) for name in names]
    salt = datum_salt(spec, "")
    entries = (
        ManifestEntry.from_datum(d, datum_hash(d, salt), [d.files[0].path + ".sha256"])
        for d in datums_of(input_tree(spec, {"data": input_commit}), lambda _leaf: listing)
    )
    buffer = io.BytesIO()
    write_manifest(buffer, entries)
    manifest = store.blobs.put(buffer.getvalue())
    stage(spec.output_repo, rows(spec.output_repo, manifest, [MANIFEST_PATH]))
    store.commit(spec.output_repo, "main", "a previous job's output", {})


def scenario_plan_lakefs(count: int) -> None:
    import multiprocessing

    from airflow_pachyderm.jobs.commit import commit_job
    from airflow_pachyderm.jobs.job import job_id_for
    from airflow_pachyderm.jobs.plan import JobRequest, plan_job_run
    from airflow_pachyderm.jobs.process import process_batch
    from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
    from airflow_pachyderm.runners.cache import ContentCache
    from airflow_pachyderm.runners.docker import DockerRunner
    from airflow_pachyderm.server.process import LakeFSServerProcess
    from airflow_pachyderm.spec.models import PipelineSpec

    _require_docker_image()
    name = f"plan_lakefs_{count // 1000}k" if count < 1_000_000 else "plan_lakefs_1m"
    spec = PipelineSpec.from_dict(LAKEFS_PLAN_SPEC)
    root = Path(tempfile.mkdtemp(prefix="plan-lakefs-"))
    try:
        started = time.perf_counter()
        # A child process: its memory is not this process's peak RSS.
        child = multiprocessing.get_context("fork").Process(
            target=_seed_store, args=(root / "lakefs", count)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"{name}: seeding the store failed ({child.exitcode})")
        seed_time = time.perf_counter() - started
        with LakeFSServerProcess(data_dir=root / "lakefs") as server:
            assert server.pid is not None
            client = LakeFSClient(
                LakeFSConfig(server.endpoint, server.access_key_id, server.secret_access_key)
            )
            changed_path, changed_data = _input_file(count // 2, version=2)
            client.upload("bench-input", "main", changed_path, changed_data)
            client.commit("bench-input", "main", f"change {changed_path}")

            _reset_peak_rss(server.pid)
            server_cpu = _cpu_seconds(server.pid)
            rss_before = _vm_hwm_mib("self")
            started, cpu_started = time.perf_counter(), time.process_time()
            request = JobRequest(dag_id=spec.dag_id, run_id="bench", input_commits={})
            record, batches = plan_job_run(client, spec, request, log_line=lambda _line: None)
            plan_time = time.perf_counter() - started
            plan_cpu = time.process_time() - cpu_started
            plan_peak = _vm_hwm_mib("self")
            server_plan_peak = _vm_hwm_mib(server.pid)
            server_cpu = _cpu_seconds(server.pid) - server_cpu

            cache = ContentCache(root / "cache")
            for batch in batches:
                process_batch(client, spec, batch, DockerRunner(),
                              workdir=root / "work" / f"b{batch.index}", cache=cache)  # fmt: skip
            commit_reset = _reset_peak_rss("self")
            started = time.perf_counter()
            result = commit_job(client, spec.output_repo, job_id_for(spec.dag_id, "bench"),
                                output_branch="main")  # fmt: skip
            commit_time = time.perf_counter() - started
            commit_peak = _vm_hwm_mib("self")
            output = client.read_bytes(spec.output_repo, "main", changed_path + ".sha256")
            client.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    expected = hashlib.sha256(changed_data).hexdigest()
    if output.decode().strip() != expected or record.counts["processed"] != 1:
        raise SystemExit(f"{name}: the changed datum was not (only) reprocessed: {record.counts}")
    _emit(name, "input_files", count, "files")
    _emit(name, "seed_time", seed_time, "s")
    _emit(name, "datums_to_process", record.counts["processed"], "datums", baseline=1, target=1)
    _emit(name, "datums_skipped", record.counts["skipped"], "datums",
          baseline=count - 1, target=count - 1)  # fmt: skip
    _emit(name, "plan_time", plan_time, "s", baseline=PACHYDERM_SKIP_SECONDS_PER_DATUM * count,
          target=60.0 if count == 1_000_000 else None)  # fmt: skip
    # CPU seconds, this process and the server's: the wall time grows when the machine is busy.
    _emit(name, "plan_cpu_time", plan_cpu, "s")
    _emit(name, "server_cpu_time_during_plan", server_cpu, "s")
    _emit(name, "plan_peak_rss", plan_peak, "MiB",
          target=1024.0 if count == 1_000_000 else None)  # fmt: skip
    _emit(name, "rss_before_plan", rss_before, "MiB")
    _emit(name, "server_peak_rss_during_plan", server_plan_peak, "MiB")
    _emit(name, "commit_time", commit_time, "s")
    if commit_reset:
        _emit(name, "commit_peak_rss", commit_peak, "MiB")
    _emit(name, "datums_processed_by_job", result.provenance.datums["processed"], "datums",
          baseline=1, target=1)  # fmt: skip


ENGINE_SCENARIOS = {
    "incremental_10k": scenario_incremental_10k,
    "cross_model_change_10k": scenario_cross_model_change_10k,
    "plan_100k": scenario_plan_100k,
}
LAKEFS_SCENARIO = "incremental_lakefs"
PLAN_SCENARIOS = {"plan_lakefs_10k": 10_000, "plan_lakefs_100k": 100_000,
                  "plan_lakefs_1m": 1_000_000}  # fmt: skip
SCENARIO_NAMES = [*ENGINE_SCENARIOS, LAKEFS_SCENARIO, *PLAN_SCENARIOS]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO",
        help=f"run only these, in this process ({', '.join(SCENARIO_NAMES)}); "
        "default: every scenario, each in its own process",
    )  # fmt: skip
    parser.add_argument(
        "--lakefs-files", type=int, default=10_000, metavar="N",
        help="input files (and datums) of the incremental_lakefs scenario (default 10000)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.lakefs_files < 1:
        parser.error(f"--lakefs-files must be at least 1, got {args.lakefs_files}")
    # Checked here, not with argparse choices: those reject an empty list before 3.12.
    unknown = [name for name in args.scenarios if name not in SCENARIO_NAMES]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIO_NAMES)}")
    if args.scenarios:
        for name in args.scenarios:
            if name == LAKEFS_SCENARIO:
                scenario_incremental_lakefs(args.lakefs_files)
            elif name in PLAN_SCENARIOS:
                scenario_plan_lakefs(PLAN_SCENARIOS[name])
            else:
                ENGINE_SCENARIOS[name]()
        return 0
    for name in SCENARIO_NAMES:
        command = [sys.executable, __file__, name, "--lakefs-files", str(args.lakefs_files)]
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
