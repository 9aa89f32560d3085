"""Rules that span several fields of one pipeline (pydantic checks single fields)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from airflow_pachyderm.spec.cron import every_seconds
from airflow_pachyderm.spec.models import Input, PipelineSpec
from airflow_pachyderm.spec.names import env_alias

Path = tuple[str | int, ...]

_KEY_REFERENCE = re.compile(r"\$(\d+)")
_ROLES = {"join": ("joinOn", "join"), "group": ("groupBy", "group")}


def check_spec(spec: PipelineSpec) -> Iterator[tuple[Path, str]]:
    """Yield (field path, message) for every cross-field problem of ``spec``."""
    yield from _check_join_and_group(spec)
    yield from _check_keys_outside_their_combinator(spec)
    yield from _check_unique_names(spec)
    yield from _check_cron_mix(spec)
    yield from _check_container_limits(spec)


# Docker's lower bounds for a container (moby: linuxMinMemory, "Range of CPUs is from 0.01").
MIN_CONTAINER_MEMORY = 6 * 1024 * 1024
MIN_CONTAINER_CPU = 0.01


def _check_container_limits(spec: PipelineSpec) -> Iterator[tuple[Path, str]]:
    limits = spec.resource_limits
    if limits is None:
        return
    if limits.memory is not None and limits.memory < MIN_CONTAINER_MEMORY:
        yield (
            ("resourceLimits", "memory"),
            f"{limits.memory} bytes is below Docker's minimum of 6Mi; give at least '6Mi'",
        )
    if limits.cpu is not None and limits.cpu < MIN_CONTAINER_CPU:
        yield (
            ("resourceLimits", "cpu"),
            f"{limits.cpu} cores is below Docker's minimum of 0.01; give at least '10m'",
        )


def _check_join_and_group(spec: PipelineSpec) -> Iterator[tuple[Path, str]]:
    for path, node in spec.input_nodes():
        if node.kind not in _ROLES:
            continue
        key, verb = _ROLES[node.kind]
        for index, child in enumerate(node.children):
            child_path = (*path, node.kind, index)
            if child.pfs is None:
                yield (
                    child_path,
                    (
                        f"a {verb} combines pfs inputs only, found {child.kind}: move the {verb} "
                        f"inside the {child.kind} instead"
                    ),
                )
                continue
            value = child.pfs.join_on if key == "joinOn" else child.pfs.group_by
            key_path = (*child_path, "pfs", key)
            if value is None:
                yield (
                    key_path,
                    (
                        f"every pfs input of a {verb} needs {key}: capture part of the path in "
                        f'the glob, e.g. glob: "/(*).csv", and write {key}: "$1"'
                    ),
                )
                continue
            yield from _check_key(key_path, key, value, child.pfs.glob, child.pfs.capture_groups)


# joinOn/outerJoin say how a join matches, groupBy how a group gathers: outside one they would
# validate and do nothing (Pachyderm ignores them there), so they are refused.
_KEY_HOMES = (
    ("joinOn", "join_on", "join"),
    ("outerJoin", "outer_join", "join"),
    ("groupBy", "group_by", "group"),
)


def _check_keys_outside_their_combinator(spec: PipelineSpec) -> Iterator[tuple[Path, str]]:
    for path, node in spec.input_nodes():
        if node.pfs is None:
            continue
        # A node's path ends with (kind, index) of its parent: ("input", "join", 0).
        parent = path[-2] if len(path) >= 3 else None
        for key, attribute, home in _KEY_HOMES:
            if getattr(node.pfs, attribute) and parent != home:
                yield (
                    (*path, "pfs", key),
                    f"{key} is only meaningful inside a {home} input: put this input in a "
                    f"{home}, or remove {key}",
                )


def _check_key(path: Path, key: str, value: str, glob: str, groups: int) -> Iterator[tuple]:
    references = [int(number) for number in _KEY_REFERENCE.findall(value)]
    if not references:
        yield (
            path,
            (
                f"{key} {value!r} refers to no capture group: write $1 for the first '( )' of the "
                f"glob {glob!r}"
            ),
        )
        return
    for number in references:
        if number < 1 or number > groups:
            have = f"has {groups} capture group(s)" if groups else "has no capture group '( )'"
            yield path, f"{key} {value!r} uses ${number} but the glob {glob!r} {have}"
            return


def _check_unique_names(spec: PipelineSpec) -> Iterator[tuple[Path, str]]:
    # Two inputs may share a name only if they never meet in one datum, i.e. when they are
    # in different branches of a union (Pachyderm's way of treating two repos alike).
    # Names are compared as the environment variables they become ('c-x' is also 'c_x').
    nodes = dict(spec.input_nodes())
    seen: dict[str, list[tuple[Path, str]]] = {}
    for path, node in nodes.items():
        for kind, leaf in (("pfs", node.pfs), ("cron", node.cron)):
            if leaf is None:
                continue
            variable = env_alias(leaf.name) or leaf.name
            clash = next(
                (
                    (other, other_name)
                    for other, other_name in seen.get(variable, [])
                    if not _union_apart(nodes, path, other)
                ),
                None,
            )
            seen.setdefault(variable, []).append((path, leaf.name))
            if clash is None:
                continue
            line, _column = spec.locate(clash[0])
            same = clash[1] == leaf.name
            what = (
                f"input name {leaf.name!r} is already used (line {line})"
                if same
                else f"input names {leaf.name!r} and {clash[1]!r} (line {line}) both give the "
                f"environment variable {variable!r}"
            )
            yield (
                (*path, kind, "name"),
                f"{what}; inputs of one datum need distinct names: set `name:` on one of them",
            )


def _union_apart(nodes: dict[Path, Input], first: Path, second: Path) -> bool:
    common = 0
    while common < min(len(first), len(second)) and first[common] == second[common]:
        common += 1
    # Node paths have odd length: ("input",), ("input", "cross", 0), ...
    ancestor = first[: common if common % 2 else common - 1]
    return nodes[ancestor].kind == "union"


def _check_cron_mix(spec: PipelineSpec) -> Iterator[tuple[Path, str]]:
    # One Airflow timetable holds several cron expressions, but not an interval among them.
    crons = [(path, node.cron) for path, node in spec.input_nodes() if node.cron is not None]
    if len(crons) < 2:
        return
    for path, cron in crons:
        if every_seconds(cron.spec) is not None:
            yield (
                (*path, "cron", "spec"),
                (
                    f"{cron.spec!r} cannot be combined with other cron inputs: with several cron "
                    "inputs write each schedule as a cron expression, e.g. '*/10 * * * *'"
                ),
            )
