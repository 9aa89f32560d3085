"""Two datums must never write the same output path."""

from __future__ import annotations

import pytest

from airflow_pachyderm.datums import (
    DatumError,
    OutputCollisionError,
    check_output_collisions,
    normalize_output_path,
)


def test_distinct_outputs_give_the_index() -> None:
    assert check_output_collisions({"d1": ["a.json", "dir/b"], "d2": ["c"], "d3": []}) == {
        "a.json": "d1", "dir/b": "d1", "c": "d2",
    }


def test_collision_names_the_path_and_both_datums() -> None:
    with pytest.raises(OutputCollisionError) as info:
        check_output_collisions({"d1": ["x/out.csv"], "d2": ["other", "/x//./out.csv"]})
    error = info.value
    assert (error.path, error.first_datum, error.second_datum) == ("x/out.csv", "d1", "d2")
    assert "'x/out.csv' is written by two datums, d1 and d2" in str(error)


def test_same_datum_listing_a_path_twice_is_not_a_collision() -> None:
    assert check_output_collisions({"d1": ["a", "./a"]}) == {"a": "d1"}


def test_normalize() -> None:
    assert normalize_output_path("/a//b/./c") == "a/b/c"
    assert normalize_output_path("a/../b") == "b"
    with pytest.raises(DatumError, match="does not name a file"):
        normalize_output_path("/")
    with pytest.raises(DatumError, match="leaves the output directory"):
        normalize_output_path("a/../../etc/passwd")
    with pytest.raises(DatumError, match="leaves the output directory"):
        check_output_collisions({"d1": [".."]})
