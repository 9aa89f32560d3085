"""The provider's own directory in every repository it writes: ``_pachyderm/``.

Defined once here, at the bottom of the package (no imports), because every layer needs it:
the datum engine writes the manifest there, the runner refuses user outputs there, the job
steps keep their state there and never read it back as a datum input, egress skips it.
"""

from __future__ import annotations

RESERVED_DIR = "_pachyderm"
# Paths under this prefix are the provider's bookkeeping: never datum inputs or outputs.
RESERVED_PREFIX = RESERVED_DIR + "/"
# The datum manifest of every output commit (see airflow_pachyderm.datums.manifest).
MANIFEST_PATH = RESERVED_PREFIX + "manifest.jsonl.gz"
# A job's working state, on its state branch (see airflow_pachyderm.jobs.state).
JOB_STATE_PREFIX = RESERVED_PREFIX + "job/"

__all__ = ["JOB_STATE_PREFIX", "MANIFEST_PATH", "RESERVED_DIR", "RESERVED_PREFIX"]
