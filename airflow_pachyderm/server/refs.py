"""Parsing of lakeFS ref expressions: ``main``, ``v1``, ``<commit id or prefix>``, ``main@``,
``main~2``, ``abc123^2``, and chains of ``~N``/``^N`` modifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from airflow_pachyderm.server.errors import BadRequest

_MODIFIER = re.compile(r"([~^])([0-9]*)")
# No history is this deep; bounding digits keeps int() cheap and within its limits.
MAX_MODIFIER_DIGITS = 18
_HEX = re.compile(r"^[0-9a-f]{4,64}$")


@dataclass(frozen=True)
class RefExpression:
    base: str
    committed_only: bool  # the ``@`` suffix: a branch's last commit, without staged changes
    # ("~", n): n-th first-parent ancestor; ("^", n): n-th parent
    modifiers: tuple[tuple[str, int], ...]


def parse_ref(ref: str) -> RefExpression:
    if not ref:
        raise BadRequest("ref must not be empty")
    cut = len(ref)
    for sign in "~^":
        found = ref.find(sign)
        if found != -1:
            cut = min(cut, found)
    base, rest = ref[:cut], ref[cut:]
    committed_only = base.endswith("@")
    if committed_only:
        base = base[:-1]
    if not base or "@" in base:
        raise BadRequest(f"invalid ref {ref!r}")
    modifiers = []
    pos = 0
    while pos < len(rest):
        match = _MODIFIER.match(rest, pos)
        if match is None:
            raise BadRequest(f"invalid ref {ref!r}: bad modifier at {rest[pos:]!r}")
        digits = match.group(2)
        if len(digits) > MAX_MODIFIER_DIGITS:
            raise BadRequest(
                f"invalid ref {ref[:40]!r}...: modifier {match.group(1)} takes at most "
                f"{MAX_MODIFIER_DIGITS} digits"
            )
        modifiers.append((match.group(1), int(digits) if digits else 1))
        pos = match.end()
    return RefExpression(base, committed_only, tuple(modifiers))


def looks_like_commit_id(text: str) -> bool:
    return bool(_HEX.match(text))
