"""Run one job step in this process and SIGKILL it right after its N-th lakeFS call.

Used by the crash-recovery tests to stop a step at every point between two lakeFS calls,
as a power cut or ``kill -9`` would. Usage::

    python crash_after.py CONFIG.json

CONFIG holds: step ("process" or "commit"), n, endpoint, access_key_id, secret_access_key,
spec (dict), run_id, batch (for process), workdir, cache.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from airflow_pachyderm.jobs.commit import commit_job
from airflow_pachyderm.jobs.job import BatchRef, job_id_for
from airflow_pachyderm.jobs.process import process_batch
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.runners.cache import ContentCache
from airflow_pachyderm.runners.docker import DockerRunner
from airflow_pachyderm.spec.models import PipelineSpec


class DyingClient(LakeFSClient):
    def __init__(self, config: LakeFSConfig, die_after: int) -> None:
        super().__init__(config)
        self.calls = 0
        self.die_after = die_after

    def _call(self, where, fn, *, idempotent):
        result = super()._call(where, fn, idempotent=idempotent)
        self.calls += 1
        if self.calls >= self.die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result


def main() -> int:
    cfg = json.loads(Path(sys.argv[1]).read_text())
    client = DyingClient(
        LakeFSConfig(cfg["endpoint"], cfg["access_key_id"], cfg["secret_access_key"]), cfg["n"]
    )
    spec = PipelineSpec.from_dict(cfg["spec"])
    if cfg["step"] == "process":
        process_batch(client, spec, BatchRef.from_xcom(cfg["batch"]), DockerRunner(),
                      workdir=Path(cfg["workdir"]), cache=ContentCache(cfg["cache"]))
    else:
        job_id = job_id_for(spec.dag_id, cfg["run_id"])
        commit_job(client, spec.output_repo, job_id,
                   output_branch=spec.output_branch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
