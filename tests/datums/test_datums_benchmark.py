"""The incremental planning benchmark runs and meets its targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "incremental.py"


@pytest.mark.slow
def test_incremental_10k_processes_exactly_the_changed_datum() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "incremental_10k", "cross_model_change_10k"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    figures = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(
        set(figure) == {"benchmark", "metric", "value", "unit", "baseline", "ratio", "target"}
        for figure in figures
    )
    by_key = {(f["benchmark"], f["metric"]): f for f in figures}
    assert by_key[("incremental_10k", "datums_to_process")]["value"] == 1
    assert by_key[("incremental_10k", "datums_skipped")]["value"] == 9999
    assert by_key[("cross_model_change_10k", "datums_to_process")]["value"] == 10_000
    plan_time = by_key[("incremental_10k", "plan_time")]
    assert plan_time["baseline"] == 10.0
    assert plan_time["ratio"] == pytest.approx(plan_time["value"] / 10.0, abs=1e-3)
    assert plan_time["value"] < 10.0  # faster than Pachyderm's published 1 ms per datum
