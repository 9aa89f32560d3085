"""Datum ids given in full or as unique prefixes (like git commit ids)."""

from __future__ import annotations

import pytest

from airflow_pachyderm.datums import Datum
from airflow_pachyderm.datums.selection import (
    DatumSelection,
    DatumSelectionError,
    parse_datum_ids,
)

A = "0f3a9c2e41b7" + "a" * 52
B = "0f3a9c2e41b7" + "b" * 52
C = "9b1d" + "c" * 60


def test_parse_accepts_ids_and_prefixes() -> None:
    assert parse_datum_ids(f" {A}, 9B1D ,,") == {A, "9b1d"}
    assert parse_datum_ids([C[:12]]) == {C[:12]}
    assert parse_datum_ids("") == frozenset()


@pytest.mark.parametrize("bad", ["0f3", "xyz1234", "a" * 65, "0f3a-9c2e"])
def test_parse_refuses_what_is_no_id(bad: str) -> None:
    with pytest.raises(DatumSelectionError, match="4 to 64 hex characters"):
        parse_datum_ids(f"{C}, {bad}")


def test_prefix_resolves_against_the_manifest_and_the_job() -> None:
    selection = DatumSelection({A[:14], C[:12]})
    assert selection.known({A: None}) == {A}
    assert [d.id for d in selection.watch([Datum(A, ()), Datum(C, ())])] == [A, C]
    selection.check()


def test_ambiguous_prefix_is_named_with_its_candidates() -> None:
    with pytest.raises(DatumSelectionError, match=r"prefix '0f3a9c2e41b7' is ambiguous.*0f3a9c"):
        DatumSelection({"0f3a9c2e41b7"}).known({A: None, B: None})
    selection = DatumSelection({"0f3a9c2e41b7"})
    assert selection.known({A: None}) == {A}
    list(selection.watch([Datum(B, ())]))  # a new datum of the job shares the prefix
    with pytest.raises(DatumSelectionError, match="ambiguous"):
        selection.check()


def test_unknown_prefix_is_named() -> None:
    selection = DatumSelection({"ffff0000", A})
    selection.known({A: None})
    list(selection.watch([Datum(A, ())]))
    with pytest.raises(DatumSelectionError, match="'ffff0000'"):
        selection.check()
