"""cross, union, join (inner and outer) and group, following Pachyderm's documented examples."""

from __future__ import annotations

import pytest
from datums_testing import Repos, pfs

from airflow_pachyderm.datums import (
    CrossInput,
    Datum,
    DatumError,
    GroupInput,
    JoinInput,
    UnionInput,
    iter_datums,
    leaf_inputs,
)
from airflow_pachyderm.datums import iterate as iterate_module


def shape(datums: list[Datum]) -> list[tuple[str, ...]]:
    """Each datum as its container paths (in datum order); the list sorted."""
    return sorted(tuple(file.container_path for file in datum.files) for datum in datums)


def test_cross_is_the_cartesian_product_in_input_order(repos: Repos) -> None:
    repos.put("attributes", "c1", ["a1.csv", "a2.csv", "a3.csv"])
    repos.put("model", "m1", ["model.pkl", "meta/params.json"])
    tree = CrossInput((pfs("attributes", "/*"), pfs("model", "/", commit="m1")))
    datums = list(iter_datums(tree, repos.lister))
    assert shape(datums) == [
        (f"/pfs/attributes/a{i}.csv", "/pfs/model/meta/params.json", "/pfs/model/model.pkl")
        for i in (1, 2, 3)
    ]
    assert len({datum.id for datum in datums}) == 3


def test_cross_with_an_empty_input_has_no_datums(repos: Repos) -> None:
    repos.put("attributes", "c1", ["a1.csv"])
    repos.put("model", "c1", [])
    assert list(iter_datums(CrossInput((pfs("attributes", "/*"), pfs("model", "/"))),
                            repos.lister)) == []
    assert list(iter_datums(CrossInput((pfs("model", "/*"), pfs("attributes", "/*"))),
                            repos.lister)) == []


def test_cross_streams_its_big_side_and_keeps_order(repos: Repos) -> None:
    size = iterate_module.CROSS_STREAM_THRESHOLD + 6  # large enough to be streamed
    repos.put("small", "c1", ["s1", "s2"])
    repos.put("big", "c1", [f"b{i:05d}" for i in range(size)])
    repos.put("other", "c1", ["o1", "o2", "o3"])
    tree = CrossInput((pfs("small", "/*"), pfs("big", "/*"), pfs("other", "/*")))
    datums = list(iter_datums(tree, repos.lister))
    expected = sorted(
        (f"/pfs/small/{s}", f"/pfs/big/b{b:05d}", f"/pfs/other/{o}")
        for s in ("s1", "s2") for b in range(size) for o in ("o1", "o2", "o3")
    )
    assert shape(datums) == expected
    assert len({datum.id for datum in datums}) == 2 * size * 3
    # the big side is the outer loop: its first entry leads, its last one ends
    assert datums[0].files[1].path == "b00000"
    assert datums[-1].files[1].path == f"b{size - 1:05d}"


def test_union_concatenates_and_keeps_a_repeated_datum_once(repos: Repos) -> None:
    repos.put("a", "c1", ["x", "y"])
    repos.put("b", "c1", ["z"])
    tree = UnionInput((pfs("a", "/*", name="in"), pfs("b", "/*", name="in"),
                       pfs("a", "/*", name="in")))
    datums = list(iter_datums(tree, repos.lister))
    assert [datum.files[0].container_path for datum in datums] == [
        "/pfs/in/x", "/pfs/in/y", "/pfs/in/z",
    ]


def _join_repos(repos: Repos) -> None:
    # Pachyderm's join example layout: readings per id, one parameter file per id.
    repos.put("readings", "c1", ["ID1/file1.txt", "ID1/file2.txt", "ID2/file3.txt",
                                 "ID2/file5.txt"])
    repos.put("parameters", "c1", ["file1.txt", "file2.txt", "file3.txt", "file4.txt"])


def test_inner_join_on_capture_group(repos: Repos) -> None:
    _join_repos(repos)
    tree = JoinInput((
        pfs("readings", "/*/(*).txt", join_on="$1"),
        pfs("parameters", "/(*).txt", join_on="$1"),
    ))
    assert shape(list(iter_datums(tree, repos.lister))) == [
        ("/pfs/readings/ID1/file1.txt", "/pfs/parameters/file1.txt"),
        ("/pfs/readings/ID1/file2.txt", "/pfs/parameters/file2.txt"),
        ("/pfs/readings/ID2/file3.txt", "/pfs/parameters/file3.txt"),
    ]


