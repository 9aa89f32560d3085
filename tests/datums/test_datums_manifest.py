"""The datum manifest: round trip, output index, format errors."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from airflow_pachyderm.datums import (
    MANIFEST_PATH,
    Datum,
    DatumFile,
    Manifest,
    ManifestEntry,
    ManifestError,
    ManifestInput,
    iter_manifest,
    read_manifest,
    write_manifest,
)


def entry(number: int, outputs: tuple[str, ...] = (), failed: bool = False) -> ManifestEntry:
    return ManifestEntry(
        datum_id=f"{number:064x}",
        hash=f"{number + 1000:064x}",
        inputs=(
            ManifestInput("images", "images", "c" * 64, f"img/{number}.png"),
            ManifestInput("model", "models", "d" * 64, "model.pkl"),
        ),
        outputs=outputs,
        failed=failed,
    )


def roundtrip(entries: list[ManifestEntry]) -> tuple[bytes, Manifest]:
    buffer = io.BytesIO()
    assert write_manifest(buffer, entries) == len(entries)
    data = buffer.getvalue()
    return data, read_manifest(io.BytesIO(data))


def test_round_trip_keeps_every_field() -> None:
    entries = [entry(1, ("out/1.json",)), entry(2, ("out/2.json", "out/2.png"), failed=True),
               entry(3)]
    _, manifest = roundtrip(entries)
    assert list(manifest) == [e.datum_id for e in entries]
    assert [manifest[e.datum_id] for e in entries] == entries
    assert manifest.failed_ids() == {entries[1].datum_id}


def test_format_is_gzip_json_lines_with_a_header() -> None:
    data, _ = roundtrip([entry(7, ("o",))])
    lines = gzip.decompress(data).decode().splitlines()
    assert json.loads(lines[0]) == {"format": "airflow-pachyderm.datum-manifest", "version": 1}
    record = json.loads(lines[1])
    assert record["id"] == f"{7:064x}"
    assert record["inputs"][0] == ["images", "images", "c" * 64, "img/7.png"]
    assert record["outputs"] == ["o"]
    assert MANIFEST_PATH == "_pachyderm/manifest.jsonl.gz"


def test_same_entries_give_identical_bytes() -> None:
    assert roundtrip([entry(1), entry(2)])[0] == roundtrip([entry(1), entry(2)])[0]


def test_output_index_traces_an_output_to_its_datum_and_input_commits() -> None:
    _, manifest = roundtrip([entry(1, ("pred/1.json",)), entry(2, ("pred/2.json",))])
    assert manifest.output_index() == {"pred/1.json": f"{1:064x}", "pred/2.json": f"{2:064x}"}
    found = manifest.datum_for_output("/pred/2.json")
    assert found.datum_id == f"{2:064x}"
    assert {(i.input_name, i.commit) for i in found.inputs} == {
        ("images", "c" * 64), ("model", "d" * 64),
    }
    with pytest.raises(KeyError, match=r"pred/3\.json"):
        manifest.datum_for_output("pred/3.json")


def test_entry_from_datum_sorts_outputs_and_pins_commits() -> None:
    datum = Datum("i", (DatumFile("in", "repo", "abc", "x/y", "ck", 5, "x"),))
    made = ManifestEntry.from_datum(datum, "h", ["b", "a"])
    assert made == ManifestEntry("i", "h", (ManifestInput("in", "repo", "abc", "x/y"),),
                                 ("a", "b"), False)


def test_large_manifest_streams() -> None:
    entries = [entry(i, (f"o/{i}",)) for i in range(5000)]
    data, manifest = roundtrip(entries)
    assert len(manifest) == 5000
    assert sum(1 for _ in iter_manifest(io.BytesIO(data))) == 5000


def _gz(*lines: str) -> io.BytesIO:
    return io.BytesIO(gzip.compress(("\n".join(lines) + "\n").encode()))


HEADER = '{"format": "airflow-pachyderm.datum-manifest", "version": 1}'
GOOD = '{"id": "a", "hash": "h", "failed": false, "inputs": [["i","r","c","p"]], "outputs": []}'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (io.BytesIO(b"not gzip"), "manifest.jsonl.gz: not a readable gzip file"),
        (io.BytesIO(gzip.compress(b"")), "empty file"),
        (_gz('{"format": "other", "version": 1}'), "line 1: not a airflow-pachyderm"),
        (_gz('{"format": "airflow-pachyderm.datum-manifest", "version": 2}'),
         "version 2 is not supported"),
        (_gz(HEADER, "{oops"), "line 2: invalid JSON"),
        (_gz(HEADER, GOOD, "[1]"), "line 3: expected a JSON object"),
        (_gz(HEADER, GOOD.replace('"hash": "h", ', "")), "line 2: missing field 'hash'"),
        (_gz(HEADER, GOOD.replace('"failed": false', '"failed": "no"')),
         "line 2: field 'failed' must be bool"),
        (_gz(HEADER, GOOD.replace('["i","r","c","p"]', '["i","r"]')),
         r"line 2: each input must be \[input name, repo, commit, path\]"),
        (_gz(HEADER, GOOD.replace('"outputs": []', '"outputs": [3]')),
         "line 2: outputs must be strings"),
        (_gz(HEADER, GOOD, GOOD), "datum a is listed twice"),
    ],
)
def test_malformed_manifests_are_reported_with_file_and_line(
    data: io.BytesIO, message: str
) -> None:
    with pytest.raises(ManifestError, match=message):
        read_manifest(data, source="manifest.jsonl.gz")


def test_output_claimed_by_two_datums_is_reported() -> None:
    manifest = Manifest([entry(1, ("same",)), entry(2, ("same",))])
    with pytest.raises(ManifestError, match="'same' is claimed by datums"):
        manifest.output_index()
