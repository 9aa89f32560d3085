"""Directed graphs drawn as SVG: layered left to right, every node a link."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from airflow_pachyderm.plugins.html import e

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 210, 46, 70, 18, 10


@dataclass(frozen=True)
class Node:
    """A box: ``id`` unique, two lines of text, a link, an optional CSS class."""

    id: str
    label: str
    sublabel: str = ""
    href: str = ""
    cls: str = ""


def layers(nodes: list[Node], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    """Column of each node: the longest path from a node without incoming edges
    (sources left). Cycles cannot occur in provenance; they are cut if they do."""
    incoming: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in edges:
        incoming[target].append(source)
    column: dict[str, int] = {}

    def depth(node: str, seen: frozenset[str]) -> int:
        if node in column:
            return column[node]
        parents = [p for p in incoming[node] if p not in seen]
        value = 1 + max((depth(p, seen | {node}) for p in parents), default=-1)
        column[node] = value
        return value

    for node in nodes:
        depth(node.id, frozenset())
    # A source sits just left of its nearest reader, so that its edges stay short.
    readers: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in edges:
        readers[source].append(target)
    for node in nodes:
        if not incoming[node.id] and readers[node.id]:
            column[node.id] = max(0, min(column[t] for t in readers[node.id]) - 1)
    return column


def draw(nodes: list[Node], edges: list[tuple[str, str, str]]) -> str:
    """SVG of ``nodes`` and ``edges`` (source id, target id, label), sources on the left."""
    if not nodes:
        return '<p class="muted">Nothing to draw.</p>'
    column = layers(nodes, edges)
    rows: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        rows[column[node.id]].append(node)
    place: dict[str, tuple[int, int]] = {}
    for col, members in rows.items():
        for row, node in enumerate(members):
            place[node.id] = (PAD + col * (NODE_W + GAP_X), PAD + row * (NODE_H + GAP_Y))
    width = PAD * 2 + (max(rows) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(len(m) for m in rows.values()) * (NODE_H + GAP_Y) - GAP_Y
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>",
    ]
    for source, target, label in edges:
        if source not in place or target not in place:
            continue
        (x1, y1), (x2, y2) = place[source], place[target]
        x1, y1, y2 = x1 + NODE_W, y1 + NODE_H // 2, y2 + NODE_H // 2
        mid = (x1 + x2) // 2
        parts.append(
            f'<path class="edge" d="M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}" '
            'marker-end="url(#arrow)"/>'
        )
        if label:
            parts.append(
                f'<text class="edge-label" x="{mid}" y="{(y1 + y2) // 2 - 4}" '
                f'text-anchor="middle">{e(label)}</text>'
            )
    for node in nodes:
        x, y = place[node.id]
        box = (
            f'<g class="node {e(node.cls)}" data-id="{e(node.id)}">'
            f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
            f'<text x="{x + 8}" y="{y + 19}" class="label">{e(node.label[:30])}</text>'
            f'<text x="{x + 8}" y="{y + 36}" class="sublabel">{e(node.sublabel[:34])}</text>'
            "</g>"
        )
        if node.href:
            box = f'<a href="{e(node.href)}">{box}</a>'
        parts.append(box)
    parts.append("</svg>")
    return "".join(parts)
