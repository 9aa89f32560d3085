"""Every file of ``invalid/`` states its exact errors in ``# expect:`` header lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_pachyderm.spec import SpecErrors, load_specs
from airflow_pachyderm.spec.checking import check_paths

INVALID = Path(__file__).parent / "invalid"


CORPUS = sorted(INVALID.glob("*.yaml"))


def expected_errors(path: Path) -> list[str]:
    prefix = "# expect: "
    return [
        line[len(prefix) :] for line in path.read_text().splitlines() if line.startswith(prefix)
    ]


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40
    assert all(expected_errors(path) for path in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_invalid_spec_reports_exact_errors(path: Path) -> None:
    _specs, errors = check_paths(path)
    assert all(error.file == str(path) for error in errors)
    shown = [str(error)[len(str(path)) + 1 :] for error in errors]
    assert shown == expected_errors(path)


def test_load_specs_raises_every_error_of_every_file() -> None:
    files = [INVALID / "empty_cmd.yaml", INVALID / "unknown_nested_key.yaml"]
    with pytest.raises(SpecErrors) as raised:
        load_specs(files)
    expected = [f"{file}:{line}" for file in files for line in expected_errors(file)]
    assert str(raised.value).splitlines() == expected
    assert len(raised.value.errors) == 3
