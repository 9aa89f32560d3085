"""Train a species classifier on every CSV under /pfs/training; write /pfs/out/model.pkl.

Runs inside the pipeline container (python3 + scikit-learn from Debian). Deterministic:
the same training data and parameters give the same model.
"""

import csv
import json
import os
import sys
from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def read_rows(root: Path) -> list[dict]:
    rows = []
    for path in sorted(root.rglob("*.csv")):
        with path.open(newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def main() -> int:
    training = Path(os.environ.get("TRAINING_DIR", "/pfs/training"))
    out = Path(os.environ.get("OUT_DIR", "/pfs/out"))
    rows = read_rows(training)
    if len(rows) < 10:
        print(f"need at least 10 training rows under {training}, found {len(rows)}",
              file=sys.stderr)
        return 1
    x = [[float(row[name]) for name in FEATURES] for row in rows]
    y = [row["species"] for row in rows]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    model = LogisticRegression(C=float(os.environ.get("C", "1.0")), max_iter=1000)
    model.fit(x_train, y_train)
    accuracy = float(model.score(x_test, y_test))
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out / "model.pkl")
    metrics = {"rows": len(rows), "accuracy": round(accuracy, 4), "classes": sorted(set(y))}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"trained on {len(rows)} rows, holdout accuracy {accuracy:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
