"""plan_job: new, changed, unchanged, deleted datums and the reprocess modes."""

from __future__ import annotations

import io
import random

import pytest
from datums_testing import Repos, pfs

from airflow_pachyderm.datums import (
    CrossInput,
    Datum,
    DatumError,
    JobPlan,
    Manifest,
    ManifestEntry,
    ManifestError,
    iter_datums,
    plan_job,
    read_manifest,
    write_manifest,
)
from airflow_pachyderm.datums.manifest import PlanningManifest, read_planning_manifest
from airflow_pachyderm.datums.plan import stream_plan


def commit_manifest(plan: JobPlan, failed: set[str] = frozenset()) -> Manifest:
    """What the engine stores: processed datums with their outputs, plus carried ones;
    the manifest goes through its file format."""
    entries = [
        planned.entry(outputs=[f"out/{planned.datum.files[0].path}.json"],
                      failed=planned.datum.files[0].path in failed)
        for planned in plan.to_process
    ]
    entries += list(plan.carried_entries())
    buffer = io.BytesIO()
    write_manifest(buffer, entries)
    return read_manifest(io.BytesIO(buffer.getvalue()))


def datums(repos: Repos, commit: str) -> list[Datum]:
    return list(iter_datums(pfs("images", "/*", commit=commit), repos.lister))


def paths(planned: list) -> list[str]:
    return sorted(p.datum.files[0].path for p in planned)


@pytest.fixture
def history(repos: Repos) -> tuple[Repos, Manifest]:
    repos.put("images", "c1", {"a.png": "1", "b.png": "1", "c.png": "1"})
    first = plan_job(datums(repos, "c1"), None, salt="s")
    assert paths(first.to_process) == ["a.png", "b.png", "c.png"]
    assert {p.reason for p in first.to_process} == {"new"}
    assert first.to_skip == [] and first.to_delete == [] and first.stale_outputs == []
    return repos, commit_manifest(first, failed={"c.png"})


def test_new_changed_unchanged_deleted(history: tuple[Repos, Manifest]) -> None:
    repos, manifest = history
    repos.put("images", "c2", {"a.png": "2", "b.png": "1", "d.png": "1"})
    plan = plan_job(datums(repos, "c2"), manifest, salt="s")
    assert {(p.datum.files[0].path, p.reason) for p in plan.to_process} == {
        ("a.png", "changed"), ("d.png", "new"),
    }
    assert paths(plan.to_skip) == ["b.png"]
    assert [entry.inputs[0].path for entry in plan.to_delete] == ["c.png"]
    assert plan.stale_outputs == ["out/a.png.json", "out/c.png.json"]
    assert plan.counts == {"total": 3, "process": 2, "skip": 1, "delete": 1, "stale_outputs": 2}


def test_skipped_datum_carries_outputs_and_current_commit(
    history: tuple[Repos, Manifest],
) -> None:
    repos, manifest = history
    repos.put("images", "c2", {"a.png": "1", "b.png": "1", "c.png": "1"})
    plan = plan_job(datums(repos, "c2"), manifest, salt="s")
    carried = {e.inputs[0].path: e for e in plan.carried_entries()}
    assert carried["a.png"].outputs == ("out/a.png.json",)
    assert carried["a.png"].inputs[0].commit == "c2"
    assert carried["c.png"].failed  # still failed: 'changed' mode leaves it alone


def test_reprocess_all_and_every_job(history: tuple[Repos, Manifest]) -> None:
    repos, manifest = history
    for mode in ("all", "every_job"):
        plan = plan_job(datums(repos, "c1"), manifest, salt="s", reprocess=mode)
        assert paths(plan.to_process) == ["a.png", "b.png", "c.png"]
        assert plan.to_skip == []
        assert plan.stale_outputs == ["out/a.png.json", "out/b.png.json", "out/c.png.json"]


