"""Example datum-batching transform: one process handles every datum of its batch.

With ``datumBatching: true`` the runner starts this script once per batch instead of once
per datum, so expensive setup (loading a model, opening a connection) is paid once. The
runner describes the batch in the file named by ``$PACH_DATUMS_FILE``, one JSON object per
line:

    {"datum_id": "...", "index": 0,
     "inputs": {"words": "/pfs/.batch/in/000000/words"},   # per input, this datum's /pfs/<name>
     "env": {"PACH_DATUM_ID": "...", "words": "/pfs/.batch/in/000000/words/a.txt", ...},
     "out": "/pfs/.batch/out/000000"}                       # this datum's /pfs/out

For each text file of the inputs named in ``$TEXT_INPUTS`` (default ``texts``) it writes
``<path>.json`` to the datum's out directory, with line and word counts and the words that
appear in ``$STOPWORDS`` (the "model" loaded once per batch). Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def load_stopwords() -> set[str]:
    # Stands in for the expensive part of a real transform, done once per batch.
    return set(os.environ.get("STOPWORDS", "the a an and or of").split())


def process_datum(datum: dict, stopwords: set[str], input_names: list[str]) -> int:
    out = Path(datum["out"])
    written = 0
    for name in input_names:
        if name not in datum["inputs"]:
            continue
        root = Path(datum["inputs"][name])
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            words = path.read_text(encoding="utf-8", errors="replace").split()
            stats = {
                "datum_id": datum["datum_id"],
                "lines": len(path.read_bytes().splitlines()),
                "words": len(words),
                "stopwords": sorted({w.lower() for w in words} & stopwords),
            }
            target = out / (str(path.relative_to(root)) + ".json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(stats, sort_keys=True) + "\n", encoding="utf-8")
            written += 1
    return written


def main() -> int:
    datums_file = os.environ.get("PACH_DATUMS_FILE")
    if not datums_file:
        print("PACH_DATUMS_FILE is not set: run this with datumBatching: true", file=sys.stderr)
        return 2
    stopwords = load_stopwords()
    input_names = os.environ.get("TEXT_INPUTS", "texts").split()
    with open(datums_file, encoding="utf-8") as fh:
        for line in fh:
            datum = json.loads(line)
            count = process_datum(datum, stopwords, input_names)
            print(f"datum {datum['datum_id'][:12]}: {count} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
