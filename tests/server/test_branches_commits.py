"""Branches, commits, the commit log, ref expressions, reset and revert."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException


def _status(call, *args, **kwargs) -> int:
    with pytest.raises(ApiException) as err:
        call(*args, **kwargs)
    return err.value.status


def test_branch_lifecycle(api, repo_name):
    main = api.branches.get_branch(repo_name, "main")
    created = api.branches.create_branch(
        repo_name, lakefs_sdk.BranchCreation(name="feature-1", source="main")
    )
    assert created == main.commit_id
    got = api.branches.get_branch(repo_name, "feature-1")
    assert (got.id, got.commit_id) == ("feature-1", main.commit_id)
    assert [b.id for b in api.branches.list_branches(repo_name).results] == ["feature-1", "main"]
    assert (
        _status(
            api.branches.create_branch,
            repo_name,
            lakefs_sdk.BranchCreation(name="feature-1", source="main"),
        )
        == 409
    )
    assert (
        _status(
            api.branches.create_branch,
            repo_name,
            lakefs_sdk.BranchCreation(name="bad name", source="main"),
        )
        == 400
    )
    assert (
        _status(
            api.branches.create_branch,
            repo_name,
            lakefs_sdk.BranchCreation(name="x", source="nowhere"),
        )
        == 404
    )
    api.branches.delete_branch(repo_name, "feature-1")
    assert _status(api.branches.get_branch, repo_name, "feature-1") == 404
    assert _status(api.branches.delete_branch, repo_name, "main") == 403


def test_commit_requires_changes_unless_allow_empty(api, repo_name):
    assert _status(api.commit, repo_name, "main", "nothing") == 400
    empty = api.commit(repo_name, "main", "empty", allow_empty=True)
    assert empty.message == "empty"
    api.put(repo_name, "main", "a.txt", b"A")
    head = api.branches.get_branch(repo_name, "main").commit_id
    commit = api.commit(repo_name, "main", "add a", metadata={"pachyderm.job": "j1", "k": "v"})
    assert commit.parents == [head]
    assert commit.metadata == {"pachyderm.job": "j1", "k": "v"}
    assert commit.committer
    assert commit.meta_range_id
    assert len(commit.id) == 64
    assert api.branches.get_branch(repo_name, "main").commit_id == commit.id
    assert api.commits.get_commit(repo_name, commit.id) == commit
    # After the commit the staging area is empty again.
    assert api.branches.diff_branch(repo_name, "main").results == []
    assert _status(api.commit, repo_name, "main", "again") == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"message": "m", "metadata": {"k": 1}}', "metadata"),
        # Found by schemathesis: SQLite overflowed (500); lakeFS's int64 refuses it with 400.
        (b'{"message": "m", "allow_empty": true, "date": -9223372036854775809}', "date"),
    ],
)
def test_commit_with_bad_field_is_400(api, repo_name, body, field):
    response = api.request(
        "POST",
        f"/repositories/{repo_name}/branches/main/commits",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert field in response.json()["message"]


def test_log_is_newest_first_and_paginates_over_1000_commits(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="many", source="main"))
    ids = [api.commit(repo_name, "many", f"c{i}", allow_empty=True).id for i in range(1050)]
    seen = []
    after = ""
    while True:
        page = api.refs.log_commits(repo_name, "many", after=after, amount=1000)
        seen += [c.id for c in page.results]
        if not page.pagination.has_more:
            break
        assert len(page.results) == 1000
        after = page.pagination.next_offset
    initial = api.branches.get_branch(repo_name, "main").commit_id
    assert seen == [*reversed(ids), initial]
    assert (
        api.refs.log_commits(repo_name, "many", amount=5, limit=True).pagination.has_more is False
    )
    stopped = api.refs.log_commits(repo_name, "many", stop_at=ids[-3])
    assert [c.id for c in stopped.results] == [ids[-1], ids[-2], ids[-3]]


def test_log_follows_merges_and_first_parent(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="side", source="main"))
    side = api.put(repo_name, "side", "s.txt", b"s") and api.commit(repo_name, "side", "side")
    api.put(repo_name, "main", "m.txt", b"m")
    main = api.commit(repo_name, "main", "main")
    merge = api.refs.merge_into_branch(repo_name, "side", "main").reference
    full = [c.id for c in api.refs.log_commits(repo_name, "main").results]
    assert full[0] == merge and set(full[1:3]) == {side.id, main.id}
    first = [c.id for c in api.refs.log_commits(repo_name, "main", first_parent=True).results]
    assert side.id not in first and first[:2] == [merge, main.id]
    touching = api.refs.log_commits(repo_name, "main", objects=["s.txt"]).results
    # The merge commit brings s.txt relative to its first parent, so it counts too.
    assert [c.id for c in touching] == [merge, side.id]
    under = api.refs.log_commits(repo_name, "main", prefixes=["m"]).results
    assert [c.id for c in under] == [main.id]


def test_ref_expressions(api, repo_name):
    c1 = api.put(repo_name, "main", "f", b"1") and api.commit(repo_name, "main", "one")
    c2 = api.put(repo_name, "main", "f", b"2") and api.commit(repo_name, "main", "two")
    api.put(repo_name, "main", "f", b"staged")
    api.tags.create_tag(repo_name, lakefs_sdk.TagCreation(id="v1.0", ref=c1.id))
    assert api.commits.get_commit(repo_name, "main~1").id == c1.id
    assert api.commits.get_commit(repo_name, "main^").id == c1.id
    assert api.commits.get_commit(repo_name, "main~2").parents == []
    assert api.commits.get_commit(repo_name, c2.id[:10]).id == c2.id
    assert api.commits.get_commit(repo_name, "v1.0").id == c1.id
    assert api.commits.get_commit(repo_name, f"{c2.id}~1").id == c1.id
    # A branch reads with its staged changes; branch@ only what is committed.
    assert api.read(repo_name, "main", "f") == b"staged"
    assert api.read(repo_name, "main@", "f") == b"2"
    assert api.read(repo_name, "main~1", "f") == b"1"
    assert api.read(repo_name, "v1.0", "f") == b"1"
    assert _status(api.commits.get_commit, repo_name, "main~9") == 404
    assert _status(api.commits.get_commit, repo_name, "nope@") == 404
    assert _status(api.commits.get_commit, repo_name, "main~x") == 400


def test_tags_are_immutable(api, repo_name):
    head = api.branches.get_branch(repo_name, "main").commit_id
    ref = api.tags.create_tag(repo_name, lakefs_sdk.TagCreation(id="release", ref="main"))
    assert (ref.id, ref.commit_id) == ("release", head)
    assert (
        _status(api.tags.create_tag, repo_name, lakefs_sdk.TagCreation(id="release", ref="main"))
        == 409
    )
    assert (
        _status(api.tags.create_tag, repo_name, lakefs_sdk.TagCreation(id="bad~tag", ref="main"))
        == 400
    )
    for i in range(3):
        api.tags.create_tag(repo_name, lakefs_sdk.TagCreation(id=f"t{i}", ref="main"))
    page = api.tags.list_tags(repo_name, amount=2)
    assert [t.id for t in page.results] == ["release", "t0"]
    assert page.pagination.has_more
    rest = api.tags.list_tags(repo_name, after=page.pagination.next_offset)
    assert [t.id for t in rest.results] == ["t1", "t2"]
    assert api.tags.get_tag(repo_name, "t1").commit_id == head
    api.tags.delete_tag(repo_name, "t1")
    assert _status(api.tags.get_tag, repo_name, "t1") == 404


def test_reset_discards_uncommitted_changes(api, repo_name):
    api.put(repo_name, "main", "keep.txt", b"k")
    api.commit(repo_name, "main", "base")
    for path in ("a/1", "a/2", "b/1", "c"):
        api.put(repo_name, "main", path, b"x")
    reset = api.branches.reset_branch
    reset(repo_name, "main", lakefs_sdk.ResetCreation(type="object", path="c"))
    assert api.paths(repo_name, "main") == ["a/1", "a/2", "b/1", "keep.txt"]
    reset(repo_name, "main", lakefs_sdk.ResetCreation(type="common_prefix", path="a/"))
    assert api.paths(repo_name, "main") == ["b/1", "keep.txt"]
    reset(repo_name, "main", lakefs_sdk.ResetCreation(type="reset"))
    assert api.paths(repo_name, "main") == ["keep.txt"]
    assert api.branches.diff_branch(repo_name, "main").results == []


def test_hard_reset_moves_branch(api, repo_name):
    first = api.put(repo_name, "main", "f", b"1") and api.commit(repo_name, "main", "1")
    api.put(repo_name, "main", "f", b"2") and api.commit(repo_name, "main", "2")
    api.put(repo_name, "main", "g", b"staged")
    api.experimental.hard_reset_branch(repo_name, "main", first.id)
    assert api.branches.get_branch(repo_name, "main").commit_id == first.id
    assert api.paths(repo_name, "main") == ["f"]
    assert api.read(repo_name, "main", "f") == b"1"


def test_revert(api, repo_name):
    api.put(repo_name, "main", "a", b"a1")
    api.put(repo_name, "main", "b", b"b1")
    api.commit(repo_name, "main", "base")
    api.put(repo_name, "main", "a", b"a2")
    api.put(repo_name, "main", "c", b"c1")
    bad = api.commit(repo_name, "main", "bad change")
    api.put(repo_name, "main", "b", b"b2")
    api.commit(repo_name, "main", "later")
    api.branches.revert_branch(
        repo_name, "main", lakefs_sdk.RevertCreation(ref=bad.id, parent_number=0)
    )
    head = api.commits.get_commit(repo_name, "main")
    assert bad.id in head.message
    assert api.read(repo_name, "main", "a") == b"a1"
    assert api.read(repo_name, "main", "b") == b"b2"  # later change kept
    assert api.paths(repo_name, "main") == ["a", "b"]
    # History is kept: the bad commit is still in the log.
    assert bad.id in [c.id for c in api.refs.log_commits(repo_name, "main").results]


def test_revert_refuses_dirty_branch_and_conflicts(api, repo_name):
    api.put(repo_name, "main", "a", b"1")
    change = api.commit(repo_name, "main", "one")
    api.put(repo_name, "main", "a", b"2")
    api.commit(repo_name, "main", "two")
    api.put(repo_name, "main", "dirty", b"x")
    body = lakefs_sdk.RevertCreation(ref=change.id, parent_number=0)
    assert _status(api.branches.revert_branch, repo_name, "main", body) == 400
    api.branches.reset_branch(repo_name, "main", lakefs_sdk.ResetCreation(type="reset"))
    # "a" changed again after the reverted commit: reverting it conflicts.
    assert _status(api.branches.revert_branch, repo_name, "main", body) == 409


def test_revert_merge_commit_needs_parent_number(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    api.put(repo_name, "dev", "from-dev", b"d")
    api.commit(repo_name, "dev", "dev")
    merge = api.refs.merge_into_branch(repo_name, "dev", "main").reference
    assert (
        _status(
            api.branches.revert_branch,
            repo_name,
            "main",
            lakefs_sdk.RevertCreation(ref=merge, parent_number=0),
        )
        == 409
    )
    assert (
        _status(
            api.branches.revert_branch,
            repo_name,
            "main",
            lakefs_sdk.RevertCreation(ref=merge, parent_number=3),
        )
        == 400
    )
    api.branches.revert_branch(
        repo_name, "main", lakefs_sdk.RevertCreation(ref=merge, parent_number=1)
    )
    assert api.paths(repo_name, "main") == []


def test_eight_threads_commit_to_eight_branches(api, repo_name):
    branches = [f"w{i}" for i in range(8)]
    for name in branches:
        api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name=name, source="main"))

    def work(branch: str) -> list[str]:
        ids = []
        for n in range(15):
            api.put(repo_name, branch, f"{branch}/{n}", f"{branch}-{n}".encode())
            ids.append(api.commit(repo_name, branch, f"{branch} {n}").id)
        return ids

    with ThreadPoolExecutor(8) as pool:
        results = dict(zip(branches, pool.map(work, branches), strict=True))
    for branch, ids in results.items():
        log = [c.id for c in api.refs.log_commits(repo_name, branch, amount=15).results]
        assert log == list(reversed(ids))
        assert api.paths(repo_name, branch) == sorted(f"{branch}/{n}" for n in range(15))
        assert api.read(repo_name, branch, f"{branch}/7") == f"{branch}-7".encode()


def test_hidden_branches_are_listed_only_when_asked(api, repo_name):
    api.branches.create_branch(
        repo_name, lakefs_sdk.BranchCreation(name="tx-1", source="main", hidden=True)
    )
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    assert [b.id for b in api.branches.list_branches(repo_name).results] == ["dev", "main"]
    shown = api.branches.list_branches(repo_name, show_hidden=True).results
    assert [b.id for b in shown] == ["dev", "main", "tx-1"]
    assert api.branches.get_branch(repo_name, "tx-1").commit_id
