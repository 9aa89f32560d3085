"""Datum ids follow paths (stable across commits); datum hashes follow content and salt."""

from __future__ import annotations

import random

from datums_testing import Repos, pfs

from airflow_pachyderm.datums import (
    CrossInput,
    Datum,
    DatumFile,
    datum_hash,
    datum_id,
    iter_datums,
)


def by_path(datums: list[Datum]) -> dict[str, Datum]:
    return {datum.files[0].path: datum for datum in datums}


def test_id_is_stable_across_commits_and_content(repos: Repos) -> None:
    repos.put("images", "c1", {"a.png": "v1", "b.png": "v1"})
    repos.put("images", "c2", {"a.png": "v2", "b.png": "v1", "c.png": "new"})
    first = by_path(list(iter_datums(pfs("images", "/*", commit="c1"), repos.lister)))
    second = by_path(list(iter_datums(pfs("images", "/*", commit="c2"), repos.lister)))
    assert first["a.png"].id == second["a.png"].id
    assert first["b.png"].id == second["b.png"].id
    assert second["c.png"].id not in {datum.id for datum in first.values()}
    assert len(second["a.png"].id) == 64
    int(second["a.png"].id, 16)  # hex


def test_hash_changes_with_checksum_not_with_commit(repos: Repos) -> None:
    repos.put("images", "c1", {"a.png": "v1", "b.png": "v1"})
    repos.put("images", "c2", {"a.png": "v2", "b.png": "v1"})
    first = by_path(list(iter_datums(pfs("images", "/*", commit="c1"), repos.lister)))
    second = by_path(list(iter_datums(pfs("images", "/*", commit="c2"), repos.lister)))
    assert datum_hash(first["a.png"], "s") != datum_hash(second["a.png"], "s")
    assert datum_hash(first["b.png"], "s") == datum_hash(second["b.png"], "s")


def test_hash_changes_with_salt() -> None:
    datum = Datum("d" * 64, (DatumFile("in", "repo", "c1", "a", "ck", 1, "a"),))
    assert datum_hash(datum, "salt-1") != datum_hash(datum, "salt-2")
    assert datum_hash(datum, "salt-1") == datum_hash(datum, "salt-1")


def test_hash_changes_when_a_file_inside_a_directory_datum_is_renamed() -> None:
    before = Datum("d", (DatumFile("in", "r", "c", "dir/a", "ck", 1, "dir"),))
    after = Datum("d", (DatumFile("in", "r", "c", "dir/b", "ck", 1, "dir"),))
    assert datum_hash(before, "s") != datum_hash(after, "s")


def test_adding_a_file_to_a_directory_datum_keeps_its_id_but_changes_its_hash(
    repos: Repos,
) -> None:
    repos.put("data", "c1", {"dir/a": "1"})
    repos.put("data", "c2", {"dir/a": "1", "dir/b": "2"})
    [old] = iter_datums(pfs("data", "/*", commit="c1"), repos.lister)
    [new] = iter_datums(pfs("data", "/*", commit="c2"), repos.lister)
    assert old.id == new.id
    assert datum_hash(old, "s") != datum_hash(new, "s")


def test_id_depends_on_input_name_repo_and_path_without_ambiguity() -> None:
    base = datum_id([("in", "repo", "a/b")])
    assert base == datum_id([("in", "repo", "a/b")])
    assert base != datum_id([("in2", "repo", "a/b")])
    assert base != datum_id([("in", "repo2", "a/b")])
    assert base != datum_id([("in", "repo", "a/c")])
    # field boundaries matter: ("ab", "c") is not ("a", "bc")
    assert datum_id([("ab", "c", "x")]) != datum_id([("a", "bc", "x")])
    assert datum_id([("a", "r", "x"), ("b", "r", "y")]) != datum_id(
        [("b", "r", "y"), ("a", "r", "x")]
    )


def test_shared_model_change_changes_every_hash_but_no_id(repos: Repos) -> None:
    repos.put("images", "c1", [f"{i}.png" for i in range(5)])
    repos.put("model", "m1", {"model.pkl": "v1"})
    repos.put("model", "m2", {"model.pkl": "v2"})

    def datums(commit: str) -> list[Datum]:
        tree = CrossInput((pfs("images", "/*"), pfs("model", "/", commit=commit)))
        return list(iter_datums(tree, repos.lister))

    old, new = datums("m1"), datums("m2")
    assert [d.id for d in old] == [d.id for d in new]
    assert all(datum_hash(a, "s") != datum_hash(b, "s") for a, b in zip(old, new, strict=True))


def test_random_listings_ids_are_unique_and_deterministic() -> None:
    from airflow_pachyderm.datums import FileEntry

    for seed in range(20):
        rng = random.Random(seed)
        paths = sorted({
            "/".join(rng.choice("abc") for _ in range(rng.randint(1, 4)))
            + f"-{rng.randint(0, 99)}"
            for _ in range(rng.randint(1, 60))
        })
        listing = [FileEntry(path, "ck", 1) for path in paths]
        for glob in ("/*", "/*/*", "/**", "/"):
            first = list(iter_datums(pfs("r", glob), lambda _leaf, lst=listing: lst))
            again = list(iter_datums(pfs("r", glob, commit="c2"), lambda _leaf, lst=listing: lst))
            assert [d.id for d in first] == [d.id for d in again]
            assert len({d.id for d in first}) == len(first)
            # every file belongs to at most one datum of a pfs input
            seen = [file.path for datum in first for file in datum.files]
            assert len(seen) == len(set(seen))
            if glob in ("/", "/*", "/**"):  # these cover every file
                assert sorted(seen) == paths
