"""The server's paths, prefixes, delimiters and refs against a dict of committed trees.

Keys are drawn from an alphabet that sits on the edges the server must step over: the
delimiter, multi-byte characters, the last code point before the surrogates, the first after
them, the last of the BMP and the last of Unicode. Each example writes a short history to a
fresh repository, then lists and diffs it through the API, paging with ``after`` as clients
do, and compares every answer with the model.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rawhttp import RawClient, q

ALPHABET = ["a", "b", "/", "\u00e9", "\ud7ff", "\ue000", "\uffff", "\U0010ffff"]
KEYS = st.text(alphabet=ALPHABET, min_size=1, max_size=4)
# A commit: keys to write (with a content byte) and keys to delete.
CHANGES = st.tuples(
    st.dictionaries(KEYS, st.binary(min_size=1, max_size=2), max_size=5), st.lists(KEYS, max_size=2)
)
PREFIXES = st.text(alphabet=ALPHABET, max_size=3)
DELIMITERS = st.one_of(
    st.just(""), st.just("/"), st.text(alphabet=ALPHABET, min_size=1, max_size=2)
)


def folded(keys, prefix: str, delimiter: str) -> list[str]:
    """What a listing shows: keys under ``prefix``, folded at the first ``delimiter``."""
    shown = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        shown.add(key[: cut + len(delimiter)] if cut >= 0 else key)
    return sorted(shown)


def list_all(raw: RawClient, route: str, amount: int, **query: str) -> list[str]:
    """Every page of a listing (paths, or ids of refs), following ``next_offset``."""
    found: list[str] = []
    after = ""
    for _ in range(200):
        params = "&".join(f"{k}={q(v)}" for k, v in {**query, "after": after}.items())
        reply = raw.call("GET", f"{route}?{params}&amount={amount}")
        assert reply.status == 200, (route, query, reply.body)
        page = reply.json()
        found += [item.get("path", item.get("id")) for item in page["results"]]
        if not page["pagination"]["has_more"]:
            return found
        after = page["pagination"]["next_offset"]
    raise AssertionError("listing never ended")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(CHANGES, min_size=1, max_size=3),
    prefix=PREFIXES,
    delimiter=DELIMITERS,
    amount=st.integers(1, 4),
    back=st.integers(0, 4),
    staged=st.lists(KEYS, max_size=4),
)
# The shapes that once answered 500, always tried (successor of the last code point, and of
# the one before the surrogates).
@example(
    history=[({"a\U0010ffff/x": b"1", "a\U0010ffff": b"2", "b": b"3"}, [])],
    prefix="a\U0010ffff", delimiter="\U0010ffff", amount=1, back=0, staged=["a\U0010ffffz"],
)
@example(
    history=[({"\ud7ff/a": b"1", "\ud7ff\ud7ff": b"2", "\ue000": b"3"}, ["\ue000"])],
    prefix="\ud7ff", delimiter="\ud7ff", amount=1, back=1, staged=["\ud7ffb", "\ue000"],
)
def test_listing_and_refs_follow_the_model(
    raw: RawClient, history, prefix: str, delimiter: str, amount: int, back: int, staged
) -> None:
    repo = raw.new_repo()
    trees: list[dict[str, bytes]] = [{}]  # trees[i]: the tree after i commits of ours
    for writes, deletes in history:
        tree = dict(trees[-1])
        for key, data in writes.items():
            raw.upload(repo, key, data)
            tree[key] = data
        for key in deletes:
            reply = raw.call(
                "DELETE", f"/repositories/{repo}/branches/main/objects?path={q(key)}"
            )
            assert reply.status == (204 if key in tree else 404), (key, reply.body)
            tree.pop(key, None)
        reply = raw.commit(repo, allow_empty=True)
        assert reply.status == 201, reply.body
        trees.append(tree)
    assert raw.reconnects == 0

    objects = f"/repositories/{repo}/refs/{{ref}}/objects/ls"
    if back < len(trees):
        ref = f"main~{back}"
        expected = folded(trees[-1 - back], prefix, delimiter)
        shown = list_all(raw, objects.format(ref=ref), amount, prefix=prefix, delimiter=delimiter)
        assert shown == expected, (ref, prefix, delimiter)
        for key, data in trees[-1 - back].items():
            assert raw.get(repo, ref, key).body == data
    else:  # older than the repository's first commit
        reply = raw.call("GET", objects.format(ref=f"main~{back}"))
        assert reply.status == 404, reply.body

    # Diff of the last commit against the first tree: exactly the keys that differ.
    first, last = trees[0], trees[-1]
    changed = sorted(k for k in first.keys() | last.keys() if first.get(k) != last.get(k))
    oldest = f"main~{len(trees) - 1}"
    diff = list_all(
        raw, f"/repositories/{repo}/refs/{q(oldest)}/diff/main", amount, prefix=prefix,
        type="two_dot",
    )  # fmt: skip
    assert diff == [k for k in changed if k.startswith(prefix)], (prefix, diff)

    # Branches and tags under the prefix (names are ASCII, prefixes need not be).
    raw.call("POST", f"/repositories/{repo}/tags", {"id": "v1", "ref": "main"})
    for kind, names in (("branches", ["main"]), ("tags", ["v1"])):
        shown = list_all(raw, f"/repositories/{repo}/{kind}", amount, prefix=prefix)
        assert shown == [n for n in names if n.startswith(prefix)], (kind, prefix)
    reply = raw.call("GET", f"/repositories?prefix={q(prefix)}&after={q(prefix)}")
    assert reply.status == 200, reply.body
    assert all(r["id"].startswith(prefix) for r in reply.json()["results"])

    # Resetting the uncommitted changes under the prefix drops exactly those.
    for key in staged:
        raw.upload(repo, key, b"staged")
    if prefix:
        reply = raw.call("PUT", f"/repositories/{repo}/branches/main",
                         {"type": "common_prefix", "path": prefix})  # fmt: skip
        assert reply.status == 204, reply.body
    pending = sorted(
        k for k in set(staged) if not (prefix and k.startswith(prefix)) and last.get(k) != b"staged"
    )
    shown = list_all(raw, f"/repositories/{repo}/branches/main/diff", amount)
    assert shown == pending, (prefix, staged)
