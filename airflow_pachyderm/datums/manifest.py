"""The datum manifest stored in every output commit (``_pachyderm/manifest.jsonl.gz``).

It says, for each datum of the job that made the commit: its id, its hash, the input
files it read (input name, repo, commit, path), the output paths it wrote, and whether
it failed. The next job compares hashes with it to skip unchanged datums, and any output
file can be traced back to its datum and input commits through it.

Format: gzip JSON lines. Line 1 is ``{"format": "airflow-pachyderm.datum-manifest",
"version": 1}``; each further line is one datum::

    {"id": "<64 hex>", "hash": "<64 hex>", "failed": false,
     "inputs": [["images", "images", "<commit id>", "a.png"]], "outputs": ["a.json"]}

where each input is ``[input name, repo, commit, path]`` (arrays rather than objects keep
manifests of 100,000 datums quick to write and read).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, NamedTuple

from airflow_pachyderm.datums._gc import paused_gc
from airflow_pachyderm.datums.errors import ManifestError
from airflow_pachyderm.datums.jsonl import field, read_records, write_records
from airflow_pachyderm.datums.model import Datum
from airflow_pachyderm.reserved import MANIFEST_PATH as MANIFEST_PATH

MANIFEST_FORMAT = "airflow-pachyderm.datum-manifest"
MANIFEST_VERSION = 1


class ManifestInput(NamedTuple):
    """One input file a datum read, pinned to its commit."""

    input_name: str
    repo: str
    commit: str
    path: str


class ManifestEntry(NamedTuple):
    """What one datum read and wrote in the job that made the output commit."""

    datum_id: str
    hash: str
    inputs: tuple[ManifestInput, ...]
    outputs: tuple[str, ...] = ()
    failed: bool = False

    @classmethod
    def from_datum(
        cls, datum: Datum, hash: str, outputs: Iterable[str] = (), failed: bool = False
    ) -> ManifestEntry:
        # A DatumFile starts with input name, repo, commit and path.
        inputs = tuple([ManifestInput(*file[:4]) for file in datum.files])
        return cls(datum.id, hash, inputs, tuple(sorted(outputs)), failed)


def complete_entries(
    skeleton: Iterable[ManifestEntry], outcomes: Mapping[str, tuple[Iterable[str], bool]]
) -> Iterator[ManifestEntry]:
    """The entries of a job's manifest: its skeleton, with what processed datums did.

    :param skeleton: every datum of the job with its hash and inputs, as planned (a skipped
        datum carries its previous outputs).
    :param outcomes: processed datum id -> (output paths it wrote, whether it failed).
    """
    for entry in skeleton:
        outcome = outcomes.get(entry.datum_id)
        if outcome is None:
            yield entry
        else:
            outputs, failed = outcome
            yield entry._replace(outputs=tuple(sorted(outputs)), failed=failed)


class Manifest(Mapping[str, ManifestEntry]):
    """Datum id -> entry, plus an index from output path to the datum that wrote it."""

    def __init__(self, entries: Iterable[ManifestEntry] = (), source: str = "manifest") -> None:
        self._entries: dict[str, ManifestEntry] = {}
        for entry in entries:
            if entry.datum_id in self._entries:
                raise ManifestError(f"{source}: datum {entry.datum_id} is listed twice")
            self._entries[entry.datum_id] = entry
        self._by_output: dict[str, str] | None = None

    def __getitem__(self, datum_id: str) -> ManifestEntry:
        return self._entries[datum_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def output_index(self) -> dict[str, str]:
        """Output path -> datum id (built on first use)."""
        if self._by_output is None:
            index: dict[str, str] = {}
            for entry in self._entries.values():
                for path in entry.outputs:
                    other = index.setdefault(path, entry.datum_id)
                    if other != entry.datum_id:
                        raise ManifestError(
                            f"manifest: output {path!r} is claimed by datums {other} and "
                            f"{entry.datum_id}"
                        )
            self._by_output = index
        return self._by_output

    def datum_for_output(self, path: str) -> ManifestEntry:
        """The entry of the datum that wrote ``path``; ``KeyError`` names unknown paths."""
        datum_id = self.output_index().get(path.lstrip("/"))
        if datum_id is None:
            raise KeyError(f"no datum of this manifest wrote output {path!r}")
        return self._entries[datum_id]

    def failed_ids(self) -> set[str]:
        return {datum_id for datum_id, entry in self._entries.items() if entry.failed}


_HEX = frozenset("0123456789abcdef")
_FAILED, _RAW_HASH = 1, 2


def _pack_id(text: str) -> bytes:
    # Datum ids are sha256 hex digests: 32 raw bytes. Anything else is kept as text, marked
    # by a leading NUL so that it can never look like a raw digest.
    if len(text) == 64 and _HEX.issuperset(text):
        return bytes.fromhex(text)
    return b"\0" + text.encode()


def _unpack_id(key: bytes) -> str:
    return key.hex() if len(key) == 32 else key[1:].decode()


class PlanningManifest(Mapping[str, ManifestEntry]):
    """A previous manifest as planning needs it: per datum its hash, outputs and failure
    mark, packed into a few bytes (about 200 bytes a datum instead of about 1 KB).

    Entries come back without their ``inputs`` (planning never reads them): use
    :func:`read_manifest` where the inputs matter (lineage, the ``datums`` listing).
    """

    def __init__(self, entries: Iterable[ManifestEntry] = (), source: str = "manifest") -> None:
        self._rows: dict[bytes, bytes] = {}
        self.source = source
        for entry in entries:
            self.add(entry.datum_id, entry.hash, entry.outputs, entry.failed)

    def add(self, datum_id: str, hash: str, outputs: Iterable[str], failed: bool) -> None:
        """Add one datum. :raises ManifestError: the datum is there already."""
        key = _pack_id(datum_id)
        if key in self._rows:
            raise ManifestError(f"{self.source}: datum {datum_id} is listed twice")
        flags = _FAILED if failed else 0
        if len(hash) == 64 and _HEX.issuperset(hash):
            flags |= _RAW_HASH
            digest = bytes.fromhex(hash)
        else:
            digest = hash.encode()
        self._rows[key] = bytes((flags, len(digest))) + digest + "\0".join(outputs).encode()

    def __getitem__(self, datum_id: str) -> ManifestEntry:
        return self._entry(_pack_id(datum_id), self._rows[_pack_id(datum_id)])

    @staticmethod
    def _entry(key: bytes, row: bytes) -> ManifestEntry:
        flags, size = row[0], row[1]
        digest = row[2 : 2 + size]
        outputs = row[2 + size :]
        return ManifestEntry(
            _unpack_id(key),
            digest.hex() if flags & _RAW_HASH else digest.decode(),
            (),
            tuple(outputs.decode().split("\0")) if outputs else (),
            bool(flags & _FAILED),
        )

    def get(self, datum_id: str, default: Any = None) -> Any:
        key = _pack_id(datum_id)
        row = self._rows.get(key)
        return default if row is None else self._entry(key, row)

    def __contains__(self, datum_id: object) -> bool:
        return isinstance(datum_id, str) and _pack_id(datum_id) in self._rows

    def __iter__(self) -> Iterator[str]:
        return (_unpack_id(key) for key in self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> Iterator[tuple[str, ManifestEntry]]:  # type: ignore[override]
        for key, row in self._rows.items():
            yield _unpack_id(key), self._entry(key, row)

    def failed_ids(self) -> set[str]:
        return {_unpack_id(key) for key, row in self._rows.items() if row[0] & _FAILED}


def read_planning_manifest(fileobj: IO[bytes], source: str = "manifest") -> PlanningManifest:
    """Read a manifest into the compact form planning uses (see :class:`PlanningManifest`).

    Inputs are only checked to be a list: planning never reads them, and building them is
    most of the cost of reading a big manifest.

    :raises ManifestError: a malformed file or record (naming ``source`` and the line).
    """
    manifest = PlanningManifest(source=source)
    with paused_gc():
        for number, record in read_records(fileobj, MANIFEST_FORMAT, MANIFEST_VERSION, source):
            datum_id, hash, failed = record.get("id"), record.get("hash"), record.get("failed")
            outputs = record.get("outputs")
            if not (
                type(datum_id) is str
                and type(hash) is str
                and type(failed) is bool
                and type(record.get("inputs")) is list
                and type(outputs) is list
                and all(type(path) is str for path in outputs)
            ):
                entry = _checked_entry(record, number, source)
                datum_id, hash, outputs, failed = (
                    entry.datum_id, entry.hash, entry.outputs, entry.failed
                )
            manifest.add(datum_id, hash, outputs, failed)  # type: ignore[arg-type]
    return manifest


def _entry_record(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "id": entry.datum_id,
        "hash": entry.hash,
        "failed": entry.failed,
        # Tuples (ManifestInput included) are written as JSON arrays.
        "inputs": entry.inputs,
        "outputs": entry.outputs,
    }


def write_manifest(fileobj: IO[bytes], entries: Iterable[ManifestEntry]) -> int:
    """Stream ``entries`` to the binary ``fileobj``; return how many were written."""
    with paused_gc():
        return write_records(
            fileobj, MANIFEST_FORMAT, MANIFEST_VERSION, (_entry_record(entry) for entry in entries)
        )


def _well_formed(record: dict[str, Any]) -> bool:
    # Cheap check of the common case; the careful path below explains what is wrong.
    inputs, outputs = record.get("inputs"), record.get("outputs")
    return (
        type(record.get("id")) is str
        and type(record.get("hash")) is str
        and type(record.get("failed")) is bool
        and type(inputs) is list
        and type(outputs) is list
        and all(
            type(item) is list
            and len(item) == 4
            and all(type(value) is str for value in item)
            for item in inputs
        )
        and all(type(path) is str for path in outputs)
    )


def iter_manifest(fileobj: IO[bytes], source: str = "manifest") -> Iterator[ManifestEntry]:
    """Stream the entries of a manifest; errors name ``source`` and the line."""
    for number, record in read_records(fileobj, MANIFEST_FORMAT, MANIFEST_VERSION, source):
        if _well_formed(record):
            yield ManifestEntry(
                record["id"],
                record["hash"],
                tuple([ManifestInput(*item) for item in record["inputs"]]),
                tuple(record["outputs"]),
                record["failed"],
            )
            continue
        yield _checked_entry(record, number, source)


def _checked_entry(record: dict[str, Any], number: int, source: str) -> ManifestEntry:
    """The entry of a record that failed the quick check, or the error saying why."""
    inputs = []
    for item in field(record, "inputs", list, number, source):
        if not (
            isinstance(item, list)
            and len(item) == 4
            and all(isinstance(value, str) for value in item)
        ):
            raise ManifestError(
                f"{source}: line {number}: each input must be "
                f"[input name, repo, commit, path] (4 strings), got {item!r}"
            )
        inputs.append(ManifestInput(*item))
    outputs = field(record, "outputs", list, number, source)
    if not all(isinstance(path, str) for path in outputs):
        raise ManifestError(f"{source}: line {number}: outputs must be strings")
    return ManifestEntry(
        datum_id=field(record, "id", str, number, source),
        hash=field(record, "hash", str, number, source),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        failed=field(record, "failed", bool, number, source),
    )


def read_manifest(fileobj: IO[bytes], source: str = "manifest") -> Manifest:
    """Read a whole manifest written by :func:`write_manifest`."""
    with paused_gc():
        return Manifest(iter_manifest(fileobj, source), source)
