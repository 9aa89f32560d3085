"""Print every exception class defined in airflow_pachyderm with its bases (one per line).

Used to measure the error tree before/after a refactor:
``python tools/exception_tree.py [--summary]``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "airflow_pachyderm"


def _base_name(node: ast.expr) -> str:
    return ast.unparse(node)


def exception_classes(root: Path = PACKAGE) -> list[tuple[str, str, list[str]]]:
    """Return (module, class, bases) of classes whose name or base looks like an exception.

    A class counts when a base ends in Error/Exception/Warning or is a class already counted.
    """
    defs: list[tuple[str, str, list[str]]] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        module = path.relative_to(root.parent).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                defs.append((module, node.name, [_base_name(b) for b in node.bases]))
    known: set[str] = set()
    found: list[tuple[str, str, list[str]]] = []
    changed = True
    while changed:
        changed = False
        for module, name, bases in defs:
            if (module, name) in {(m, n) for m, n, _ in found}:
                continue
            short = [b.rsplit(".", 1)[-1] for b in bases]
            if any(b.endswith(("Error", "Exception", "Warning")) or b in known for b in short):
                found.append((module, name, bases))
                known.add(name)
                changed = True
    return sorted(found)


def main(argv: list[str]) -> int:
    found = exception_classes()
    if "--summary" not in argv:
        for module, name, bases in found:
            print(f"{module}.{name}({', '.join(bases)})")
    roots: dict[str, int] = {}
    names = {n for _, n, _ in found}
    for _, _, bases in found:
        for b in bases:
            short = b.rsplit(".", 1)[-1]
            if short not in names:
                roots[short] = roots.get(short, 0) + 1
    dupes = sorted({n for _, n, _ in found if sum(1 for _, m, _ in found if m == n) > 1})
    print(f"classes: {len(found)}")
    print(f"outside bases: {dict(sorted(roots.items()))}")
    print(f"duplicate names: {dupes}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
