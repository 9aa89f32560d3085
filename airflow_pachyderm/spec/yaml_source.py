"""Safe YAML reading that remembers where every value came from.

PyYAML's safe composer builds a node tree with positions; we turn it into plain Python
data ourselves so that each value keeps its line and column, aliases are expanded under a
budget (a "billion laughs" document is refused instead of exhausting memory), and
duplicate keys are reported instead of silently overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from airflow_pachyderm.errors import PipelineSpecError

# Values produced from one document, counting every expansion of an alias; far beyond any
# real spec, far below what hurts.
MAX_VALUES = 100_000
MAX_DEPTH = 64
# Characters of a number: int() refuses over 4300 digits, and no spec needs more than a few.
MAX_NUMBER_CHARS = 100
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

_MERGE_TAG = "tag:yaml.org,2002:merge"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]
Position = tuple[int, int]


class YamlProblem(PipelineSpecError):
    """A document that cannot be read; carries a 1-based position."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


def _norm(part: str | int) -> str | int:
    # `join_on` and `joinOn` name the same field; match either spelling when locating.
    return part.replace("_", "").lower() if isinstance(part, str) else part


@dataclass
class Document:
    """One YAML document as plain data plus the position of each value and key in it."""

    data: Any
    start: Position
    end_index: int
    start_index: int
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    # (start index, end index, column) of shallow nodes: the text of `pipelines:` items.
    spans: dict[Path, tuple[int, int, int]] = field(default_factory=dict)
    problems: list[tuple[Path, int, int, str]] = field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False) -> tuple[Position, int]:
        """Position of ``path`` (of its key when ``key``), and how many parts matched.

        When the path does not exist (a missing field), the nearest existing ancestor is
        used: the mapping that lacks the key.
        """
        normal = tuple(_norm(part) for part in path)
        if key and normal in self.keys:
            return self.keys[normal], len(path)
        for size in range(len(normal), -1, -1):
            found = self.values.get(normal[:size])
            if found is not None:
                return found, size
        return self.start, 0

    def scoped(self, prefix: Path) -> Callable[[Path], Position]:
        """A locator for paths relative to ``prefix`` (a spec inside a `pipelines:` list)."""

        def locate(path: Path) -> Position:
            return self.locate((*prefix, *path))[0]

        return locate


def read_documents(text: str) -> Iterator[Document]:
    """Parse every document of ``text``; raises :class:`YamlProblem` on a syntax error."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        raise _syntax_problem(text, exc) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, 1, f"invalid YAML: {exc}") from None
    except RecursionError:
        # PyYAML's pure-Python composer recurses per level (libyaml stops at 1000 itself).
        raise YamlProblem(
            1, 1, f"invalid YAML: the document nests too deeply (a spec needs {MAX_DEPTH} levels "
            "at most)"
        ) from None
    for node in nodes:
        if node is None:
            continue
        yield _Converter(node).document()


class _Converter:
    def __init__(self, root: Node) -> None:
        self.root = root
        self.count = 0
        self.constructor = SafeConstructor()
        self.doc = Document(
            data=None,
            start=_position(root),
            start_index=root.start_mark.index,
            end_index=root.end_mark.index,
        )

    def document(self) -> Document:
        try:
            self.doc.data = self.value(self.root, (), 0)
        except YamlProblem as exc:
            self.doc.data = None
            self.doc.problems.append(((), exc.line, exc.column, exc.message))
        return self.doc

    def value(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            line, column = _position(node)
            raise YamlProblem(
                line,
                column,
                f"document expands to more than {MAX_VALUES} values (aliases of aliases?); "
                "refusing it",
            )
        if depth > MAX_DEPTH:
            line, column = _position(node)
            raise YamlProblem(
                line, column, f"document nests deeper than {MAX_DEPTH} levels (recursive alias?)"
            )
        self.doc.values.setdefault(tuple(_norm(p) for p in path), _position(node))
        if len(path) == 2:
            self.doc.spans[path] = (
                node.start_mark.index,
                node.end_mark.index,
                node.start_mark.column + 1,
            )
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [
                self.value(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        try:
            return self.scalar(node)
        except YamlProblem as exc:
            # Report the value and go on: the rest of the document may hold more errors.
            self.doc.problems.append((path, exc.line, exc.column, exc.message))
            return None

    def scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            line, column = _position(node)
            raise YamlProblem(line, column, "mapping keys must be plain scalars")
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
            line, column = _position(node)
            raise YamlProblem(
                line,
                column,
                f"number of {len(node.value)} characters is too long (at most "
                f"{MAX_NUMBER_CHARS}); quote it if it is text",
            )
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            line, column = _position(node)
            raise YamlProblem(
                line, column, f"unsupported YAML value: {exc.problem} (only plain YAML is read)"
            ) from None

    def mapping(self, node: MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        seen: dict[Any, Position] = {}
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_sources(value_node))
                continue
            key = self.scalar(key_node)
            if not isinstance(key, (str, int, float, bool)):
                line, column = _position(key_node)
                raise YamlProblem(line, column, "mapping keys must be plain scalars")
            if key in seen:
                line, column = _position(key_node)
                first_line = seen[key][0]
                self.doc.problems.append(
                    (
                        (*path, key),
                        line,
                        column,
                        f"duplicate key {key!r} (first set at line {first_line}); keep one",
                    )
                )
                continue
            seen[key] = _position(key_node)
            self.doc.keys[tuple(_norm(p) for p in (*path, key))] = seen[key]
            result[key] = self.value(value_node, (*path, key), depth + 1)
        # Merged keys (`<<: *base`) never override keys written in the mapping itself.
        for key_node, value_node in merged:
            key = self.scalar(key_node)
            if key in result:
                continue
            self.doc.keys.setdefault(tuple(_norm(p) for p in (*path, key)), _position(key_node))
            result[key] = self.value(value_node, (*path, key), depth + 1)
        return result

    def merge_sources(self, node: Node) -> list[tuple[Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                line, column = _position(source)
                raise YamlProblem(line, column, "'<<' merges mappings only")
            self.count += len(source.value)
            if self.count > MAX_VALUES:
                line, column = _position(source)
                raise YamlProblem(line, column, f"merges expand to more than {MAX_VALUES} values")
            # A source's own keys win over what it merges itself.
            pairs.extend(pair for pair in source.value if pair[0].tag != _MERGE_TAG)
            for key_node, value_node in source.value:
                if key_node.tag == _MERGE_TAG:
                    pairs.extend(self.merge_sources(value_node))
        return pairs


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    context = exc.context or ""
    if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
        context += f" (started at line {exc.context_mark.line + 1})"
    message = ", ".join(part for part in (context, exc.problem) if part)
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        message += "; YAML is indented with spaces, not tabs"
    return YamlProblem(line, column, f"invalid YAML: {message}")


def _position(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)
