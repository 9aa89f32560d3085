"""Datums of a single pfs (or cron) input: which entries a glob turns into datums."""

from __future__ import annotations

import pytest
from datums_testing import Repos, pfs

from airflow_pachyderm.datums import (
    CronLeaf,
    Datum,
    DatumError,
    GlobError,
    iter_datums,
    leaf_inputs,
)

TREE = {
    "README.md": "readme",
    ".hidden": "secret",
    "images/a.png": "A",
    "images/b.png": "B",
    "images/nested/c.png": "C",
    "labels/a.txt": "la",
    "labels/b.txt": "lb",
}


def roots(datums: list[Datum]) -> list[tuple[str, ...]]:
    """Each datum as the sorted paths it holds; the list sorted for comparison."""
    return sorted(tuple(sorted(file.path for file in datum.files)) for datum in datums)


def run(repos: Repos, glob: str, files: dict[str, str] | None = None) -> list[Datum]:
    repos.put("data", "c1", TREE if files is None else files)
    return list(iter_datums(pfs("data", glob), repos.lister))


def test_root_glob_is_one_datum_with_every_file(repos: Repos) -> None:
    datums = run(repos, "/")
    assert len(datums) == 1
    assert sorted(file.path for file in datums[0].files) == sorted(TREE)
    assert {file.datum_root for file in datums[0].files} == {""}


def test_star_makes_each_top_level_entry_a_datum(repos: Repos) -> None:
    assert roots(run(repos, "/*")) == [
        (".hidden",),
        ("README.md",),
        ("images/a.png", "images/b.png", "images/nested/c.png"),
        ("labels/a.txt", "labels/b.txt"),
    ]


def test_directory_datum_records_its_root(repos: Repos) -> None:
    images = next(d for d in run(repos, "/*") if d.files[0].path.startswith("images/"))
    assert {file.datum_root for file in images.files} == {"images"}


def test_star_star_level(repos: Repos) -> None:
    assert roots(run(repos, "/*/*")) == [
        ("images/a.png",),
        ("images/b.png",),
        ("images/nested/c.png",),
        ("labels/a.txt",),
        ("labels/b.txt",),
    ]


def test_recursive_glob_gives_one_datum_per_file(repos: Repos) -> None:
    datums = run(repos, "/**")
    assert roots(datums) == sorted((path,) for path in TREE)


def test_glob_under_a_directory(repos: Repos) -> None:
    assert roots(run(repos, "/images/*")) == [
        ("images/a.png",),
        ("images/b.png",),
        ("images/nested/c.png",),
    ]


def test_question_mark_class_and_braces(repos: Repos) -> None:
    assert roots(run(repos, "/images/?.png")) == [("images/a.png",), ("images/b.png",)]
    assert roots(run(repos, "/labels/[!a]*")) == [("labels/b.txt",)]
    assert roots(run(repos, "/{README.md,labels}")) == [
        ("README.md",),
        ("labels/a.txt", "labels/b.txt"),
    ]


def test_hidden_files_are_matched_by_star(repos: Repos) -> None:
    assert (".hidden",) in roots(run(repos, "/*"))
    assert roots(run(repos, "/.*")) == [(".hidden",)]


def test_deepest_match_wins_when_a_directory_and_its_files_both_match(repos: Repos) -> None:
    # '/images**' matches the directory and everything below it; each file is its own datum.
    assert roots(run(repos, "/images**")) == [
        ("images/a.png",),
        ("images/b.png",),
        ("images/nested/c.png",),
    ]
    # A directory matched with files beside a deeper match keeps the other files.
    assert roots(run(repos, "/{images,images/nested}")) == [
        ("images/a.png", "images/b.png"),
        ("images/nested/c.png",),
    ]


def test_no_match_and_empty_repo_give_no_datum(repos: Repos) -> None:
    assert run(repos, "/*.csv") == []
    assert run(repos, "/", files={}) == []
    assert run(repos, "/*", files={}) == []


def test_datum_files_carry_input_facts(repos: Repos) -> None:
    repos.put("images", "c9", {"x/a.png": "AAA"})
    leaf = pfs("images", "/*", commit="c9", name="pics", empty_files=True, lazy=True)
    [datum] = list(iter_datums(leaf, repos.lister))
    [file] = datum.files
    assert (file.input_name, file.repo, file.commit, file.path, file.size) == (
        "pics", "images", "c9", "x/a.png", 3,
    )
    assert file.checksum == repos.lister(leaf)[0].checksum
    assert file.empty_files and file.lazy
    assert file.container_path == "/pfs/pics/x/a.png"
    assert datum.commits() == {"pics": "c9"}
    assert datum.size == 3


def test_listing_must_be_sorted_and_unique(repos: Repos) -> None:
    from airflow_pachyderm.datums import FileEntry

    def unsorted(_leaf: object) -> list[FileEntry]:
        return [FileEntry("b", "x", 1), FileEntry("a", "y", 1)]

    with pytest.raises(DatumError, match=r"input 'data'.*sorted by path.*'a' comes after 'b'"):
        list(iter_datums(pfs("data", "/*"), unsorted))

    def leading_slash(_leaf: object) -> list[FileEntry]:
        return [FileEntry("/a", "x", 1)]

    with pytest.raises(DatumError, match="no leading '/'"):
        list(iter_datums(pfs("data", "/*"), leading_slash))


def test_bad_glob_names_the_glob(repos: Repos) -> None:
    repos.put("data", "c1", TREE)
    with pytest.raises(GlobError, match=r"glob '/\(\*'"):
        list(iter_datums(pfs("data", "/(*"), repos.lister))


def test_datums_stream_without_reading_the_whole_listing(repos: Repos) -> None:
    from airflow_pachyderm.datums import FileEntry

    consumed: list[str] = []

    def lister(_leaf: object):  # a generator, like a paginated lakeFS listing
        for index in range(1_000_000):
            path = f"f{index:07d}"
            consumed.append(path)
            yield FileEntry(path, "c", 1)

    datums = iter_datums(pfs("data", "/*"), lister)
    first = [next(datums) for _ in range(3)]
    assert [d.files[0].path for d in first] == ["f0000000", "f0000001", "f0000002"]
    assert len(consumed) <= 4


def test_cron_input_reads_its_tick_repo_as_one_datum(repos: Repos) -> None:
    repos.put("tick", "t2", {"2024-01-01T00:00:00Z": "", "2024-01-01T01:00:00Z": ""})
    cron = CronLeaf(name="tick", repo="tick", commit="t2", spec="@hourly")
    [datum] = list(iter_datums(cron, repos.lister))
    assert [file.container_path for file in datum.files] == [
        "/pfs/tick/2024-01-01T00:00:00Z",
        "/pfs/tick/2024-01-01T01:00:00Z",
    ]
    assert repos.calls == [("tick", "t2")]
    assert leaf_inputs(cron) == [cron]
