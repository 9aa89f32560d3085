"""A non-backtracking matcher for compiled globs: time linear in the path length.

A backtracking regex engine can take exponential time on nested repetitions such as
``/+(+(a|aa))b`` against a long run of ``a``; anyone who can name a file in an input repo
could then stall planning. Globs are therefore compiled to a small NFA program (Thompson's
construction) and run two ways:

* acceptance through a lazily built DFA: each step is one cached transition, or at worst
  one pass over the program's instructions, so a path of ``n`` characters costs O(n * m)
  for a program of ``m`` instructions, never more;
* capture groups (``$1`` in ``joinOn``/``groupBy``) through a Pike VM, run only on paths
  the DFA accepted; it keeps threads in priority order, so captures are those a
  backtracking engine would report (leftmost, greedy), still in O(n * m). One difference:
  an iteration of ``+( )``/``*( )`` that matches nothing is never taken, where a
  backtracking engine takes one more, empty iteration; which paths match is the same, only
  a capture inside such a group may come out empty instead of holding the last non-empty
  iteration (templates expand both to what they hold).
"""

from __future__ import annotations

from dataclasses import dataclass

# Character matchers: a set of single characters and ranges, possibly negated.


@dataclass(frozen=True)
class CharSet:
    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...] = ()
    negate: bool = False

    def __contains__(self, char: str) -> bool:
        found = char in self.chars or any(low <= char <= high for low, high in self.ranges)
        return found != self.negate


ANY = CharSet(frozenset(), negate=True)
NOT_SLASH = CharSet(frozenset("/"), negate=True)


# AST nodes built by the glob parser.


@dataclass(frozen=True)
class Char:
    charset: CharSet


@dataclass(frozen=True)
class Seq:
    items: tuple


@dataclass(frozen=True)
class Alt:
    branches: tuple


@dataclass(frozen=True)
class Group:
    number: int  # 1-based capture number
    body: object


@dataclass(frozen=True)
class Repeat:
    body: object
    kind: str  # "?", "*" or "+", all greedy


# Instructions: ("char", CharSet) | ("split", preferred, other) | ("jmp", target)
# | ("save", slot) | ("match",)


def compile_program(node: object) -> list[tuple]:
    """Thompson's construction of ``node`` followed by a match instruction."""
    program: list[tuple] = []
    _emit(node, program)
    program.append(("match",))
    return program


def _emit(node: object, program: list[tuple]) -> None:
    if isinstance(node, Char):
        program.append(("char", node.charset))
    elif isinstance(node, Seq):
        for item in node.items:
            _emit(item, program)
    elif isinstance(node, Alt):
        jumps = []
        for index, branch in enumerate(node.branches):
            if index < len(node.branches) - 1:
                split = len(program)
                program.append(None)  # patched below
                _emit(branch, program)
                jumps.append(len(program))
                program.append(None)
                program[split] = ("split", split + 1, len(program))
            else:
                _emit(branch, program)
        for jump in jumps:
            program[jump] = ("jmp", len(program))
    elif isinstance(node, Group):
        program.append(("save", 2 * node.number))
        _emit(node.body, program)
        program.append(("save", 2 * node.number + 1))
    elif isinstance(node, Repeat):
        if node.kind == "+":
            start = len(program)
            _emit(node.body, program)
            program.append(("split", start, len(program) + 1))
        else:
            split = len(program)
            program.append(None)
            _emit(node.body, program)
            if node.kind == "*":
                program.append(("jmp", split))
            program[split] = ("split", split + 1, len(program))
    else:  # pragma: no cover - the parser builds only the nodes above
        raise TypeError(f"unknown glob node {node!r}")


