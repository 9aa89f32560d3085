"""Glob syntax and matching, checked against Pachyderm's documented behaviour."""

from __future__ import annotations

import pytest

from airflow_pachyderm.datums import GlobError, compile_glob, normalize_glob


def matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern).match(path) is not None


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/*", "/a.png", True),
        ("/*", "/images", True),
        ("/*", "/images/a.png", False),  # '*' stops at '/'
        ("/*", "/.hidden", True),  # no special case for dot files, as in ohmyglob
        ("/*/*", "/images/a.png", True),
        ("/*/*", "/a.png", False),
        ("/**", "/a/b/c/d.txt", True),
        ("/**.csv", "/x/y/z.csv", True),
        ("/**.csv", "/x/y/z.txt", False),
        ("/img-?.png", "/img-1.png", True),
        ("/img-?.png", "/img-12.png", False),
        ("/?", "//", False),  # '?' never matches '/'
        ("/[a-c]*", "/banana", True),
        ("/[a-c]*", "/date", False),
        ("/[!a-c]*", "/date", True),
        ("/[!a-c]*", "/apple", False),
        ("/[^a-c]*", "/date", True),
        ("/[abc]", "/b", True),
        ("/a[!b]c", "/a/c", True),  # ohmyglob: a negated class is not separator-aware
        ("/[-x]", "/-", True),
        ("/*.{png,jpg}", "/a.jpg", True),
        ("/*.{png,jpg}", "/a.gif", False),
        ("/{images,labels}/*", "/labels/x", True),
        ("/{images,labels}/*", "/other/x", False),
        ("/{a/b,c}", "/a/b", True),
        ("/file\\*", "/file*", True),
        ("/file\\*", "/fileX", False),
        ("/a.b", "/aXb", False),  # '.' is literal
        ("/(a|b)/x", "/b/x", True),
        ("/@(a|b)", "/a", True),
        ("/+(ab)", "/ababab", True),
        ("/a?(b)", "/a", True),
        ("/a*(b)", "/abbb", True),
        ("/a*(b)", "/abc", False),
    ],
)
def test_match(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("pattern", "normalized"),
    [("*", "/*"), ("/*/", "/*"), ("/", "/"), ("", "/"), ("images/*", "/images/*")],
)
def test_normalize_like_pachyderm(pattern: str, normalized: str) -> None:
    assert normalize_glob(pattern) == normalized
    assert compile_glob(pattern).pattern == normalized


def test_root_glob_only_selects_the_whole_repo() -> None:
    assert compile_glob("/").matches_root_only
    assert not compile_glob("/*").matches_root_only


# Pachyderm's join documentation: captures of globs against /foo/bar-123/ABC.txt and its
# directories.
@pytest.mark.parametrize(
    ("pattern", "path", "template", "expected"),
    [
        ("/(*)", "/foo", "$1", "foo"),
        ("/*/bar-(*)", "/foo/bar-123", "$1", "123"),
        ("/(*)/*/(??)*.txt", "/foo/bar-123/ABC.txt", "$1|$2", "foo|AB"),
        ("/*/(bar-(123))/*", "/foo/bar-123/ABC.txt", "$1|$2", "bar-123|123"),
        ("/(*)-(*).txt", "/a-b.txt", "$1$2", "ab"),
        ("/(*)-(*).txt", "/a-b.txt", "${2}-${1}", "b-a"),
        ("/(*)-(*).txt", "/a-b-c.txt", "$1", "a-b"),  # '*' is greedy
        ("/(a|b)/(*).go", "/a/x.go", "$1 $2", "a x"),
        ("/a*(a|b)/x.go", "/aaba/x.go", "$1", "aba"),
        ("/a?(z)/x", "/a/x", "[$1]", "[]"),  # unmatched optional group expands to ""
    ],
)
def test_captures(pattern: str, path: str, template: str, expected: str) -> None:
    glob = compile_glob(pattern)
    match = glob.match(path)
    assert match is not None
    assert glob.expand(template, match) == expected


def test_group_count_counts_every_parenthesis() -> None:
    assert compile_glob("/(*)/(b-(*))").groups == 3
    assert compile_glob("/{a,b}/*").groups == 0


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/(*", "'(' is never closed"),
        ("/{a,b", "'{' is never closed"),
        ("/[ab", "'[' is never closed"),
        ("/a)", "unmatched ')'"),
        ("/a}", "unmatched '}'"),
        ("/[]", "empty character class"),
        ("/!(a)", "negated groups"),
        ("/a\\", "lone '\\'"),
        ("/[z-a]", "invalid"),
        ("/[[:alpha:]]", "POSIX classes"),
    ],
)
def test_syntax_errors_say_what_is_wrong(pattern: str, message: str) -> None:
    with pytest.raises(GlobError, match="glob") as info:
        compile_glob(pattern)
    assert message in str(info.value)
    assert pattern.lstrip("/") in str(info.value)


def test_template_referring_to_a_missing_group_is_rejected() -> None:
    glob = compile_glob("/(*).txt")
    glob.check_template("$1", "joinOn", "readings")
    with pytest.raises(GlobError, match=r"input 'readings': joinOn '\$2' refers to \$2"):
        glob.check_template("$2", "joinOn", "readings")
    with pytest.raises(GlobError, match="has 0 capture group"):
        compile_glob("/*").check_template("$1", "groupBy", "labs")
