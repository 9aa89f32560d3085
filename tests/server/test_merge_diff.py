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
    assert commit.message == "merge dev"
    assert commit.metadata == {"why": "test", ".lakefs.merge.strategy": strategy}
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
    # lakeFS refuses any merge into a branch with uncommitted changes, overlapping or not
    # (graveler prepareForCommitIDUpdate); clients match on its message.
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == "uncommitted changes (dirty branch)"
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


def test_merge_commits_when_source_changed_even_if_result_equals_destination(api, repo_name):
    # "no changes" is about the source since the merge base, not about the result.
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    api.put(repo_name, "dev", "tmp", b"t")
    api.commit(repo_name, "dev", "add tmp")
    api.objects.delete_object(repo_name, "dev", "tmp")
    api.commit(repo_name, "dev", "remove tmp")
    main_head = api.branches.get_branch(repo_name, "main").commit_id
    merged = api.refs.merge_into_branch(repo_name, "dev", "main", lakefs_sdk.Merge(message="m"))
    commit = api.commits.get_commit(repo_name, merged.reference)
    assert commit.parents[0] == main_head
    assert commit.metadata == {".lakefs.merge.strategy": "default"}
    assert api.paths(repo_name, "main") == []


def test_uncommitted_removal_has_size_zero_and_committed_removal_its_size(api, repo_name):
    api.put(repo_name, "main", "gone", b"12345")
    before = api.commit(repo_name, "main", "add")
    api.objects.delete_object(repo_name, "main", "gone")
    [staged] = api.branches.diff_branch(repo_name, "main").results
    assert (staged.type, staged.size_bytes) == ("removed", 0)
    api.commit(repo_name, "main", "remove")
    [committed] = api.refs.diff_refs(repo_name, before.id, "main").results
    assert (committed.type, committed.size_bytes) == ("removed", 5)


def _cherry_pick(api, repo, branch, ref, **kwargs):
    return api.branches.cherry_pick(repo, branch, lakefs_sdk.CherryPickCreation(ref=ref, **kwargs))


def test_cherry_pick_replays_one_commit_with_origin_metadata(api, repo_name):
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="dev", source="main"))
    api.put(repo_name, "dev", "first", b"1")
    api.commit(repo_name, "dev", "first")
    api.put(repo_name, "dev", "second", b"2")
    picked = api.commit(repo_name, "dev", "second", metadata={"k": "v"})
    main_head = api.branches.get_branch(repo_name, "main").commit_id
    commit = _cherry_pick(api, repo_name, "main", "dev")
    assert commit.parents == [main_head] and commit.message == "second"
    assert commit.metadata == {
        "k": "v",
        "cherry-pick-origin": picked.id,
        "cherry-pick-committer": picked.committer,
    }
    assert api.paths(repo_name, "main") == ["second"]
    overridden = _cherry_pick(
        api,
        repo_name,
        "main",
        "dev~1",
        commit_overrides=lakefs_sdk.CommitOverrides(message="again", metadata={"a": "b"}),
    )
    assert overridden.message == "again" and overridden.metadata["a"] == "b"
    assert api.paths(repo_name, "main") == ["first", "second"]


def test_cherry_pick_refusals(api, repo_name, forked):
    def status(branch, ref, **kwargs):
        with pytest.raises(ApiException) as err:
            _cherry_pick(api, repo_name, branch, ref, **kwargs)
        return err.value.status

    assert status("main", "dev") == 409  # "conflict" changed on both sides
    merged = api.refs.merge_into_branch(
        repo_name, "dev", "main", lakefs_sdk.Merge(strategy="dest-wins")
    )
    api.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="o", source=forked.id))
    assert status("o", merged.reference) == 400  # a merge commit needs parent_number
    assert status("o", merged.reference, parent_number=3) == 400
    assert _cherry_pick(api, repo_name, "o", merged.reference, parent_number=1).parents
    api.put(repo_name, "o", "dirty", b"d")
    assert status("o", "dev") == 400
    assert status("o", "no-such-ref") == 404