def test_reprocess_failed_adds_failed_datums_to_changed_ones(
    history: tuple[Repos, Manifest],
) -> None:
    repos, manifest = history
    repos.put("images", "c2", {"a.png": "2", "b.png": "1", "c.png": "1"})
    plan = plan_job(datums(repos, "c2"), manifest, salt="s", reprocess="failed")
    assert {(p.datum.files[0].path, p.reason) for p in plan.to_process} == {
        ("a.png", "changed"), ("c.png", "failed"),
    }
    assert paths(plan.to_skip) == ["b.png"]
    changed_only = plan_job(datums(repos, "c2"), manifest, salt="s")
    assert paths(changed_only.to_process) == ["a.png"]


def test_reprocess_explicit_ids(history: tuple[Repos, Manifest]) -> None:
    repos, manifest = history
    current = datums(repos, "c1")
    target = next(d for d in current if d.files[0].path == "b.png")
    plan = plan_job(current, manifest, salt="s", reprocess={target.id})
    assert [(p.id, p.reason) for p in plan.to_process] == [(target.id, "forced")]
    assert plan.stale_outputs == ["out/b.png.json"]


def test_salt_change_reprocesses_everything(history: tuple[Repos, Manifest]) -> None:
    repos, manifest = history
    plan = plan_job(datums(repos, "c1"), manifest, salt="new transform")
    assert {p.reason for p in plan.to_process} == {"changed"}
    assert len(plan.to_process) == 3


def test_unknown_mode_and_bad_ids_are_rejected(history: tuple[Repos, Manifest]) -> None:
    repos, manifest = history
    with pytest.raises(DatumError, match="reprocess mode 'sometimes' is unknown"):
        plan_job(datums(repos, "c1"), manifest, salt="s", reprocess="sometimes")
    with pytest.raises(DatumError, match="datum ids must be strings"):
        plan_job(datums(repos, "c1"), manifest, salt="s", reprocess=[1])  # type: ignore[list-item]


def test_duplicate_datum_is_an_error(repos: Repos) -> None:
    repos.put("images", "c1", {"a.png": "1"})
    same = datums(repos, "c1")
    with pytest.raises(DatumError, match=f"datum {same[0].id} appears twice"):
        plan_job(same + same, None, salt="s")


def test_shared_input_change_reprocesses_all(repos: Repos) -> None:
    repos.put("attributes", "c1", [f"row{i}.csv" for i in range(20)])
    repos.put("model", "m1", {"model.pkl": "v1"})
    repos.put("model", "m2", {"model.pkl": "v2"})

    def tree(commit: str) -> CrossInput:
        return CrossInput((pfs("attributes", "/*"), pfs("model", "/", commit=commit)))

    first = plan_job(iter_datums(tree("m1"), repos.lister), None, salt="s")
    manifest = commit_manifest(first)
    same_model = plan_job(iter_datums(tree("m1"), repos.lister), manifest, salt="s")
    assert same_model.counts["process"] == 0 and same_model.counts["skip"] == 20
    new_model = plan_job(iter_datums(tree("m2"), repos.lister), manifest, salt="s")
    assert new_model.counts["process"] == 20 and new_model.counts["skip"] == 0
    assert new_model.to_delete == []
    assert len(new_model.stale_outputs) == 20


def test_random_edit_sequences_process_exactly_what_changed() -> None:
    """Property: over random commits, processed = new or edited, deleted = removed."""
    from airflow_pachyderm.datums import FileEntry

    for seed in range(15):
        rng = random.Random(seed)
        files = {f"f{i:03d}": str(rng.random()) for i in range(rng.randint(0, 40))}
        manifest: Manifest | None = None
        for step in range(5):
            previous = dict(files)
            for path in list(files):
                roll = rng.random()
                if roll < 0.15:
                    files[path] = str(rng.random())
                elif roll < 0.25:
                    del files[path]
            for _ in range(rng.randint(0, 5)):
                files[f"f{rng.randint(0, 80):03d}"] = str(rng.random())
            listing = [FileEntry(p, c, 1) for p, c in sorted(files.items())]
            plan = plan_job(
                iter_datums(pfs("r", "/*", commit=f"c{step}"), lambda _l, lst=listing: lst),
                manifest, salt="s",
            )
            if manifest is None:
                expected_process = set(files)
                expected_delete: set[str] = set()
            else:
                expected_process = {p for p in files if previous.get(p) != files[p]}
                expected_delete = set(previous) - set(files)
            assert set(paths(plan.to_process)) == expected_process, seed
            assert {e.inputs[0].path for e in plan.to_delete} == expected_delete, seed
            assert set(paths(plan.to_skip)) == set(files) - expected_process, seed
            manifest = commit_manifest(plan)


