"""The ``reprocess`` and ``datums`` params, and the ``input_<name>`` params, as the plan
reads them."""

from __future__ import annotations

import pytest

from airflow_pachyderm.jobs.plan import JobInputError, parse_reprocess
from airflow_pachyderm.operators.plan import input_refs

ID = "0f3a9c2e41b7" + "a" * 52


@pytest.mark.parametrize("mode", ["changed", "all", "failed"])
def test_modes(mode: str) -> None:
    assert parse_reprocess(mode, "") == mode
    assert parse_reprocess(mode, None) == mode


def test_default_is_changed() -> None:
    assert parse_reprocess(None) == "changed"
    assert parse_reprocess("", "") == "changed"


def test_datums_mode_takes_ids_and_prefixes() -> None:
    assert parse_reprocess("datums", f"{ID}, 9B1D0000") == {ID, "9b1d0000"}


def test_command_line_ids_stand_for_datums_mode() -> None:
    assert parse_reprocess(f"{ID[:12]},9b1d0000") == {ID[:12], "9b1d0000"}


@pytest.mark.parametrize(
    ("mode", "datums", "message"),
    [
        ("sometimes", "", "'sometimes' is none of changed, all, failed, datums"),
        ("datums", "", "datums is empty"),
        ("changed", ID[:12], "datums is set but reprocess is 'changed'"),
        ("datums", "0f3", "'0f3' is not a datum id or id prefix"),
        (42, "", "expected one of changed, all, failed, datums, got 42"),
    ],
)
def test_refused_with_one_clear_line(mode: object, datums: str, message: str) -> None:
    with pytest.raises(JobInputError) as error:
        parse_reprocess(mode, datums)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_input_refs_from_params() -> None:
    params = {"input_model": " main~1 ", "input_code": "", "input_data": None,
              "output_branch": "main", "reprocess": "changed"}
    assert input_refs(params) == {"model": "main~1"}
