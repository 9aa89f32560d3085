"""Predict species for one attributes file (one datum) with /pfs/model/model.pkl.

Pachyderm convention: the environment variable named after an input holds the path of
this datum's file in that input, e.g. attributes=/pfs/attributes/batch-01.csv.
"""

import csv
import os
import sys
from pathlib import Path

import joblib

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def main() -> int:
    source = Path(os.environ["attributes"])  # noqa: SIM112 (Pachyderm names it after the input)
    model = joblib.load(Path(os.environ.get("MODEL_DIR", "/pfs/model")) / "model.pkl")
    out = Path(os.environ.get("OUT_DIR", "/pfs/out"))
    files = [source] if source.is_file() else sorted(source.rglob("*.csv"))
    for path in files:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        missing = [name for name in FEATURES if rows and name not in rows[0]]
        if missing:
            print(f"{path}: missing columns {missing}", file=sys.stderr)
            return 1
        predictions = model.predict([[float(r[name]) for name in FEATURES] for r in rows])
        target = out / path.relative_to("/pfs/attributes")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([*FEATURES, "predicted_species"])
            for row, label in zip(rows, predictions, strict=True):
                writer.writerow([*(row[name] for name in FEATURES), label])
        print(f"{path.name}: {len(rows)} predictions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