class Machine:
    """Runs one compiled program; cheap to share, caches DFA states as it goes."""

    MAX_STATES = 4096  # cached DFA states before the cache starts over (memory bound)

    def __init__(self, program: list[tuple], groups: int) -> None:
        self.program = program
        self.groups = groups
        self._states: dict[frozenset[int], int] = {}
        self._state_pcs: list[tuple[int, ...]] = []
        self._accepting: list[bool] = []
        self._transitions: dict[tuple[int, str], int] = {}
        self._start = self._state(self._closure((0,)))

    # ---------------------------------------------------------------- acceptance (DFA)

    def accepts(self, text: str) -> bool:
        state = self._start
        transitions = self._transitions
        for char in text:
            following = transitions.get((state, char))
            if following is None:
                following = self._step(state, char)
                if following < 0:  # the cache was reset: start over from a fresh state id
                    return self._accepts_uncached(text)
            state = following
        return self._accepting[state]

    def _accepts_uncached(self, text: str) -> bool:
        pcs = self._closure((0,))
        for char in text:
            pcs = self._closure(self._advance(pcs, char))
            if not pcs:
                return False
        return any(self.program[pc][0] == "match" for pc in pcs)

    def _step(self, state: int, char: str) -> int:
        target = self._closure(self._advance(self._state_pcs[state], char))
        if len(self._states) >= self.MAX_STATES:
            self._states.clear()
            self._state_pcs.clear()
            self._accepting.clear()
            self._transitions.clear()
            self._start = self._state(self._closure((0,)))
            return -1
        following = self._state(target)
        self._transitions[(state, char)] = following
        return following

    def _state(self, pcs: tuple[int, ...]) -> int:
        key = frozenset(pcs)
        found = self._states.get(key)
        if found is None:
            found = len(self._state_pcs)
            self._states[key] = found
            self._state_pcs.append(pcs)
            self._accepting.append(any(self.program[pc][0] == "match" for pc in pcs))
        return found

    def _advance(self, pcs: tuple[int, ...], char: str) -> list[int]:
        program = self.program
        return [pc + 1 for pc in pcs if program[pc][0] == "char" and char in program[pc][1]]

    def _closure(self, starts) -> tuple[int, ...]:
        """The ``char``/``match`` instructions reachable without reading a character."""
        threads: list[tuple[int, tuple | None]] = []
        seen: set[int] = set()
        for pc in starts:
            self._add_thread(threads, pc, None, seen)
        return tuple(sorted(pc for pc, _ in threads))

    # ---------------------------------------------------------------- captures (Pike VM)

    def captures(self, text: str) -> list[str | None] | None:
        """Captures 1..groups of a full match of ``text``, or None when it does not match."""
        empty = (None,) * (2 * self.groups + 2)
        threads = self._add_thread([], 0, empty, set())
        for position, char in enumerate(text):
            following: list[tuple[int, tuple]] = []
            seen: set[int] = set()
            for pc, slots in threads:
                op = self.program[pc]
                if op[0] == "char" and char in op[1]:
                    self._add_thread(following, pc + 1, slots, seen, position + 1)
            threads = following
            if not threads:
                return None
        for pc, slots in threads:
            if self.program[pc][0] == "match":
                return [
                    None if slots[2 * n] is None or slots[2 * n + 1] is None
                    else text[slots[2 * n] : slots[2 * n + 1]]
                    for n in range(1, self.groups + 1)
                ]
        return None

    def _add_thread(
        self,
        threads: list,
        pc: int,
        slots: tuple | None,
        seen: set[int],
        position: int = 0,
    ) -> list:
        """Follow epsilon moves from ``pc``, appending the ``char``/``match`` threads reached.

        Depth-first in priority order with an explicit stack (no recursion limit); ``slots``
        None tracks no captures (the DFA's closures).
        """
        stack = [(pc, slots)]
        program = self.program
        while stack:
            pc, slots = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op = program[pc]
            kind = op[0]
            if kind == "split":
                stack.append((op[2], slots))
                stack.append((op[1], slots))
            elif kind == "jmp":
                stack.append((op[1], slots))
            elif kind == "save":
                if slots is not None:
                    changed = list(slots)
                    changed[op[1]] = position
                    slots = tuple(changed)
                stack.append((pc + 1, slots))
            else:
                threads.append((pc, slots))
        return threads
