"""Pachyderm glob patterns, compiled to anchored regular expressions.

The syntax is the one Pachyderm takes from its ``ohmyglob`` library: ``*`` (any run of
characters except ``/``), ``**`` (any run, ``/`` included), ``?`` (one character except
``/``), ``[abc]``, ``[a-z]``, ``[!x]`` (as in ohmyglob, a negated class can match ``/``),
``{a,b}`` alternatives, ``\\`` escapes, and groups
``( | )`` that capture what they match. Extended-glob groups ``@( )``, ``?( )``, ``+( )``
and ``*( )`` capture too. Captures are numbered by their opening parenthesis and are used
by ``joinOn``/``groupBy`` templates such as ``$1`` or ``$1-$2``.

Patterns are matched against Pachyderm-style paths: a leading ``/`` and no trailing one
(``/images/a.png``, ``/images``). A lakeFS path ``images/a.png`` is matched as
``/images/a.png``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from airflow_pachyderm.datums.errors import GlobError

_EXTGLOB_QUANTIFIERS = {"@": "", "?": "?", "+": "+", "*": "*"}
_TEMPLATE_REF = re.compile(r"\$(?:(\d+)|\{(\d+)\})")


def normalize_glob(pattern: str) -> str:
    """Pachyderm's cleaning: a leading ``/`` is implied and a trailing one is ignored."""
    return "/" + pattern.strip("/")


@dataclass(frozen=True)
class CompiledGlob:
    """A glob ready to match paths and to expand ``$N`` templates from its captures."""

    pattern: str
    regex: re.Pattern[str] = field(repr=False)
    groups: int

    @property
    def matches_root_only(self) -> bool:
        """``/`` selects the whole repo as a single datum."""
        return self.pattern == "/"

    def match(self, path: str) -> re.Match[str] | None:
        """Match a Pachyderm-style path (``/a/b``); ``None`` when it does not match."""
        return self.regex.fullmatch(path)

    def expand(self, template: str, match: re.Match[str] | None) -> str:
        """Replace ``$N``/``${N}`` in ``template`` by capture ``N``.

        A group that took no part in the match, or a path matched without a regex (the
        whole-repo glob ``/``), expands to the empty string.
        """

        def capture(ref: re.Match[str]) -> str:
            if match is None:
                return ""
            return match.group(int(ref.group(1) or ref.group(2))) or ""

        return _TEMPLATE_REF.sub(capture, template)

    def check_template(self, template: str, field_name: str, input_name: str) -> None:
        """Fail early when ``template`` refers to a capture group the glob lacks."""
        for ref in _TEMPLATE_REF.finditer(template):
            number = int(ref.group(1) or ref.group(2))
            if number == 0 or number > self.groups:
                raise GlobError(
                    f"input {input_name!r}: {field_name} {template!r} refers to ${number}, but "
                    f"glob {self.pattern!r} has {self.groups} capture group(s) "
                    f"(groups are written with parentheses, e.g. '/(*)-(*).txt')"
                )


def compile_glob(pattern: str) -> CompiledGlob:
    """Compile ``pattern`` (normalised first); raise ``GlobError`` saying what is wrong."""
    normalized = normalize_glob(pattern)
    parser = _Parser(normalized)
    body = parser.parse_sequence(stops="")
    try:
        regex = re.compile(body, re.DOTALL)
    except re.error as exc:  # only reachable through odd class contents such as [z-a]
        raise GlobError(f"glob {pattern!r} is invalid: {exc}") from exc
    return CompiledGlob(pattern=normalized, regex=regex, groups=parser.groups)


