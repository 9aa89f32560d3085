"""The lineage page: a commit's (or a file's) provenance graph, drawn as SVG."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from airflow_pachyderm.errors import LineageError
from airflow_pachyderm.jobs.lineage import downstream, upstream
from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.plugins import common
from airflow_pachyderm.plugins.common import check_repo, commit_href, lineage_href, tree_href
from airflow_pachyderm.plugins.html import definitions, e, link, page, seg, short, table, url, when
from airflow_pachyderm.plugins.lakefs_access import lakefs_client
from airflow_pachyderm.plugins.pipelines import Pipeline
from airflow_pachyderm.plugins.security import CurrentUser
from airflow_pachyderm.plugins.svg import Node, draw

router = APIRouter()
MAX_DEPTH = 10


def output_repos(pipelines: list[Pipeline]) -> list[str]:
    return sorted({p.output_repo for p in pipelines if p.output_repo})


def _node_label(node: dict[str, Any]) -> tuple[str, str]:
    kind = node.get("pipeline") or "source data"
    return f"{node['repo']}@{short(node['commit'])}", f"{kind}, {when(node['creation_date'])[:16]}"


def graph_svg(lineage: dict[str, Any], direction: str) -> str:
    root = (lineage["root"]["repo"], lineage["root"]["commit"])
    nodes = []
    for node in lineage["nodes"]:
        key = (node["repo"], node["commit"])
        label, sub = _node_label(node)
        nodes.append(Node(
            f"{key[0]}@{key[1]}", label, sub, lineage_href(key[0], key[1], direction=direction),
            "root" if key == root else ("output" if node.get("pipeline") else "repo"),
        ))
    edges = [
        (f"{edge['input']['repo']}@{edge['input']['commit']}",
         f"{edge['output']['repo']}@{edge['output']['commit']}", edge["input_name"])
        for edge in lineage["edges"]
    ]
    return draw(nodes, edges)


def file_html(origin: dict[str, Any]) -> str:
    if not origin.get("datum_id"):
        return "<p>Source data: no pipeline wrote this file.</p>"
    rows = [
        [e(item["input"]),
         link(commit_href(item["repo"], item["commit"]), f"{item['repo']}@{short(item['commit'])}"),
         link(url(f"/repos/{seg(item['repo'])}/blob/{seg(item['commit'])}", path=item["path"]),
              item["path"], class_="input-file")]
        for item in origin["inputs"]
    ]
    return definitions({"Datum": f"<code>{e(origin['datum_id'])}</code>"}) + table(
        ["Input", "Commit", "File read"], rows, "file-inputs")


@router.get("/lineage/{repo}/{ref}", response_class=HTMLResponse)
def lineage_page(
    repo: str,
    ref: str,
    user: CurrentUser,
    path: str = "",
    direction: Literal["up", "down"] = "up",
    depth: int = Query(MAX_DEPTH, ge=1, le=MAX_DEPTH),
) -> str:
    check_repo(user, repo)
    client = lakefs_client()
    try:
        if direction == "up":
            lineage = upstream(client, repo, ref, path=path or None, depth=depth).to_dict()
        else:
            lineage = downstream(client, repo, ref, depth=depth,
                                 repos=output_repos(common.load_pipelines())).to_dict()
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    except LineageError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    root = lineage["root"]
    commit = root["commit"]
    toggles = " ".join([
        link(lineage_href(repo, commit, path, "up"), "Upstream (what it was made from)",
             class_="button" + (" active" if direction == "up" else "")),
        link(lineage_href(repo, commit, direction="down"), "Downstream (what was made from it)",
             class_="button" + (" active" if direction == "down" else "")),
        link(commit_href(repo, commit), "Commit", class_="button"),
        link(tree_href(repo, commit), "Files", class_="button"),
    ])
    rows = []
    for node in lineage["nodes"]:
        r, c = node["repo"], node["commit"]
        rows.append([
            link(commit_href(r, c), f"{r}@{short(c)}", class_="commit"),
            e(node.get("pipeline") or "source data"),
            e(node["message"]),
            e(when(node["creation_date"])),
            link(lineage_href(r, c, direction="up"), "up") + " "
            + link(lineage_href(r, c, direction="down"), "down"),
        ])
    body = f'<p class="actions">{toggles}</p>'
    if lineage.get("file"):
        body += f"<section><h2>File {e(path)}</h2>{file_html(lineage['file'])}</section>"
    body += ('<section><h2>Graph</h2><p class="muted">Click a commit to walk on from it.</p>'
             f'<div class="scroll">{graph_svg(lineage, direction)}</div>')
    if lineage.get("truncated"):
        body += f'<p class="muted">Stopped after {depth} steps.</p>'
    body += "</section><section><h2>Commits</h2>" + table(
        ["Commit", "Pipeline", "Message", "Time", "Walk"], rows, "lineage") + "</section>"
    what = f"{repo}@{short(commit)}" + (f"/{path}" if path else "")
    return page(f"Lineage of {what}", body, crumbs=[
        ("Repositories", url("/repos")), (repo, url(f"/repos/{seg(repo)}/commits")),
        (short(commit), commit_href(repo, commit)), ("lineage", "")])
