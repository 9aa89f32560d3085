"""Addresses of the provider's pages in the Airflow UI, and the tasks' extra links to them.

The pages are served by the provider's Airflow plugin under ``PLUGIN_PREFIX`` of the
api-server (``[api] base_url``): every link to them is built here, so that the routes and
the links cannot drift apart.

- ``/pachyderm/repos/<repo>/commits/<ref>``: one commit, with its provenance
- ``/pachyderm/repos/<repo>/tree/<ref>?path=<dir>``: a commit's tree (no path: the root)
- ``/pachyderm/lineage/<repo>/<ref>?path=<file>``: the provenance graph of a commit or file
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import attrs
from airflow.sdk import BaseOperatorLink

log = logging.getLogger(__name__)
PLUGIN_PREFIX = "/pachyderm"


def ui_base_url() -> str:
    """The api-server's public address (``[api] base_url``), without a trailing slash;
    empty when not configured (links are then relative to the UI's host)."""
    try:
        from airflow.configuration import conf

        return (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    except Exception:  # configuration unavailable (e.g. outside Airflow): relative links
        log.debug("no [api] base_url; relative links")
        return ""


def page_path(route: str, /, **query: object) -> str:
    """A page's address relative to the api-server; empty or None query values are left out."""
    items = {k: str(v) for k, v in query.items() if v is not None and v != ""}
    return PLUGIN_PREFIX + route + ("?" + urlencode(items) if items else "")


def seg(value: str) -> str:
    """One URL path segment."""
    return quote(value, safe="")


def commit_path(repo: str, ref: str) -> str:
    return page_path(f"/repos/{seg(repo)}/commits/{seg(ref)}")


def tree_path(repo: str, ref: str, path: str = "") -> str:
    return page_path(f"/repos/{seg(repo)}/tree/{seg(ref)}", path=path.strip("/") or None)


def lineage_path(repo: str, ref: str, path: str = "", direction: str = "up") -> str:
    return page_path(f"/lineage/{seg(repo)}/{seg(ref)}", path=path or None, direction=direction)


def commits_url(repo: str, ref: str) -> str:
    """The page of one commit of ``repo`` (``ref``: a commit id, branch or tag)."""
    return ui_base_url() + commit_path(repo, ref)


def files_url(repo: str, commit: str, path: str = "") -> str:
    """The files page: the tree of ``repo`` at ``commit``, under ``path`` (a directory)."""
    return ui_base_url() + tree_path(repo, commit, path)


def lineage_url(repo: str, commit: str) -> str:
    """The lineage page of an output commit."""
    return ui_base_url() + lineage_path(repo, commit)


@attrs.define()
class PachydermLink(BaseOperatorLink):
    """An extra link of a pipeline task, to one of the provider's pages.

    The task fills in the address while it runs (``operator.pachyderm_links[key]``);
    Airflow stores what :meth:`get_link` returns when the task finishes and shows it
    as a button on the task instance. A task that stopped before knowing it shows none.

    :param key: which address of the task's ``pachyderm_links`` this link shows.
    :param label: the button's text.
    """

    key: str
    label: str
    operators: ClassVar[list[type]] = []

    @property
    def name(self) -> str:
        return self.label

    @property
    def xcom_key(self) -> str:
        return f"_link_pachyderm_{self.key}"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        links: Mapping[str, str] = getattr(operator, "pachyderm_links", None) or {}
        return links.get(self.key, "")


def input_links(input_names: list[str]) -> tuple[PachydermLink, ...]:
    """One link per input: its commits page at the commit the job read."""
    return tuple(PachydermLink(key=f"input_{name}", label=f"input {name}") for name in input_names)


OUTPUT_LINKS = (
    PachydermLink(key="output_commit", label="output commit"),
    PachydermLink(key="job_files", label="job files"),
    PachydermLink(key="lineage", label="lineage"),
)
