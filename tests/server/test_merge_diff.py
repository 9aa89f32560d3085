"""Diff between refs, uncommitted diff, three-way merge with conflicts and strategies."""

from __future__ import annotations

import json

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ApiException


@pytest.fixture
def forked(api, repo_name):
    """main has base files committed; branch dev forks from it."""
    for path in ("same", "conflict", "only-main-changes", "only-dev-changes", "deleted-on-dev"):
        api.put(repo_name, "main", path, b"base-" + path.encode())
    base = api.commit(repo_name, "main", "base")
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    api.put(repo_name, "dev", "conflict", b"dev")
    api.put(repo_name, "dev", "only-dev-changes", b"dev")
    api.put(repo_name, "dev", "new-on-dev", b"dev")
    api.objects.delete_object(repo_name, "dev", "deleted-on-dev")
    api.commit(repo_name, "dev", "dev work")
    api.put(repo_name, "main", "conflict", b"main")
    api.put(repo_name, "main", "only-main-changes", b"main")
    api.commit(repo_name, "main", "main work")
    return base


def _diff(api, repo, left, right, **kwargs):
    return [(d.path, d.type) for d in api.refs.diff_refs(repo, left, right, **kwargs).results]


def test_diff_two_dot_and_three_dot(api, repo_name, forked):
    assert _diff(api, repo_name, "main", "dev") == [
        ("conflict", "changed"),
        ("deleted-on-dev", "removed"),
        ("new-on-dev", "added"),
        ("only-dev-changes", "changed"),
    ]
    assert _diff(api, repo_name, "main", "dev", type="two_dot") == [
        ("conflict", "changed"),
        ("deleted-on-dev", "removed"),
        ("new-on-dev", "added"),
        ("only-dev-changes", "changed"),
        ("only-main-changes", "changed"),
    ]
    page = api.refs.diff_refs(repo_name, "main", "dev", amount=2)
    assert page.pagination.has_more and page.pagination.next_offset == "deleted-on-dev"
    assert _diff(api, repo_name, forked.id, "dev", prefix="only") == [
        ("only-dev-changes", "changed")
    ]


def test_diff_with_delimiter_and_staged_right_side(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    api.put(repo_name, "dev", "a/1", b"1")
    api.put(repo_name, "dev", "a/2", b"2")
    api.put(repo_name, "dev", "b", b"b")
    # The right branch's uncommitted changes count in a two-dot diff.
    assert _diff(api, repo_name, "main", "dev", type="two_dot", delimiter="/") == [
        ("a/", "prefix_changed"),
        ("b", "added"),
    ]
    uncommitted = api.branches.diff_branch(repo_name, "dev", prefix="a/")
    assert [(d.path, d.type, d.path_type) for d in uncommitted.results] == [
        ("a/1", "added", "object"),
        ("a/2", "added", "object"),
    ]


def test_merge_conflict_is_409_naming_paths(api, repo_name, forked):
    with pytest.raises(ApiException) as err:
        api.refs.merge_into_branch(repo_name, "dev", "main")
    assert err.value.status == 409
    assert "conflict" in json.loads(err.value.body)["message"]
    assert "conflict" in err.value.body and "only-dev-changes" not in err.value.body


@pytest.mark.parametrize(("strategy", "winner"), [("source-wins", b"dev"), ("dest-wins", b"main")])
def test_merge_strategies(api, repo_name, forked, strategy, winner):
    main_head = api.branches.get_branch(repo_name, "main").commit_id
    dev_head = api.branches.get_branch(repo_name, "dev").commit_id
    result = api.refs.merge_into_branch(
        repo_name,
        "dev",
        "main",
        lakefs_sdk.Merge(strategy=strategy, message="merge dev", metadata={"why": "test"}),
    )
    commit = api.commits.get_commit(repo_name, result.reference)
    assert commit.parents == [main_head, dev_head]
    assert (commit.message, commit.metadata) == ("merge dev", {"why": "test"})
    assert api.read(repo_name, "main", "conflict") == winner
    assert api.read(repo_name, "main", "only-dev-changes") == b"dev"
    assert api.read(repo_name, "main", "only-main-changes") == b"main"
    assert api.read(repo_name, "main", "new-on-dev") == b"dev"
    assert "deleted-on-dev" not in api.paths(repo_name, "main")
    assert api.read(repo_name, "main", "same") == b"base-same"


def test_merge_without_changes_is_400_unless_allowed(api, repo_name, forked):
    api.refs.merge_into_branch(repo_name, "dev", "main", lakefs_sdk.Merge(strategy="dest-wins"))
    with pytest.raises(ApiException) as err:
        api.refs.merge_into_branch(repo_name, "dev", "main")
    assert err.value.status == 400
    allowed = api.refs.merge_into_branch(
        repo_name, "dev", "main", lakefs_sdk.Merge(allow_empty=True)
    )
    assert len(allowed.reference) == 64
    with pytest.raises(ApiException) as err:
        api.refs.merge_into_branch(repo_name, "dev", "main", lakefs_sdk.Merge(strategy="mine"))
    assert err.value.status == 400


def test_merge_into_dirty_branch_is_400_and_squash_has_one_parent(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    api.put(repo_name, "dev", "x", b"x")
    api.commit(repo_name, "dev", "x")
    api.put(repo_name, "main", "dirty", b"d")
    with pytest.raises(ApiException) as err:
        api.refs.merge_into_branch(repo_name, "dev", "main")
    assert err.value.status == 400
    api.branches.reset_branch(repo_name, "main", lakefs_sdk.ResetCreation(type="reset"))
    head = api.branches.get_branch(repo_name, "main").commit_id
    base = api.refs.find_merge_base(repo_name, "dev", "main")
    assert base.base_commit_id == head and base.destination_commit_id == head
    squashed = api.refs.merge_into_branch(
        repo_name, "dev", "main", lakefs_sdk.Merge(squash_merge=True)
    )
    assert api.commits.get_commit(repo_name, squashed.reference).parents == [head]
    assert api.read(repo_name, "main", "x") == b"x"


def test_criss_cross_history_merges_against_nearest_base(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    for round_ in range(3):
        api.put(repo_name, "dev", f"dev-{round_}", b"d")
        api.commit(repo_name, "dev", f"dev {round_}")
        api.refs.merge_into_branch(repo_name, "dev", "main")
        api.put(repo_name, "main", f"main-{round_}", b"m")
        api.commit(repo_name, "main", f"main {round_}")
        api.refs.merge_into_branch(repo_name, "main", "dev")
    assert api.paths(repo_name, "main") == api.paths(repo_name, "dev")
    assert len(api.paths(repo_name, "main")) == 6
