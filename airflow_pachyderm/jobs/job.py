"""Identity of a job (one run of a pipeline) and the names of its two branches.

A job works on two branches of the output repository, both named after the job so that any
task of the job, on any worker, retried or not, finds them again:

- the staging branch receives the outputs and the manifest, and becomes the output commit;
- the state branch holds the plan, the datums of each batch and each batch's result, as
  uncommitted objects (see :mod:`airflow_pachyderm.jobs.state`); it is never committed,
  and is deleted when the job is merged.

Keeping the state apart means a crash at any point leaves it readable to the retry.
"""

from __future__ import annotations

import hashlib

# Re-exported: the job's state (plan record, batch refs, reserved paths) lived here before
# it got a module of its own.
from airflow_pachyderm.errors import JobStateMissingError as JobStateMissingError
from airflow_pachyderm.jobs.state import DATUMS_PATH as DATUMS_PATH
from airflow_pachyderm.jobs.state import PLAN_PATH as PLAN_PATH
from airflow_pachyderm.jobs.state import STATE_PREFIX as STATE_PREFIX
from airflow_pachyderm.jobs.state import BatchRef as BatchRef
from airflow_pachyderm.jobs.state import JobPlanRecord as JobPlanRecord
from airflow_pachyderm.jobs.state import batch_datums_path as batch_datums_path
from airflow_pachyderm.jobs.state import batch_result_path as batch_result_path
from airflow_pachyderm.jobs.state import load_plan as load_plan
from airflow_pachyderm.reserved import RESERVED_PREFIX as RESERVED_PREFIX

# Both of a job's branches start with this; the plan removes those of dead jobs.
JOB_BRANCH_PREFIX = "pachyderm-job-"


def job_id_for(dag_id: str, run_id: str) -> str:
    """Pachyderm-style 32-hex job id, stable for a DAG run (retries keep it)."""
    return hashlib.sha256(f"{dag_id}\n{run_id}".encode()).hexdigest()[:32]


def staging_branch_for(job_id: str) -> str:
    """The branch that receives the job's outputs and becomes its output commit."""
    return f"{JOB_BRANCH_PREFIX}{job_id}"


def state_branch_for(job_id: str) -> str:
    """The never-committed branch holding the job's state."""
    return f"{JOB_BRANCH_PREFIX}{job_id}-state"
