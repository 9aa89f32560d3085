"""The ml demo's input data, committed to lakeFS as a user would ingest it.

Repos: ``training`` (the labelled iris CSV), ``attributes`` (one small unlabelled CSV per
species, four rows each) and ``code`` (the demo's train.py and infer.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from dag_files import ML_DEMO

from airflow_pachyderm.lakefs import LakeFSClient

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
ROWS_PER_ATTRIBUTES_FILE = 4


@dataclass(frozen=True)
class DemoData:
    """Commit ids of the ingested inputs, and what the attributes files hold."""

    commits: dict[str, str]
    # path in the attributes repo -> its rows (feature name -> value as written)
    attributes: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # path in the attributes repo -> the species its rows come from
    species_of: dict[str, str] = field(default_factory=dict)


def ingest_demo(client: LakeFSClient) -> DemoData:
    iris = (ML_DEMO / "data" / "iris.csv").read_bytes()
    labelled = list(csv.DictReader(io.StringIO(iris.decode())))
    commits: dict[str, str] = {}

    client.create_repository("training")
    client.upload("training", "main", "iris.csv", iris)
    commits["training"] = client.commit("training", "main", "iris data set").id

    client.create_repository("attributes")
    attributes: dict[str, list[dict[str, str]]] = {}
    species_of: dict[str, str] = {}
    for species in dict.fromkeys(row["species"] for row in labelled):
        rows = [
            {name: row[name] for name in FEATURES} for row in labelled if row["species"] == species
        ][:ROWS_PER_ATTRIBUTES_FILE]
        path = f"{species}-sample.csv"
        client.upload("attributes", "main", path, to_csv(rows))
        attributes[path] = rows
        species_of[path] = species
    commits["attributes"] = client.commit("attributes", "main", "samples to classify").id

    client.create_repository("code")
    for script in ("train.py", "infer.py"):
        client.upload("code", "main", script, (ML_DEMO / "code" / script).read_bytes())
    commits["code"] = client.commit("code", "main", "training and inference code").id
    return DemoData(commits=commits, attributes=attributes, species_of=species_of)


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FEATURES, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()
