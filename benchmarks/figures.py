"""One benchmark figure as one JSON line: the project's benchmark output format."""

from __future__ import annotations

import json


def emit(
    benchmark: str,
    metric: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    target: float | None = None,
) -> None:
    """Print ``{"benchmark", "metric", "value", "unit", "baseline", "ratio", "target"}`` with
    ``ratio = value / baseline`` (None without a baseline)."""
    print(json.dumps({
        "benchmark": benchmark, "metric": metric, "value": round(value, 4), "unit": unit,
        "baseline": None if baseline is None else round(baseline, 4),
        "ratio": round(value / baseline, 4) if baseline else None, "target": target,
    }), flush=True)  # fmt: skip