def test_manifest_entries_for_the_new_commit(history: tuple[Repos, Manifest]) -> None:
    repos, manifest = history
    repos.put("images", "c2", {"a.png": "2", "b.png": "1", "c.png": "1", "d.png": "1"})
    plan = plan_job(datums(repos, "c2"), manifest, salt="s")
    processed = {p.datum.files[0].path: p.id for p in plan.to_process}
    assert set(processed) == {"a.png", "d.png"}
    entries = plan.manifest_entries(
        {processed["a.png"]: ["new/a.json", "new/a.png"]}, failed=[processed["d.png"]]
    )
    by_path = {entry.inputs[0].path: entry for entry in entries}
    assert by_path["a.png"].outputs == ("new/a.json", "new/a.png")
    assert not by_path["a.png"].failed
    assert by_path["d.png"].failed and by_path["d.png"].outputs == ()
    assert by_path["b.png"].outputs == ("out/b.png.json",)  # carried over
    assert {entry.inputs[0].commit for entry in entries} == {"c2"}
    with pytest.raises(DatumError, match="did not process"):
        plan.manifest_entries({"0" * 64: ["x"]})


@pytest.mark.parametrize("mode", ["changed", "failed", "all"])
def test_streamed_plan_on_a_planning_manifest_agrees_with_plan_job(
    history: tuple[Repos, Manifest], mode: str
) -> None:
    repos, manifest = history
    repos.put("images", "c2", {"a.png": "2", "b.png": "1", "c.png": "1", "d.png": "1"})
    full = plan_job(datums(repos, "c2"), manifest, salt="s", reprocess=mode)
    buffer = io.BytesIO()
    write_manifest(buffer, manifest.values())
    compact = read_planning_manifest(io.BytesIO(buffer.getvalue()))
    assert len(compact) == len(manifest) and set(compact) == set(manifest)
    assert compact.failed_ids() == manifest.failed_ids()
    for datum_id, entry in manifest.items():
        assert compact[datum_id] == entry._replace(inputs=())

    streamed = JobPlan()
    skipped = list(stream_plan(datums(repos, "c2"), compact, streamed, salt="s", reprocess=mode))
    assert [p.entry() for p in skipped] == list(full.carried_entries())
    assert streamed.to_skip == [] and streamed.counts == full.counts
    assert [(p.id, p.reason) for p in streamed.to_process] == [
        (p.id, p.reason) for p in full.to_process
    ]
    assert streamed.stale_outputs == full.stale_outputs
    assert [e.datum_id for e in streamed.to_delete] == [e.datum_id for e in full.to_delete]


def test_planning_manifest_keeps_odd_ids_and_hashes() -> None:
    entries = [
        ManifestEntry("not-a-digest", "short-hash", (), ("x",), True),
        ManifestEntry("ab" * 32, "cd" * 32, (), (), False),
    ]
    compact = PlanningManifest(entries)
    assert list(compact.items()) == [(e.datum_id, e) for e in entries]
    with pytest.raises(ManifestError, match="listed twice"):
        PlanningManifest([entries[1], entries[1]])


def test_planning_manifest_names_a_malformed_line() -> None:
    import gzip
    import json

    lines = [
        {"format": "airflow-pachyderm.datum-manifest", "version": 1},
        {"id": "ab" * 32, "hash": "cd" * 32, "failed": False, "inputs": [], "outputs": []},
        {"id": "ef" * 32, "hash": 7, "failed": False, "inputs": [], "outputs": []},
    ]
    data = gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())
    with pytest.raises(ManifestError, match=r"m\.gz: line 3: .*hash"):
        read_planning_manifest(io.BytesIO(data), source="m.gz")
