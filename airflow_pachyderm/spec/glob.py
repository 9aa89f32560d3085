"""Syntax check of Pachyderm glob patterns (matching itself lives in ``datums``)."""

from __future__ import annotations

_CLOSERS = {"(": ")", "[": "]", "{": "}"}


class GlobError(ValueError):
    """A glob pattern that Pachyderm would not accept; the message says how to fix it."""


def check_glob(pattern: str) -> int:
    """Validate ``pattern`` and return its number of capture groups ``( )``.

    Capture groups are what ``joinOn``/``groupBy`` refer to as ``$1``, ``$2``...
    """
    if not pattern.startswith("/"):
        raise GlobError(
            f"glob {pattern!r} must start with '/': it is matched from the repo root, "
            f"write {('/' + pattern)!r}"
        )
    stack: list[tuple[str, int]] = []
    groups = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 == len(pattern):
                raise GlobError(f"glob {pattern!r} ends with a lone '\\': escape it as '\\\\'")
            index += 2
            continue
        in_class = bool(stack) and stack[-1][0] == "["
        if in_class:
            if char == "]":
                stack.pop()
        elif char in _CLOSERS:
            if char == "[" and pattern[index + 1 : index + 2] == "]":
                raise GlobError(
                    f"glob {pattern!r} has an empty character class '[]' at character {index + 1}"
                )
            stack.append((char, index))
            if char == "(":
                groups += 1
        elif char in ")]}":
            if not stack or _CLOSERS[stack[-1][0]] != char:
                raise GlobError(
                    f"glob {pattern!r} has an unmatched {char!r} at character {index + 1}"
                )
            stack.pop()
        index += 1
    if stack:
        opener, where = stack[-1]
        raise GlobError(
            f"glob {pattern!r} opens {opener!r} at character {where + 1} and never closes it: "
            f"add {_CLOSERS[opener]!r}"
        )
    return groups
