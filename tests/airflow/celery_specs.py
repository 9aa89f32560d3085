"""Sleep-bound pipelines for the Celery tests and the scale-out benchmark.

:func:`sleep_pipeline` sleeps a fixed time per datum, then copies the datum's file to the
output: batches long enough to lose a worker mid-way (``naps``, with one retry per task, so
a batch whose worker died runs again on another), or sleep-bound work that two workers can
overlap even on two cores (benchmarks/scale_out.py).
"""

from __future__ import annotations

NAPS_DAG_ID = "naps"
NAPS_INPUT = f"{NAPS_DAG_ID}-input"
NAP_SECONDS = 8
NAPS_FILES = 4


def sleep_pipeline(
    name: str, seconds: float, batches: int, batch_size: int, retries: int = 0
) -> str:
    """The YAML of pipeline ``name``: input repo ``<name>-input``, glob ``/*``, ``seconds`` of
    sleep per datum, at most ``batches`` running at once, ``batch_size`` datums each."""
    return f"""\
pipeline:
  name: {name}
description: Sleep {seconds} s on each datum, then copy it.
input:
  pfs:
    name: data
    repo: {name}-input
    glob: "/*"
transform:
  image: airflow-pachyderm/python:latest
  cmd:
    - python3
    - -c
    - |
      import os, shutil, time
      time.sleep(float(os.environ["SLEEP"]))
      for name in os.listdir("/pfs/data"):
          shutil.copyfile(f"/pfs/data/{{name}}", f"/pfs/out/{{name}}")
  env:
    SLEEP: "{seconds}"
parallelismSpec:
  constant: {batches}
datumSetSpec:
  number: {batch_size}
airflow:
  retries: {retries}
"""


CELERY_SPECS = sleep_pipeline(
    NAPS_DAG_ID, NAP_SECONDS, batches=2, batch_size=NAPS_FILES // 2, retries=1
)
