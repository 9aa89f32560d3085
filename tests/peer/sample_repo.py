"""A stand-in for lakeFS's sample repository, generated here (no lakeFS asset is copied).

lakeFS fills a repository created with ``sample_data: true`` from assets built into its
binary: ``README.md``, ``data/lakes.source.md``, ``images/*.png`` and a ``lakes.parquet`` of
about 900 KiB. The embedded server has no such assets and refuses ``sample_data``; lakefs-spec's
tests create their repository with ``include_samples=True, exist_ok=True`` and read those
paths, so the peer run creates the repository first with generated files of the same shape.
"""

from __future__ import annotations

import io
import random

import lakefs

README = """# Sample repository (generated)

Stand-in for lakeFS's sample data, written by airflow-pachyderm's peer test run.
"""
SOURCE = """# Source of lakes.parquet

Generated rows (random names, countries, areas and depths): not real data.
"""


IMAGES = 29  # as many as lakeFS's sample has; lakefs-spec's walk test counts them


def lakes_parquet(rows: int = 40_000, seed: int = 14) -> bytes:
    """A Parquet table of made-up lakes, > 512 KiB as lakefs-spec's tests expect."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = ["".join(rng.choices(letters, k=12)).title() for _ in range(rows)]
    table = pa.table(
        {
            "Lake_name": names,
            "Country": [rng.choice(["Canada", "Finland", "Chile", "Kenya"]) for _ in range(rows)],
            "Lake_area": [rng.uniform(0.1, 5000.0) for _ in range(rows)],
            "Depth_avg": [rng.uniform(0.5, 400.0) for _ in range(rows)],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def png(width: int, height: int, shade: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 128, 255 - shade)).save(out, format="PNG")
    return out.getvalue()


def create(client: lakefs.Client, name: str, namespace: str) -> None:
    """Create repository ``name`` holding the stand-in sample, committed on ``main``."""
    repo = lakefs.Repository(name, client=client).create(storage_namespace=namespace)
    main = repo.branch("main")
    main.object("README.md").upload(data=README, content_type="text/markdown")
    main.object("data/lakes.source.md").upload(data=SOURCE, content_type="text/markdown")
    for i in range(IMAGES):
        main.object(f"images/sample-{i}.png").upload(
            data=png(64, 48, 8 * i), content_type="image/png"
        )
    main.object("lakes.parquet").upload(data=lakes_parquet())
    main.commit(message="Add sample data")
