"""Layers import downward only (docs/architecture.md): an AST check of every import.

Imports inside functions count too: a lazy import of a higher layer is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_pachyderm

PACKAGE = Path(airflow_pachyderm.__file__).parent

BASE, DATA, LOGIC, GLUE = 0, 1, 2, 3
LAYER_NAMES = {BASE: "base", DATA: "versioned data", LOGIC: "pipeline logic", GLUE: "Airflow glue"}

# First match wins: a module's dotted name (without the package) -> its layer.
LAYERS: list[tuple[str, int]] = [
    ("lakefs.hook", GLUE),  # the Airflow hook around the client
    ("jobs.cli_", GLUE),  # CLI verbs that run DAGs through Airflow
    ("errors", BASE),
    ("reserved", BASE),
    ("", GLUE),  # the package root: Airflow's provider entry points (lazy imports)
    ("server", DATA),
    ("lakefs", DATA),
    ("spec", LOGIC),
    ("datums", LOGIC),
    ("runners", LOGIC),
    ("jobs", LOGIC),
]
# Third-party packages that belong to one layer: lower layers may not import them.
EXTERNAL = {"airflow": GLUE, "docker": LOGIC, "lakefs_sdk": DATA, "lakefs": DATA}
# Within pipeline logic: what each package must not import (spec and datums know nothing of
# containers, jobs or lakeFS clients; runners nothing of jobs or lakeFS).
FORBIDDEN = {
    "datums": ("spec", "runners", "jobs", "lakefs", "docker", "lakefs_sdk"),
    "spec": ("runners", "jobs", "lakefs.client", "lakefs.hook", "docker", "lakefs_sdk"),
    "runners": ("jobs", "lakefs", "lakefs_sdk"),
    "lakefs": ("server",),
}
# Known exceptions (importer prefix, imported module), each with its reason.
ALLOWED = {
    # Airflow's Docker connection, imported only when a task names one.
    ("runners.client", "airflow"),
    # The version string; the package root imports nothing when loaded.
    ("server.api_config", ""),
}


def layer_of(name: str) -> int:
    """Layer of a module named relative to the package (``jobs.plan``), or of a
    third-party top-level package."""
    for prefix, layer in LAYERS:
        if prefix == "" and name == "":
            return layer
        if prefix and (name == prefix or name.startswith(prefix if prefix.endswith("_")
                                                         else prefix + ".")):
            return layer
    return GLUE  # operators, sensors, triggers, dag_factory, plugins, local, cli, compat


def _imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import of a higher layer, or of a package forbidden to the importer."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        source = _module_name(path, root)
        own = layer_of(source)
        package = source.split(".")[0]
        for imported, line in _imports(path):
            top = imported.split(".")[0]
            if top == "airflow_pachyderm":
                target = imported.removeprefix("airflow_pachyderm").lstrip(".")
                target_layer = layer_of(target)
            elif top in EXTERNAL:
                target, target_layer = top, EXTERNAL[top]
            else:
                continue
            where = f"{path.relative_to(root.parent)}:{line}: {source or 'airflow_pachyderm'}"
            if any(source.startswith(s) and (target == t or (t and target.startswith(t + ".")))
                   for s, t in ALLOWED):
                continue
            if target_layer > own:
                problems.append(
                    f"{where} ({LAYER_NAMES[own]}) imports {imported} ({LAYER_NAMES[target_layer]})"
                )
            elif any(target == bad or target.startswith(bad + ".")
                     for bad in FORBIDDEN.get(package, ())):
                problems.append(f"{where} must not import {imported}")
    return problems


def test_layers_import_downward_only() -> None:
    assert violations() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    fake = tmp_path / "airflow_pachyderm"
    (fake / "datums").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "datums" / "__init__.py").write_text("")
    (fake / "datums" / "bad.py").write_text(
        "def f():\n    from airflow_pachyderm.operators.plan import PlanOperator\n"
    )
    (fake / "spec.py").write_text("from airflow_pachyderm.lakefs.client import LakeFSClient\n")
    found = violations(fake)
    assert any("datums.bad (pipeline logic) imports airflow_pachyderm.operators.plan" in p
               for p in found), found
    assert any("spec must not import airflow_pachyderm.lakefs.client" in p for p in found), found


def test_layers_of_known_modules() -> None:
    assert layer_of("errors") == BASE
    assert layer_of("lakefs.client") == DATA
    assert layer_of("lakefs.hook") == GLUE
    assert layer_of("jobs.lineage") == LOGIC
    assert layer_of("jobs.cli_run") == GLUE
    assert layer_of("plugins.views") == GLUE
    assert layer_of("local.stack") == GLUE
    assert layer_of("dag_factory") == GLUE
