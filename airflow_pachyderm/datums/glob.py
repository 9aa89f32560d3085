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

Matching never backtracks (see :mod:`glob_machine`): its time is linear in the path length
whatever the pattern, so a crafted file name cannot stall planning. Patterns are bounded
(length, nesting) so that the parser and the machine stay small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from airflow_pachyderm.datums.errors import GlobError
from airflow_pachyderm.datums.glob_machine import (
    ANY,
    NOT_SLASH,
    Alt,
    Char,
    CharSet,
    Group,
    Machine,
    Repeat,
    Seq,
    compile_program,
)

_EXTGLOB_QUANTIFIERS = {"@": "", "?": "?", "+": "+", "*": "*"}
# Far beyond real globs; keeps parsing shallow and the matcher small.
MAX_GLOB_LENGTH = 1024
MAX_NESTING = 32
_TEMPLATE_REF = re.compile(r"\$(?:(\d+)|\{(\d+)\})")


def normalize_glob(pattern: str) -> str:
    """Pachyderm's cleaning: a leading ``/`` is implied and a trailing one is ignored."""
    return "/" + pattern.strip("/")


@dataclass(frozen=True)
class GlobMatch:
    """What a glob matched: the path and its capture groups (``None`` when unused)."""

    path: str
    captures: tuple[str | None, ...] = ()

    def group(self, number: int) -> str | None:
        """Capture ``number`` (1-based); 0 is the whole path."""
        return self.path if number == 0 else self.captures[number - 1]


@dataclass(frozen=True)
class CompiledGlob:
    """A glob ready to match paths and to expand ``$N`` templates from its captures."""

    pattern: str
    machine: Machine = field(repr=False, compare=False)
    groups: int

    @property
    def matches_root_only(self) -> bool:
        """``/`` selects the whole repo as a single datum."""
        return self.pattern == "/"

    def match(self, path: str) -> GlobMatch | None:
        """Match a Pachyderm-style path (``/a/b``); ``None`` when it does not match.

        Takes time linear in ``len(path)`` for any pattern.
        """
        if not self.machine.accepts(path):
            return None
        if not self.groups:
            return GlobMatch(path)
        captures = self.machine.captures(path)
        return None if captures is None else GlobMatch(path, tuple(captures))

    def expand(self, template: str, match: GlobMatch | None) -> str:
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
    if len(normalized) > MAX_GLOB_LENGTH:
        raise GlobError(
            f"glob {normalized[:40]!r}... is {len(normalized)} characters long: "
            f"at most {MAX_GLOB_LENGTH} are allowed"
        )
    parser = _Parser(normalized)
    tree = parser.parse_sequence(stops="")
    machine = Machine(compile_program(tree), parser.groups)
    return CompiledGlob(pattern=normalized, machine=machine, groups=parser.groups)


class _Parser:
    """Recursive-descent parse of one glob into the matcher's syntax tree."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0
        self.groups = 0
        self.depth = 0

    def _fail(self, message: str, at: int | None = None, hint: str = "") -> GlobError:
        where = self.pos if at is None else at
        shown = self.pattern if len(self.pattern) <= 80 else self.pattern[:60] + "..."
        text = f"glob {shown!r}: {message} at character {where + 1}"
        return GlobError(f"{text}: {hint}" if hint else text)

    def parse_sequence(self, stops: str) -> Seq:
        """Parse until one of ``stops`` (not consumed) or the end of the pattern."""
        out: list[object] = []
        pattern = self.pattern
        while self.pos < len(pattern):
            char = pattern[self.pos]
            if char in stops:
                return Seq(tuple(out))
            nxt = pattern[self.pos + 1] if self.pos + 1 < len(pattern) else ""
            if char == "\\":
                if not nxt:
                    raise self._fail("a lone '\\' ends the pattern (write '\\\\' for a backslash)")
                out.append(Char(CharSet(frozenset(nxt))))
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
                    out.append(Repeat(Char(ANY), "*"))
                    self.pos += 2
                else:
                    out.append(Repeat(Char(NOT_SLASH), "*"))
                    self.pos += 1
            elif char == "?":
                out.append(Char(NOT_SLASH))
                self.pos += 1
            elif char == "[":
                out.append(self._char_class())
            elif char == "{":
                out.append(self._alternatives())
            elif char in ")}]":
                raise self._fail(f"unmatched {char!r}", hint="remove it or escape it as '\\'")
            else:
                out.append(Char(CharSet(frozenset(char))))
                self.pos += 1
        return Seq(tuple(out))  # an unclosed group is reported by its opener

    def _enter(self, start: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self._fail(
                f"groups and alternatives nest deeper than {MAX_NESTING} levels",
                at=start,
                hint="simplify the pattern",
            )

    def _branches(self, separator: str, close: str, opener: str, start: int) -> Alt:
        self._enter(start)
        self.pos += 1
        branches = [self.parse_sequence(stops=separator + close)]
        while self.pos < len(self.pattern) and self.pattern[self.pos] == separator:
            self.pos += 1
            branches.append(self.parse_sequence(stops=separator + close))
        if self.pos >= len(self.pattern):
            raise self._fail(f"{opener!r} is never closed", at=start, hint=f"add {close!r}")
        self.pos += 1
        self.depth -= 1
        return Alt(tuple(branches))

    def _group(self, quantifier: str) -> Group:
        """``( a | b )`` at ``self.pos``: one capture group, optionally repeated."""
        start = self.pos
        self.groups += 1
        number = self.groups
        inner = self._branches("|", ")", "(", start)
        return Group(number, Repeat(inner, quantifier) if quantifier else inner)

    def _alternatives(self) -> Alt:
        """``{a,b}`` at ``self.pos``: a non-capturing choice between sub-patterns."""
        return self._branches(",", "}", "{", self.pos)

    def _char_class(self) -> Char:
        """``[...]`` at ``self.pos``; ``!`` or ``^`` negates."""
        start = self.pos
        pattern = self.pattern
        if pattern.startswith("[[:", start):
            raise self._fail("POSIX classes such as '[[:alpha:]]' are not supported")
        self.pos += 1
        negate = self.pos < len(pattern) and pattern[self.pos] in "!^"
        if negate:
            self.pos += 1
        chars: list[str] = []
        ranges: list[tuple[str, str]] = []
        last_single = False  # may the previous member start a range?
        while self.pos < len(pattern) and pattern[self.pos] != "]":
            char = pattern[self.pos]
            if char == "\\" and self.pos + 1 < len(pattern):
                chars.append(pattern[self.pos + 1])
                self.pos += 2
                last_single = True
            elif (
                char == "-"
                and last_single
                and self.pos + 1 < len(pattern)
                and pattern[self.pos + 1] != "]"
            ):
                low = chars.pop()
                high_at = self.pos + 1
                if pattern[high_at] == "\\" and high_at + 1 < len(pattern):
                    high, self.pos = pattern[high_at + 1], high_at + 2
                else:
                    high, self.pos = pattern[high_at], high_at + 1
                if high < low:
                    raise self._fail(
                        f"is invalid: bad character range {low}-{high}", at=start
                    )
                ranges.append((low, high))
                last_single = False
            else:
                chars.append(char)
                self.pos += 1
                last_single = True
        if self.pos >= len(pattern):
            raise self._fail("'[' is never closed", at=start, hint="add ']'")
        if not chars and not ranges:
            raise self._fail("empty character class '[]'", at=start)
        self.pos += 1  # ']'
        return Char(CharSet(frozenset(chars), tuple(ranges), negate))
