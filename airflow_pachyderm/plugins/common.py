"""What the plugin's routes share: the pipelines a user may see, repo permissions, and
the rendering of commits and their provenance."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from airflow_pachyderm.jobs.provenance import Provenance
from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.links import commit_path, lineage_path, tree_path
from airflow_pachyderm.plugins.html import airflow_run_href, e, link, seg, short, url
from airflow_pachyderm.plugins.pipelines import Pipeline, dags_touching, load_pipelines
from airflow_pachyderm.plugins.security import can_read_dag, require_any_dag


def visible_pipelines(user: Any) -> list[Pipeline]:
    """The pipelines whose DAG ``user`` may read."""
    return [p for p in load_pipelines() if can_read_dag(user, p.dag_id)]


def check_repo(user: Any, repo: str) -> list[Pipeline]:
    """All pipelines, after checking that ``user`` may read a DAG writing or reading ``repo``.

    :raises HTTPException: 403 otherwise.
    """
    pipelines = load_pipelines()
    require_any_dag(user, dags_touching(pipelines, repo), f"repository {repo!r}")
    return pipelines


def not_found(exc: NotFoundError) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))


commit_href = commit_path
tree_href = tree_path
lineage_href = lineage_path


def rerun_href(repo: str, commit: str) -> str:
    return url(f"/rerun/{seg(repo)}/{seg(commit)}")


def provenance_of(commit: Any) -> Provenance | None:
    return Provenance.from_metadata(dict(commit.metadata or {}))


def inputs_html(prov: Provenance) -> str:
    return "<br>".join(
        f"{e(item.name)}: " + link(commit_href(item.repo, item.commit),
                                    f"{item.repo}@{short(item.commit)}")
        for item in prov.inputs
    )


def datums_html(prov: Provenance) -> str:
    counts = prov.datums
    parts = [f"{counts.get(k, 0)} {k}" for k in ("processed", "skipped", "failed", "recovered")]
    return e(", ".join(p for p in parts if not p.startswith("0 ")) or "none")


def run_html(prov: Provenance) -> str:
    if not prov.dag_id or not prov.run_id:
        return e(prov.job[:12])
    return link(airflow_run_href(prov.dag_id, prov.run_id), prov.run_id, target="_top")
