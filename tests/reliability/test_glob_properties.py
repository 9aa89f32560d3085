"""Glob matching against a straightforward reference, and its time against path length.

The reference translates a glob to a Python regular expression in the obvious way (what
the engine did before it stopped backtracking); on short paths backtracking is harmless, so
its answers are the specification the non-backtracking engine must reproduce, captures
included.
"""

from __future__ import annotations

import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_pachyderm.datums.glob import compile_glob

# ---------------------------------------------------------------- the reference


def reference_regex(pattern: str) -> re.Pattern[str]:
    """Glob -> regex for the generated subset (no escapes, no ranges, no bad syntax)."""
    out: list[str] = []
    closers: list[str] = []
    i = 0
    while i < len(pattern):
        c, following = pattern[i], pattern[i + 1 : i + 2]
        if c in "@?+*" and following == "(":
            quantifier = {"@": "", "?": "?", "+": "+", "*": "*"}[c]
            out.append("((?:" if quantifier else "(")
            closers.append(f"){quantifier})" if quantifier else ")")
            i += 2
            continue
        if c == "*" and following == "*":
            out.append(".*")
            i += 2
            continue
        if c == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end + 1
            continue
        if c in "({":
            out.append("(" if c == "(" else "(?:")
            closers.append(")")
        elif c in ")}":
            out.append(closers.pop())
        elif c in "|,":
            out.append("|")
        elif c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


# ---------------------------------------------------------------- generated globs

ATOMS = st.sampled_from(["a", "b", "/", "*", "**", "?", "[ab]", "[!a]", "-"])


def sequences(inner):
    return st.lists(inner, min_size=0, max_size=4).map("".join)


def extend(inner):
    branches = st.lists(sequences(inner), min_size=1, max_size=3)
    group = st.tuples(st.sampled_from(["", "@", "?", "+", "*"]), branches).map(
        lambda t: f"{t[0]}(" + "|".join(t[1]) + ")"
    )
    braces = st.lists(sequences(inner), min_size=2, max_size=3).map(
        lambda b: "{" + ",".join(b) + "}"
    )
    return st.one_of(inner, group, braces)


ELEMENTS = st.recursive(ATOMS, extend, max_leaves=8)
GLOBS = sequences(ELEMENTS).map(lambda body: "/" + body)
PATHS = st.text(alphabet="ab/-", max_size=8).map(lambda s: "/" + s)


def normalized(glob: str) -> str:
    return "/" + glob.strip("/")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glob=GLOBS, paths=st.lists(PATHS, min_size=1, max_size=8))
def test_engine_agrees_with_the_reference(glob: str, paths: list[str]) -> None:
    compiled = compile_glob(glob)
    reference = reference_regex(normalized(glob))
    assert compiled.groups == reference.groups
    for path in paths:
        expected = reference.fullmatch(path)
        found = compiled.match(path)
        assert (found is None) == (expected is None), (glob, path)
        if expected is not None and not has_empty_loop(glob):
            # Templates expand a group that matched nothing and one that took no part alike.
            got = [found.group(n) or "" for n in range(1, compiled.groups + 1)]
            assert got == [group or "" for group in expected.groups()], (glob, path)


def has_empty_loop(glob: str) -> bool:
    """Whether a repeated group ``+( )``/``*( )`` can match nothing.

    There backtracking takes one extra, empty iteration (and captures in it), a
    non-backtracking engine does not; which strings match is the same, captures may not be.
    """
    for start in (m.end() for m in re.finditer(r"[+*]\(", glob)):
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(glob[end], 0)
            end += 1
        if reference_regex("/@(" + glob[start : end - 1] + ")").fullmatch("/"):
            return True
    return False


# ---------------------------------------------------------------- time against path length

HOSTILE = [
    "/+(+(a|aa))b",
    "/*(*(a)|a)b",
    "/**a**a**a**a**a**a**a**a**ab",
    "/(*)*(*)*(*)*(*)*(*)x",
    "/+(@(a|a|a))*(a)+(a)c",
    "/{a,aa,aaa}{a,aa,aaa}{a,aa,aaa}*(a)b",
]


def best_time(glob, path: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        glob.match(path)
        best = min(best, time.perf_counter() - start)
    return best


@settings(max_examples=20, deadline=None)
@given(glob=st.one_of(st.sampled_from(HOSTILE), GLOBS), letter=st.sampled_from("ab/"))
def test_match_time_grows_linearly_with_the_path(glob: str, letter: str) -> None:
    compiled = compile_glob(glob)
    short, long = "/" + letter * 250 + "!", "/" + letter * 4000 + "!"
    compiled.match(short)  # warm the machine's state cache
    ratio = best_time(compiled, long) / max(best_time(compiled, short), 1e-7)
    # 16 times the length: linear is ~16x, quadratic would be ~256x, backtracking unbounded.
    assert ratio < 80, (glob, letter, ratio)
