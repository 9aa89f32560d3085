"""Text renderings of :meth:`airflow_pachyderm.jobs.lineage.Lineage.to_dict`: an indented
tree, a Mermaid flowchart and a Graphviz DOT graph. Pure functions of the dict."""

from __future__ import annotations

from typing import Any

FORMATS = ("tree", "mermaid", "dot")


def _key(ref: dict[str, Any]) -> tuple[str, str]:
    return (ref["repo"], ref["commit"])


def _label(node: dict[str, Any]) -> str:
    head = f"{node['repo']}@{node['commit'][:12]}"
    if node.get("pipeline"):
        datums = node.get("datums") or {}
        return (f"{head}  pipeline {node['pipeline']}, job {str(node.get('job', ''))[:12]}, "
                f"datums processed: {datums.get('processed', 0)}")
    return f"{head}  source data: {node.get('message', '')}"


def render(data: dict[str, Any], fmt: str) -> str:
    """``data`` (a ``Lineage.to_dict()``) as ``tree``, ``mermaid`` or ``dot`` text."""
    if fmt == "tree":
        return render_tree(data)
    if fmt == "mermaid":
        return render_mermaid(data)
    if fmt == "dot":
        return render_dot(data)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def _children(data: dict[str, Any]) -> dict[tuple[str, str], list[tuple[str, tuple]]]:
    upstream = data["direction"] == "upstream"
    children: dict[tuple[str, str], list[tuple[str, tuple]]] = {}
    for edge in data["edges"]:
        parent, child = (edge["output"], edge["input"]) if upstream else (
            edge["input"], edge["output"])
        children.setdefault(_key(parent), []).append((edge["input_name"], _key(child)))
    return children


def render_tree(data: dict[str, Any]) -> str:
    nodes = {_key(n): n for n in data["nodes"]}
    children = _children(data)
    root = _key(data["root"])
    lines: list[str] = []
    file = data.get("file")
    if file:
        lines.append(f"{file['repo']}@{file['commit'][:12]}:{file['path']}")
        if file.get("datum_id"):
            lines.append(f"  datum {file['datum_id']} read:")
            for item in file["inputs"]:
                lines.append(f"    {item['input']}: {item['repo']}@{item['commit'][:12]}:"
                             f"{item['path']}")
        else:
            lines.append("  source data (no pipeline wrote it)")
    lines.append(_label(nodes[root]))
    shown: set[tuple[str, str]] = {root}
    arrow = "<-" if data["direction"] == "upstream" else "->"

    def walk(key: tuple[str, str], indent: str) -> None:
        items = children.get(key, [])
        for index, (name, child) in enumerate(items):
            last = index == len(items) - 1
            branch = "└── " if last else "├── "
            again = child in shown
            suffix = "  (shown above)" if again else ""
            lines.append(f"{indent}{branch}{arrow} {name}: {_label(nodes[child])}{suffix}")
            if not again:
                shown.add(child)
                walk(child, indent + ("    " if last else "│   "))

    walk(root, "")
    if data.get("truncated"):
        lines.append("(stopped at --depth; more lineage beyond)")
    return "\n".join(lines)


def _ids(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {_key(n): f"n{i}" for i, n in enumerate(data["nodes"])}


def render_mermaid(data: dict[str, Any]) -> str:
    ids = _ids(data)
    lines = ["flowchart LR"]
    for node in data["nodes"]:
        what = f"pipeline {node['pipeline']}" if node.get("pipeline") else "source"
        text = f"{node['repo']}@{node['commit'][:12]}<br/>{what}".replace('"', "'")
        lines.append(f'    {ids[_key(node)]}["{text}"]')
    for edge in data["edges"]:
        lines.append(f"    {ids[_key(edge['input'])]} -->|{edge['input_name']}| "
                     f"{ids[_key(edge['output'])]}")
    file = data.get("file")
    if file:
        datum = str(file.get("datum_id") or "-")[:12]
        lines.append(f'    file["{file["path"]}<br/>datum {datum}"]')
        lines.append(f"    {ids[(file['repo'], file['commit'])]} --- file")
        for index, item in enumerate(file["inputs"]):
            lines.append(f'    in{index}["{item["repo"]}@{item["commit"][:12]}:{item["path"]}"]')
            lines.append(f"    in{index} -->|{item['input']}| file")
    return "\n".join(lines)


def _dot_quote(text: str) -> str:
    """A DOT string literal; a newline becomes DOT's ``\\n`` line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def render_dot(data: dict[str, Any]) -> str:
    ids = _ids(data)
    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
    for node in data["nodes"]:
        what = f"pipeline {node['pipeline']}" if node.get("pipeline") else "source"
        label = f"{node['repo']}@{node['commit'][:12]}\n{what}"
        lines.append(f"  {ids[_key(node)]} [label={_dot_quote(label)}];")
    for edge in data["edges"]:
        lines.append(f"  {ids[_key(edge['input'])]} -> {ids[_key(edge['output'])]} "
                     f"[label={_dot_quote(edge['input_name'])}];")
    file = data.get("file")
    if file:
        label = f"{file['path']}\ndatum {str(file.get('datum_id') or '-')[:12]}"
        lines.append(f"  file [shape=note, label={_dot_quote(label)}];")
        lines.append(f"  {ids[(file['repo'], file['commit'])]} -> file [style=dashed];")
        for index, item in enumerate(file["inputs"]):
            text = f"{item['repo']}@{item['commit'][:12]}:{item['path']}"
            lines.append(f"  in{index} [shape=note, label={_dot_quote(text)}];")
            lines.append(f"  in{index} -> file [label={_dot_quote(item['input'])}];")
    lines.append("}")
    return "\n".join(lines)
