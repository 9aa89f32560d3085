"""The incremental plan of a job: which datums to process, skip or delete.

A datum is skipped when the previous output commit's manifest holds it with the same
hash: its outputs are carried over. A datum is processed when it is new, its hash changed
(an input file, the salt, or any shared input such as a model in a cross changed), or the
reprocess mode forces it (everything, the datums that failed last time, or chosen ids).
Datums of the previous manifest that no longer exist are deleted with their outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Union

from airflow_pachyderm.datums._gc import paused_gc
from airflow_pachyderm.datums.errors import DatumError
from airflow_pachyderm.datums.manifest import Manifest, ManifestEntry, complete_entries
from airflow_pachyderm.datums.model import Datum, datum_hash

ReprocessMode = Union[Literal["changed", "all", "failed", "every_job"], Iterable[str]]  # noqa: UP007

Reason = Literal["new", "changed", "failed", "forced", "unchanged"]


class PlannedDatum(NamedTuple):
    """A datum of this job with its hash, its previous entry (if any) and why it is planned
    the way it is."""

    datum: Datum
    hash: str
    previous: ManifestEntry | None
    reason: Reason

    @property
    def id(self) -> str:
        return self.datum.id

    def entry(
        self, outputs: Iterable[str] | None = None, failed: bool | None = None
    ) -> ManifestEntry:
        """Manifest entry for the new commit.

        Without arguments (a skipped datum) the previous outputs and failure mark are
        carried over; the inputs are the current ones, whose content is the same.
        """
        previous = self.previous
        if outputs is None:
            outputs = previous.outputs if previous is not None else ()
        if failed is None:
            failed = previous.failed if previous is not None else False
        return ManifestEntry.from_datum(self.datum, self.hash, outputs, failed)


@dataclass
class JobPlan:
    """What a job does: datums to process and to skip (in job order), previous datums to
    delete, and the output paths to remove before new outputs are written (outputs of
    deleted datums and previous outputs of datums being reprocessed)."""

    to_process: list[PlannedDatum] = field(default_factory=list)
    to_skip: list[PlannedDatum] = field(default_factory=list)
    to_delete: list[ManifestEntry] = field(default_factory=list)
    stale_outputs: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "total": len(self.to_process) + len(self.to_skip),
            "process": len(self.to_process),
            "skip": len(self.to_skip),
            "delete": len(self.to_delete),
            "stale_outputs": len(self.stale_outputs),
        }

    def carried_entries(self) -> Iterator[ManifestEntry]:
        """Entries of skipped datums for the new manifest (current commits, old outputs)."""
        return (planned.entry() for planned in self.to_skip)

    def skeleton(self) -> list[ManifestEntry]:
        """Every datum of the job with its hash and inputs, for the new manifest: skipped
        datums carry their previous outputs, processed ones have none yet (see
        :func:`~airflow_pachyderm.datums.manifest.complete_entries`)."""
        with paused_gc():
            return [*self.carried_entries(), *(p.entry(outputs=()) for p in self.to_process)]

    def manifest_entries(
        self, outputs: Mapping[str, Iterable[str]], failed: Iterable[str] = ()
    ) -> list[ManifestEntry]:
        """Entries of the new output commit's manifest, in job order of processing.

        ``outputs`` maps each processed datum id to the paths it wrote; ``failed`` lists
        the processed datums that failed. Skipped datums are carried over.
        """
        failed_ids = set(failed)
        unknown = (set(outputs) | failed_ids) - {planned.id for planned in self.to_process}
        if unknown:
            raise DatumError(
                f"outputs or failures reported for {len(unknown)} datum(s) this job did not "
                f"process, first {sorted(unknown)[0]}"
            )
        with paused_gc():
            processed = [planned.entry(outputs=()) for planned in self.to_process]
            outcomes = {
                planned.id: (outputs.get(planned.id, ()), planned.id in failed_ids)
                for planned in self.to_process
            }
            return list(complete_entries([*processed, *self.carried_entries()], outcomes))


def _forced_ids(reprocess: ReprocessMode, previous: Manifest) -> tuple[bool, set[str]]:
    """``(process everything?, ids forced on top of changed ones)``."""
    if isinstance(reprocess, str):
        if reprocess == "changed":
            return False, set()
        if reprocess in ("all", "every_job"):
            return True, set()
        if reprocess == "failed":
            return False, previous.failed_ids()
        raise DatumError(
            f"reprocess mode {reprocess!r} is unknown: use 'changed', 'all', 'every_job', "
            f"'failed' or a set of datum ids"
        )
    forced = set(reprocess)
    bad = next((item for item in forced if not isinstance(item, str)), None)
    if bad is not None:
        raise DatumError(f"reprocess: datum ids must be strings, got {bad!r}")
    return False, forced


def plan_job(
    datums: Iterable[Datum],
    previous_manifest: Manifest | None,
    *,
    salt: str,
    reprocess: ReprocessMode = "changed",
) -> JobPlan:
    """Compare this job's datums with the previous output commit's manifest.

    ``reprocess``: ``"changed"`` (default) processes new and changed datums; ``"all"`` (or
    ``"every_job"``, Pachyderm's ``reprocessSpec``) processes everything; ``"failed"``
    adds the datums the previous manifest marks failed; a set of datum ids adds those.
    In ``"changed"`` mode an unchanged datum that failed stays skipped (and marked failed).
    """
    previous = previous_manifest if previous_manifest is not None else Manifest()
    process_all, forced = _forced_ids(reprocess, previous)
    with paused_gc():
        return _plan(datums, previous, salt, process_all, forced)


def _plan(
    datums: Iterable[Datum], previous: Manifest, salt: str, process_all: bool, forced: set[str]
) -> JobPlan:
    plan = JobPlan()
    seen: set[str] = set()
    for datum in datums:
        if datum.id in seen:
            raise DatumError(
                f"datum {datum.id} appears twice in this job (files "
                f"{[file.container_path for file in datum.files[:3]]}): two inputs produce "
                f"the same datum; give them distinct names"
            )
        seen.add(datum.id)
        new_hash = datum_hash(datum, salt)
        entry = previous.get(datum.id)
        if entry is None:
            plan.to_process.append(PlannedDatum(datum, new_hash, None, "new"))
            continue
        if entry.hash != new_hash:
            reason: Reason = "changed"
        elif process_all or datum.id in forced:
            reason = "failed" if entry.failed else "forced"
        else:
            plan.to_skip.append(PlannedDatum(datum, new_hash, entry, "unchanged"))
            continue
        plan.to_process.append(PlannedDatum(datum, new_hash, entry, reason))
        plan.stale_outputs.extend(entry.outputs)
    for datum_id, entry in previous.items():
        if datum_id not in seen:
            plan.to_delete.append(entry)
            plan.stale_outputs.extend(entry.outputs)
    plan.stale_outputs.sort()
    return plan
