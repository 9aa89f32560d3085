"""Incremental planning benchmark of the datum engine (pure planning, no lakeFS).

Run: ``python benchmarks/incremental.py``. Prints one JSON object per line and figure:
``{"benchmark", "metric", "value", "unit", "baseline", "ratio", "target"}``.

* ``incremental_10k``: ``/*`` over 10,000 files, a first plan gives the previous manifest,
  then one file's checksum changes: datums to process (must be 1), plan time, peak RSS.
* ``cross_model_change_10k``: 10,000 images crossed with a model; the model changes, so
  every datum must be reprocessed.
* ``plan_100k``: 100,000 input files, from the generated listing to the JobPlan, reading
  the previous manifest and writing the new one: time (target <= 5 s) and peak RSS
  (target <= 500 MiB).

Baseline for times: Pachyderm's published cost of about 1 ms per datum to skip, i.e.
``0.001 * N`` seconds; ``ratio = value / baseline`` (lower is better). Each scenario runs
in its own process so that its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import hashlib
import io
import json
import resource
import subprocess
import sys
import time
from typing import Any

from airflow_pachyderm.datums import (
    CrossInput,
    FileEntry,
    JobPlan,
    Manifest,
    PfsInput,
    iter_datums,
    plan_job,
    read_manifest,
    write_manifest,
)

PACHYDERM_SKIP_SECONDS_PER_DATUM = 0.001
SALT = "benchmark-salt"


def _emit(
    benchmark: str,
    metric: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    target: float | None = None,
) -> None:
    ratio = round(value / baseline, 4) if baseline else None
    print(
        json.dumps(
            {
                "benchmark": benchmark,
                "metric": metric,
                "value": round(value, 4),
                "unit": unit,
                "baseline": baseline,
                "ratio": ratio,
                "target": target,
            }
        ),
        flush=True,
    )


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
    tree = PfsInput(name="images", repo="images", branch="main", commit="c1", glob="/*")
    files = _listing(count)
    previous = _first_manifest(tree, lambda _leaf: files)
    changed = list(files)
    changed[count // 2] = FileEntry(changed[count // 2].path, "0" * 32, 1)
    tree2 = PfsInput(name="images", repo="images", branch="main", commit="c2", glob="/*")
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
                PfsInput(name="images", repo="images", branch="main", commit="c1", glob="/*"),
                PfsInput(name="model", repo="model", branch="main", commit=model_commit, glob="/"),
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
    tree = PfsInput(name="images", repo="images", branch="main", commit="c1", glob="/images/*")
    previous = _first_manifest(tree, lambda _leaf: files)
    # The new commit adds 1% of files and changes 1%: a typical incremental job.
    new_files = list(files) + _listing(count // 100, prefix="images/zz-")
    for index in range(0, count, 100):
        new_files[index] = FileEntry(new_files[index].path, "f" * 32, 1)
    tree2 = PfsInput(name="images", repo="images", branch="main", commit="c2", glob="/images/*")
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


SCENARIOS = {
    "incremental_10k": scenario_incremental_10k,
    "cross_model_change_10k": scenario_cross_model_change_10k,
    "plan_100k": scenario_plan_100k,
}


def main(argv: list[str]) -> int:
    if argv:
        for name in argv:
            SCENARIOS[name]()
        return 0
    for name in SCENARIOS:
        result = subprocess.run([sys.executable, __file__, name], check=False)
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
