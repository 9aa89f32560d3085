"""The datum engine: glob matching, cross/union/join/group, datum ids and hashes, the
per-commit datum manifest, incremental planning and batching.

Pure Python on purpose: no Airflow and no lakeFS here. The caller lists files (from
lakeFS) and stores the files this package writes (in lakeFS).
"""

from airflow_pachyderm.datums.batches import MAX_MAPPED_TASKS, Batch, make_batches
from airflow_pachyderm.datums.collisions import check_output_collisions, normalize_output_path
from airflow_pachyderm.datums.errors import (
    DatumError,
    GlobError,
    ManifestError,
    OutputCollisionError,
)
from airflow_pachyderm.datums.glob import CompiledGlob, compile_glob, normalize_glob
from airflow_pachyderm.datums.inputs import (
    CronLeaf,
    CrossInput,
    FileEntry,
    GroupInput,
    InputTree,
    JoinInput,
    LeafInput,
    Lister,
    PfsLeaf,
    UnionInput,
    leaf_inputs,
)
from airflow_pachyderm.datums.iterate import iter_datums
from airflow_pachyderm.datums.manifest import (
    MANIFEST_PATH,
    Manifest,
    ManifestEntry,
    ManifestInput,
    iter_manifest,
    read_manifest,
    write_manifest,
)
from airflow_pachyderm.datums.model import Datum, DatumFile, datum_hash, datum_id
from airflow_pachyderm.datums.plan import JobPlan, PlannedDatum, ReprocessMode, plan_job
from airflow_pachyderm.datums.serialize import deserialize_datums, read_batch, serialize_datums

__all__ = [
    "MANIFEST_PATH",
    "MAX_MAPPED_TASKS",
    "Batch",
    "CompiledGlob",
    "CronLeaf",
    "CrossInput",
    "Datum",
    "DatumError",
    "DatumFile",
    "FileEntry",
    "GlobError",
    "GroupInput",
    "InputTree",
    "JobPlan",
    "JoinInput",
    "LeafInput",
    "Lister",
    "Manifest",
    "ManifestEntry",
    "ManifestError",
    "ManifestInput",
    "OutputCollisionError",
    "PfsLeaf",
    "PlannedDatum",
    "ReprocessMode",
    "UnionInput",
    "check_output_collisions",
    "compile_glob",
    "datum_hash",
    "datum_id",
    "deserialize_datums",
    "iter_datums",
    "iter_manifest",
    "leaf_inputs",
    "make_batches",
    "normalize_glob",
    "normalize_output_path",
    "plan_job",
    "read_batch",
    "read_manifest",
    "serialize_datums",
    "write_manifest",
]
