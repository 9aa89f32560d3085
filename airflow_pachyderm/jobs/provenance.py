"""Provenance recorded in lakeFS commit metadata (all values strings, as lakeFS requires).

Pipelines own every key under ``pachyderm.``; ``airflow.`` keys and the lakeFS UI button
(``::lakefs::Airflow::url[url:ui]``) link the commit back to the Airflow run that made it.
Secrets never reach this module: only names, ids and counts are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PREFIX = "pachyderm."
KEY_PIPELINE = "pachyderm.pipeline"
KEY_JOB = "pachyderm.job"
# One attempt at planning the job: a cleared and re-run DAG run keeps its job id but plans
# anew, and must not be mistaken for the attempt that already committed.
KEY_PLAN = "pachyderm.plan"
KEY_SPEC_HASH = "pachyderm.spec_hash"
KEY_IMAGE = "pachyderm.image"
KEY_IMAGE_ID = "pachyderm.image_id"
KEY_MANIFEST = "pachyderm.manifest"
KEY_OUTPUT_BRANCH = "pachyderm.output_branch"
KEY_BASE_COMMIT = "pachyderm.base_commit"
INPUT_PREFIX = "pachyderm.input."
DATUMS_PREFIX = "pachyderm.datums."
KEY_DAG_ID = "airflow.dag_id"
KEY_RUN_ID = "airflow.run_id"
KEY_AIRFLOW_URL = "::lakefs::Airflow::url[url:ui]"
DATUM_COUNTS = ("processed", "skipped", "failed", "recovered", "deleted")


@dataclass(frozen=True)
class InputCommit:
    """One input of a job, pinned: ``repo@commit`` read from ``branch``."""

    name: str
    repo: str
    commit: str
    branch: str = ""  # the branch followed, when the job read its head
    pinned_ref: str = ""  # the ref the run asked for instead (tag, commit, main~1)

    @property
    def ref(self) -> str:
        return f"{self.repo}@{self.commit}"


@dataclass(frozen=True)
class Provenance:
    """What produced an output commit."""

    pipeline: str
    job: str
    spec_hash: str
    image: str
    inputs: tuple[InputCommit, ...]
    image_id: str = ""
    datums: Mapping[str, int] = field(default_factory=dict)
    manifest_path: str = ""
    plan: str = ""
    output_branch: str = ""
    base_commit: str = ""
    dag_id: str = ""
    run_id: str = ""
    airflow_url: str = ""

    def input(self, name: str) -> InputCommit:
        for item in self.inputs:
            if item.name == name:
                return item
        raise KeyError(f"no input named {name!r} in the provenance of job {self.job}")

    def to_metadata(self) -> dict[str, str]:
        meta = {
            KEY_PIPELINE: self.pipeline,
            KEY_JOB: self.job,
            KEY_SPEC_HASH: self.spec_hash,
            KEY_IMAGE: self.image,
        }
        for item in self.inputs:
            meta[f"{INPUT_PREFIX}{item.name}"] = item.ref
            if item.branch:
                meta[f"{INPUT_PREFIX}{item.name}.branch"] = item.branch
            if item.pinned_ref:
                meta[f"{INPUT_PREFIX}{item.name}.ref"] = item.pinned_ref
        for name in DATUM_COUNTS:
            meta[f"{DATUMS_PREFIX}{name}"] = str(int(self.datums.get(name, 0)))
        optional = {
            KEY_IMAGE_ID: self.image_id,
            KEY_MANIFEST: self.manifest_path,
            KEY_PLAN: self.plan,
            KEY_OUTPUT_BRANCH: self.output_branch,
            KEY_BASE_COMMIT: self.base_commit,
            KEY_DAG_ID: self.dag_id,
            KEY_RUN_ID: self.run_id,
            KEY_AIRFLOW_URL: self.airflow_url,
        }
        meta.update({key: value for key, value in optional.items() if value})
        return meta

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str]) -> Provenance | None:
        """Parse commit metadata; None when the commit was not written by a pipeline."""
        if KEY_PIPELINE not in metadata or KEY_JOB not in metadata:
            return None
        inputs = []
        for key, value in sorted(metadata.items()):
            if not key.startswith(INPUT_PREFIX) or key.endswith((".branch", ".ref")):
                continue
            name = key[len(INPUT_PREFIX) :]
            repo, _, commit = value.partition("@")
            inputs.append(InputCommit(
                name=name, repo=repo, commit=commit,
                branch=metadata.get(f"{key}.branch", ""),
                pinned_ref=metadata.get(f"{key}.ref", ""),
            ))
        datums = {}
        for name in DATUM_COUNTS:
            raw = metadata.get(f"{DATUMS_PREFIX}{name}", "0")
            datums[name] = int(raw) if raw.isdigit() else 0
        return cls(
            pipeline=metadata[KEY_PIPELINE],
            job=metadata[KEY_JOB],
            spec_hash=metadata.get(KEY_SPEC_HASH, ""),
            image=metadata.get(KEY_IMAGE, ""),
            inputs=tuple(inputs),
            image_id=metadata.get(KEY_IMAGE_ID, ""),
            datums=datums,
            manifest_path=metadata.get(KEY_MANIFEST, ""),
            plan=metadata.get(KEY_PLAN, ""),
            output_branch=metadata.get(KEY_OUTPUT_BRANCH, ""),
            base_commit=metadata.get(KEY_BASE_COMMIT, ""),
            dag_id=metadata.get(KEY_DAG_ID, ""),
            run_id=metadata.get(KEY_RUN_ID, ""),
            airflow_url=metadata.get(KEY_AIRFLOW_URL, ""),
        )
