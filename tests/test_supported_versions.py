"""The declared Airflow range is the tested range: the lock files CI installs span it exactly."""

from __future__ import annotations

import re
from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
# constraints.txt locks the newest supported minor; one lock per older tested minor.
LOCKS = [REPO / "constraints.txt", *sorted(REPO.glob("constraints-airflow-*.txt"))]


def _declared(name: str) -> Requirement:
    found = [Requirement(r) for r in requires("airflow-pachyderm") or []]
    matches = [r for r in found if r.name == name and r.marker is None]
    assert len(matches) == 1, found
    return matches[0]


def _locked(lock: Path, name: str) -> Version:
    pins = re.findall(rf"^{re.escape(name)}==(\S+)$", lock.read_text(), flags=re.MULTILINE)
    assert len(pins) == 1, f"{lock.name}: {name} pinned {pins}"
    return Version(pins[0])


def test_declared_airflow_range_spans_exactly_the_locked_versions() -> None:
    declared = _declared("apache-airflow").specifier
    locked = sorted(_locked(lock, "apache-airflow") for lock in LOCKS)
    assert [str(v) for v in locked if v not in declared] == []
    # One lock per minor, each in its own minor.
    assert len({(v.major, v.minor) for v in locked}) == len(locked)
    oldest, newest = locked[0], locked[-1]
    # Nothing older than the oldest tested release, nothing past the newest tested minor.
    assert Version(f"{oldest.major}.{oldest.minor}.{oldest.micro - 1}") not in declared
    assert f"{newest.major}.{newest.minor}.999" in declared
    assert f"{newest.major}.{newest.minor + 1}.0" not in declared
    assert "4.0.0" not in declared


def test_each_lock_keeps_fastapi_below_the_release_that_breaks_airflow_3_2() -> None:
    declared = _declared("fastapi").specifier
    assert "0.156.1" not in declared
    for lock in LOCKS:
        assert _locked(lock, "fastapi") in declared, lock.name