@pytest.mark.parametrize(
    ("outer_readings", "outer_parameters", "unmatched"),
    [
        (True, False, [("/pfs/readings/ID2/file5.txt",)]),
        (False, True, [("/pfs/parameters/file4.txt",)]),
        (True, True, [("/pfs/parameters/file4.txt",), ("/pfs/readings/ID2/file5.txt",)]),
    ],
)
def test_outer_join_keeps_unmatched_datums_of_outer_inputs(
    repos: Repos, outer_readings: bool, outer_parameters: bool, unmatched: list[tuple[str, ...]]
) -> None:
    _join_repos(repos)
    tree = JoinInput((
        pfs("readings", "/*/(*).txt", join_on="$1", outer_join=outer_readings),
        pfs("parameters", "/(*).txt", join_on="$1", outer_join=outer_parameters),
    ))
    matched = [
        ("/pfs/readings/ID1/file1.txt", "/pfs/parameters/file1.txt"),
        ("/pfs/readings/ID1/file2.txt", "/pfs/parameters/file2.txt"),
        ("/pfs/readings/ID2/file3.txt", "/pfs/parameters/file3.txt"),
    ]
    assert shape(list(iter_datums(tree, repos.lister))) == sorted(matched + unmatched)


def test_join_crosses_every_match_of_a_key_and_uses_multiple_groups(repos: Repos) -> None:
    repos.put("left", "c1", ["a-1.txt", "a-2.txt", "b-1.txt"])
    repos.put("right", "c1", ["x/a1", "y/a1", "z/b2"])
    tree = JoinInput((
        pfs("left", "/(*)-(*).txt", join_on="$1$2"),
        pfs("right", "/*/(*)", join_on="$1"),
    ))
    assert shape(list(iter_datums(tree, repos.lister))) == [
        ("/pfs/left/a-1.txt", "/pfs/right/x/a1"),
        ("/pfs/left/a-1.txt", "/pfs/right/y/a1"),
    ]


def test_join_without_any_match_is_a_zero_datum_job(repos: Repos) -> None:
    repos.put("left", "c1", ["a.txt"])
    repos.put("right", "c1", ["b.txt"])
    tree = JoinInput((pfs("left", "/(*).txt", join_on="$1"),
                      pfs("right", "/(*).txt", join_on="$1")))
    assert list(iter_datums(tree, repos.lister)) == []


def test_group_collects_files_of_every_input_by_key(repos: Repos) -> None:
    # Pachyderm's group example: lab results and visits grouped by patient id.
    repos.put("labresults", "c1", [
        "T1606331395-LIPID-patient1-CLIA24D9871327.txt",
        "T1606707557-LIPID-patient2-CLIA24D9871327.txt",
        "T1606707579-LIPID-patient1-CLIA24D9871327.txt",
    ])
    repos.put("visits", "c1", ["patient1/2020-11-20.txt", "patient3/2020-11-21.txt"])
    tree = GroupInput((
        pfs("labresults", "/*-*-(*)-*.txt", group_by="$1"),
        pfs("visits", "/(*)/*", group_by="$1"),
    ))
    assert shape(list(iter_datums(tree, repos.lister))) == [
        (
            "/pfs/labresults/T1606331395-LIPID-patient1-CLIA24D9871327.txt",
            "/pfs/labresults/T1606707579-LIPID-patient1-CLIA24D9871327.txt",
            "/pfs/visits/patient1/2020-11-20.txt",
        ),
        ("/pfs/labresults/T1606707557-LIPID-patient2-CLIA24D9871327.txt",),
        ("/pfs/visits/patient3/2020-11-21.txt",),
    ]


def test_nested_trees(repos: Repos) -> None:
    repos.put("a", "c1", ["1", "2"])
    repos.put("b", "c1", ["x"])
    repos.put("model", "c1", ["m"])
    tree = CrossInput((UnionInput((pfs("a", "/*", name="data"), pfs("b", "/*", name="data"))),
                       pfs("model", "/")))
    assert shape(list(iter_datums(tree, repos.lister))) == [
        ("/pfs/data/1", "/pfs/model/m"),
        ("/pfs/data/2", "/pfs/model/m"),
        ("/pfs/data/x", "/pfs/model/m"),
    ]
    assert [leaf.repo for leaf in leaf_inputs(tree)] == ["a", "b", "model"]


def test_join_on_a_missing_capture_group_names_the_input(repos: Repos) -> None:
    repos.put("left", "c1", ["a.txt"])
    repos.put("right", "c1", ["a.txt"])
    tree = JoinInput((pfs("left", "/(*).txt", join_on="$2"),
                      pfs("right", "/(*).txt", join_on="$1")))
    with pytest.raises(DatumError, match=r"input 'left': joinOn '\$2'"):
        list(iter_datums(tree, repos.lister))