class _Parser:
    """Recursive-descent translation of one glob into a regular expression."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0
        self.groups = 0

    def _fail(self, message: str, at: int | None = None, hint: str = "") -> GlobError:
        where = self.pos if at is None else at
        text = f"glob {self.pattern!r}: {message} at character {where + 1}"
        return GlobError(f"{text}: {hint}" if hint else text)

    def parse_sequence(self, stops: str) -> str:
        """Translate until one of ``stops`` (not consumed) or the end of the pattern."""
        out: list[str] = []
        pattern = self.pattern
        while self.pos < len(pattern):
            char = pattern[self.pos]
            if char in stops:
                return "".join(out)
            nxt = pattern[self.pos + 1] if self.pos + 1 < len(pattern) else ""
            if char == "\\":
                if not nxt:
                    raise self._fail("a lone '\\' ends the pattern (write '\\\\' for a backslash)")
                out.append(re.escape(nxt))
                self.pos += 2
            elif char in _EXTGLOB_QUANTIFIERS and nxt == "(":
                self.pos += 1
                out.append(self._group(_EXTGLOB_QUANTIFIERS[char]))
            elif char == "!" and nxt == "(":
                raise self._fail("negated groups '!( )' are not supported")
            elif char == "(":
                out.append(self._group(""))
            elif char == "*":
                if nxt == "*":
                    out.append(".*")
                    self.pos += 2
                else:
                    out.append("[^/]*")
                    self.pos += 1
            elif char == "?":
                out.append("[^/]")
                self.pos += 1
            elif char == "[":
                out.append(self._char_class())
            elif char == "{":
                out.append(self._alternatives())
            elif char in ")}]":
                raise self._fail(f"unmatched {char!r}", hint="remove it or escape it as '\\'")
            else:
                out.append(re.escape(char))
                self.pos += 1
        return "".join(out)  # an unclosed group is reported by its opener

    def _group(self, quantifier: str) -> str:
        """``( a | b )`` at ``self.pos``: one capture group, optionally repeated."""
        start = self.pos
        self.pos += 1
        self.groups += 1
        branches = [self.parse_sequence(stops="|)")]
        while self.pos < len(self.pattern) and self.pattern[self.pos] == "|":
            self.pos += 1
            branches.append(self.parse_sequence(stops="|)"))
        if self.pos >= len(self.pattern):
            raise self._fail("'(' is never closed", at=start, hint="add ')'")
        self.pos += 1  # ')'
        inner = "|".join(branches)
        if quantifier:
            return f"((?:{inner}){quantifier})"
        return f"({inner})"

    def _alternatives(self) -> str:
        """``{a,b}`` at ``self.pos``: a non-capturing choice between sub-patterns."""
        start = self.pos
        self.pos += 1
        branches = [self.parse_sequence(stops=",}")]
        while self.pos < len(self.pattern) and self.pattern[self.pos] == ",":
            self.pos += 1
            branches.append(self.parse_sequence(stops=",}"))
        if self.pos >= len(self.pattern):
            raise self._fail("'{' is never closed", at=start, hint="add '}'")
        self.pos += 1  # '}'
        return "(?:" + "|".join(branches) + ")"

    def _char_class(self) -> str:
        """``[...]`` at ``self.pos``; ``!`` or ``^`` negates."""
        start = self.pos
        if self.pattern.startswith("[[:", start):
            raise self._fail("POSIX classes such as '[[:alpha:]]' are not supported")
        self.pos += 1
        negate = self.pos < len(self.pattern) and self.pattern[self.pos] in "!^"
        if negate:
            self.pos += 1
        members: list[str] = []
        while self.pos < len(self.pattern) and self.pattern[self.pos] != "]":
            char = self.pattern[self.pos]
            if char == "\\" and self.pos + 1 < len(self.pattern):
                members.append(re.escape(self.pattern[self.pos + 1]))
                self.pos += 2
            elif char == "-" and members and self.pos + 1 < len(self.pattern) \
                    and self.pattern[self.pos + 1] != "]":
                members.append("-")
                self.pos += 1
            else:
                members.append(re.escape(char))
                self.pos += 1
        if self.pos >= len(self.pattern):
            raise self._fail("'[' is never closed", at=start, hint="add ']'")
        if not members:
            raise self._fail("empty character class '[]'", at=start)
        self.pos += 1  # ']'
        return ("[^" if negate else "[") + "".join(members) + "]"
