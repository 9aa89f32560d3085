"""Pachyderm names -> lakeFS repository names: the one mapping used wherever a repo is named.

Pachyderm repo and pipeline names may hold capitals and ``_`` (``raw_data``, ``Images``);
lakeFS repository ids may not (3 to 63 of ``a-z 0-9 -``). The mapping is:

* lower-case, ``_`` -> ``-``: ``raw_data`` -> ``raw-data``, ``Images`` -> ``images``;
* with a Pachyderm project other than ``default``, the mapped project name and ``-`` go in
  front: project ``staging``, repo ``raw_data`` -> ``staging-raw-data``.

A name that is already a lakeFS name maps to itself. Two different Pachyderm names that map
to one lakeFS repository are an error (see :func:`find_collisions`). The name the user wrote
stays the input's name inside the container and in provenance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from airflow_pachyderm.errors import NameMappingError
from airflow_pachyderm.lakefs.names import REPOSITORY_NAME

# Pachyderm's own rule for repo, pipeline and project names.
PACHYDERM_NAME = re.compile(r"[A-Za-z0-9_-]+")
# A Pachyderm spec template variable left unexpanded: $NAME or ${NAME}.
TEMPLATE_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
DEFAULT_PROJECT = "default"


def template_message(value: str) -> str | None:
    """The refusal for a ``$VAR`` template placeholder in ``value``, or None."""
    match = TEMPLATE_VARIABLE.search(value)
    if match is None:
        return None
    return (
        f"{value!r} holds the template variable {match.group(0)}, which nothing here "
        "substitutes: render the spec first (e.g. `envsubst < spec.json > rendered.json`, "
        "or a Jsonnet/Jinja step) and validate the result"
    )


def check_pachyderm_name(value: str, what: str) -> str:
    """``value`` if it is a valid Pachyderm name; raises :class:`NameMappingError`."""
    template = template_message(value)
    if template is not None:
        raise NameMappingError(template)
    if not PACHYDERM_NAME.fullmatch(value):
        raise NameMappingError(
            f"{value!r} is not a valid Pachyderm {what} name: use letters, digits, '_' and '-'"
        )
    return value


def lakefs_repo_name(name: str, project: str | None = None) -> str:
    """The lakeFS repository of Pachyderm repo (or pipeline) ``name`` in ``project``.

    :param name: the Pachyderm name as written, e.g. ``raw_data``.
    :param project: the Pachyderm project; None or ``default`` adds no prefix.
    :raises NameMappingError: when the result is not a valid lakeFS repository name.
    """
    check_pachyderm_name(name, "repo")
    mapped = _map(name)
    if project is not None and project != DEFAULT_PROJECT:
        check_pachyderm_name(project, "project")
        mapped = f"{_map(project)}-{mapped}"
    if not REPOSITORY_NAME.fullmatch(mapped):
        shown = f"{project}/{name}" if project and project != DEFAULT_PROJECT else name
        raise NameMappingError(
            f"{shown!r} maps to lakeFS repository name {mapped!r}, which lakeFS refuses: "
            "it needs 3 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit "
            "(names are lower-cased, '_' becomes '-', a project adds '<project>-')"
        )
    return mapped


def env_alias(input_name: str) -> str | None:
    """The shell-identifier spelling of an input name's variables, or None if not needed.

    ``raw-data`` -> ``raw_data`` (the container gets ``raw_data`` and ``raw_data_COMMIT`` as
    well as ``raw-data`` and ``raw-data_COMMIT``); ``2019`` -> ``_2019``.
    """
    alias = re.sub(r"[^A-Za-z0-9_]", "_", input_name)
    if alias[:1].isdigit():
        alias = "_" + alias
    return None if alias == input_name else alias


def _map(name: str) -> str:
    return name.lower().replace("_", "-")


def find_collisions(named: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Pachyderm names that share one lakeFS repository.

    :param named: (Pachyderm name as written, e.g. ``staging/raw_data``, lakeFS repo) pairs.
    :returns: lakeFS repo -> the distinct Pachyderm names mapping to it, only where there are
        two or more.
    """
    by_repo: dict[str, list[str]] = {}
    for written, repo in named:
        names = by_repo.setdefault(repo, [])
        if written not in names:
            names.append(written)
    return {repo: names for repo, names in by_repo.items() if len(names) > 1}
