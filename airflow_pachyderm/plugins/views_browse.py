"""Pages to look around: pipelines, repositories, commits, a commit, files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, StreamingResponse

from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.plugins import common
from airflow_pachyderm.plugins.common import (
    check_repo,
    commit_href,
    datums_html,
    inputs_html,
    lineage_href,
    provenance_of,
    rerun_href,
    run_html,
    tree_href,
    visible_pipelines,
)
from airflow_pachyderm.plugins.html import (
    airflow_dag_href,
    airflow_run_href,
    definitions,
    e,
    link,
    page,
    seg,
    short,
    table,
    url,
    when,
)
from airflow_pachyderm.plugins.lakefs_access import lakefs_client
from airflow_pachyderm.plugins.pipelines import Pipeline, pipeline_graph, writer_of
from airflow_pachyderm.plugins.security import CurrentUser, require_any_dag
from airflow_pachyderm.plugins.svg import Node, draw

router = APIRouter()
COMMITS_PER_PAGE = 50
FILES_PER_PAGE = 500
PREVIEW_BYTES = 256 * 1024
PREVIEW_ROWS = 200
RECENT_RUNS = 5


def recent_runs(dag_ids: list[str], limit: int = RECENT_RUNS) -> dict[str, list[Any]]:
    """DAG id -> its newest runs (newest first)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    runs: dict[str, list[Any]] = {}
    with create_session() as session:
        for dag_id in dag_ids:
            rows = session.scalars(
                select(DagRun)
                .where(DagRun.dag_id == dag_id)
                .order_by(DagRun.run_after.desc())
                .limit(limit)
            ).all()
            runs[dag_id] = [
                {"run_id": r.run_id, "state": str(getattr(r.state, "value", r.state))}
                for r in rows
            ]
    return runs


def runs_html(dag_id: str, runs: list[dict[str, str]]) -> str:
    return " ".join(
        link(airflow_run_href(dag_id, r["run_id"]), r["state"], class_=f"state {r['state']}",
             title=r["run_id"], target="_top")
        for r in runs
    ) or '<span class="muted">no runs yet</span>'


def pipelines_graph(pipelines: list[Pipeline]) -> str:
    """Source repositories and pipelines, edges from what is read to who reads it."""
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str, str]] = []
    outputs = {p.output_repo: p for p in pipelines if p.output_repo}
    feeds = pipeline_graph(pipelines)
    for pipeline in pipelines:
        nodes[pipeline.dag_id] = Node(
            pipeline.dag_id, pipeline.name, f"-> {pipeline.output_repo}",
            url(f"/dags/{seg(pipeline.dag_id)}"), "pipeline",
        )
        for item in pipeline.inputs:
            if item.repo in outputs:
                continue  # drawn as the upstream pipeline itself
            key = f"repo:{item.repo}"
            nodes.setdefault(key, Node(key, item.repo, f"repo @{item.branch}",
                                       url(f"/repos/{seg(item.repo)}/commits"), "repo"))
            edges.append((key, pipeline.dag_id, item.key))
        edges += [(pipeline.dag_id, reader, "") for reader in feeds.get(pipeline.dag_id, [])]
    return draw(list(nodes.values()), edges)


def _inputs_cell(pipeline: Pipeline) -> str:
    return "<br>".join(
        f"{e(i.key)}: " + link(url(f"/repos/{seg(i.repo)}/commits", ref=i.branch),
                               f"{i.repo}@{i.branch}") + f" <code>{e(i.glob)}</code>"
        for i in pipeline.inputs
    ) or '<span class="muted">(spec not readable)</span>'


@router.get("/", response_class=HTMLResponse)
def pipelines_page(user: CurrentUser) -> str:
    pipelines = visible_pipelines(user)
    runs = recent_runs([p.dag_id for p in pipelines])
    rows = [
        [
            link(url(f"/dags/{seg(p.dag_id)}"), p.name),
            link(airflow_dag_href(p.dag_id), p.dag_id, target="_top"),
            _inputs_cell(p),
            link(url(f"/repos/{seg(p.output_repo)}/commits", ref=p.output_branch),
                 f"{p.output_repo}@{p.output_branch}") if p.output_repo else "",
            runs_html(p.dag_id, runs.get(p.dag_id, [])),
        ]
        for p in pipelines
    ]
    body = (
        '<section><h2>Who feeds whom</h2><div class="scroll">'
        + pipelines_graph(pipelines) + "</div></section>"
        + "<section><h2>Pipelines</h2>"
        + table(["Pipeline", "DAG", "Inputs", "Output", "Last jobs"], rows, "pipelines")
        + "</section>"
    )
    return page("Pipelines", body, crumbs=[("Pipelines", "")])


@router.get("/dags/{dag_id}", response_class=HTMLResponse)
def pipeline_page(dag_id: str, user: CurrentUser) -> str:
    require_any_dag(user, [dag_id], f"DAG {dag_id!r}")
    pipeline = next((p for p in common.load_pipelines() if p.dag_id == dag_id), None)
    if pipeline is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no pipeline DAG {dag_id!r}")
    runs = recent_runs([dag_id], limit=15)[dag_id]
    body = definitions({
        "Description": e(pipeline.description),
        "DAG": link(airflow_dag_href(dag_id), dag_id, target="_top"),
        "Inputs": _inputs_cell(pipeline),
        "Output": link(url(f"/repos/{seg(pipeline.output_repo)}/commits",
                           ref=pipeline.output_branch),
                       f"{pipeline.output_repo}@{pipeline.output_branch}"),
        "Image": f"<code>{e(pipeline.image)}</code>",
        "Last jobs": runs_html(dag_id, runs),
    })
    return page(f"Pipeline {pipeline.name}", body,
                crumbs=[("Pipelines", url("/")), (pipeline.name, "")])


@router.get("/repos", response_class=HTMLResponse)
def repos_page(user: CurrentUser) -> str:
    pipelines = visible_pipelines(user)
    repos: dict[str, dict[str, list[str]]] = {}
    for p in pipelines:
        if p.output_repo:
            repos.setdefault(p.output_repo, {"by": [], "to": []})["by"].append(p.name)
        for item in p.inputs:
            repos.setdefault(item.repo, {"by": [], "to": []})["to"].append(p.name)
    rows = [
        [
            link(url(f"/repos/{seg(repo)}/commits"), repo),
            e(", ".join(sorted(set(info["by"])))) or '<span class="muted">source data</span>',
            e(", ".join(sorted(set(info["to"])))),
            link(tree_href(repo, "main"), "files"),
        ]
        for repo, info in sorted(repos.items())
    ]
    body = table(["Repository", "Written by", "Read by", ""], rows)
    return page("Repositories", body, crumbs=[("Repositories", "")])


def _branch_select(repo: str, current: str) -> str:
    client = lakefs_client()
    names = [b.id for b in islice(client.list_branches(repo), 200)]
    if current not in names:
        names.insert(0, current)
    options = "".join(
        f'<option value="{e(n)}"{" selected" if n == current else ""}>{e(n)}</option>'
        for n in names
    )
    return (f'<form class="inline" method="get"><label>Branch <select name="ref" '
            f'onchange="this.form.submit()">{options}</select></label></form>')


@router.get("/repos/{repo}/commits", response_class=HTMLResponse)
def commits_page(
    repo: str,
    user: CurrentUser,
    ref: str = "main",
    after: str = Query("", max_length=200),
) -> str:
    pipelines = check_repo(user, repo)
    writer = writer_of(pipelines, repo)
    client = lakefs_client()
    try:
        # First parents: the branch's own line (a job's merge, not also its job branch).
        commits, next_offset = client.log_page(
            repo, ref, after=after, amount=COMMITS_PER_PAGE, first_parent=True
        )
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    rows = []
    for commit in commits:
        prov = provenance_of(commit)
        actions = [link(tree_href(repo, commit.id), "files"),
                   link(lineage_href(repo, commit.id), "lineage")]
        if prov is not None and writer is not None:
            actions.append(link(rerun_href(repo, commit.id), "rerun"))
        rows.append([
            f'<span class="nowrap">{e(when(commit.creation_date))}</span>',
            link(commit_href(repo, commit.id), short(commit.id), class_="commit"),
            e(commit.message),
            run_html(prov) if prov else "",
            inputs_html(prov) if prov else "",
            f"<code>{e(prov.image)}</code>" if prov else "",
            datums_html(prov) if prov else "",
            " ".join(actions),
        ])
    more = (link(url(f"/repos/{seg(repo)}/commits", ref=ref, after=next_offset), "Older ->",
                 class_="next")
            if next_offset else "")
    first = link(url(f"/repos/{seg(repo)}/commits", ref=ref), "<- Newest") if after else ""
    body = (
        _branch_select(repo, ref)
        + table(["Time", "Commit", "Message", "Run", "Input commits", "Image", "Datums", ""],
                rows, "commits")
        + f'<p class="pager">{first} {more}</p>'
    )
    return page(f"Commits of {repo}@{ref}", body,
                crumbs=[("Repositories", url("/repos")), (repo, ""), ("commits", "")])


def downstream_runs(pipelines: list[Pipeline], repo: str, commit: str) -> list[Any]:
    """Output commits of the pipelines that read this commit directly: only their output
    repositories are scanned, back to the commit's date."""
    from airflow_pachyderm.jobs.lineage import downstream

    readers = sorted({p.output_repo for p in pipelines
                      if p.output_repo and any(i.repo == repo for i in p.inputs)})
    if not readers:
        return []
    lineage = downstream(lakefs_client(), repo, commit, depth=1, repos=readers).to_dict()
    root = lineage["root"]
    return [n for n in lineage["nodes"]
            if (n["repo"], n["commit"]) != (root["repo"], root["commit"])]


@router.get("/repos/{repo}/commits/{commit}", response_class=HTMLResponse)
def commit_page(repo: str, commit: str, user: CurrentUser) -> str:
    pipelines = check_repo(user, repo)
    client = lakefs_client()
    try:
        found = client.get_commit(repo, commit)
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    prov = provenance_of(found)
    items = {
        "Commit": f"<code>{e(found.id)}</code>",
        "Time": e(when(found.creation_date)),
        "Message": e(found.message),
        "Committer": e(found.committer),
        "Parents": " ".join(link(commit_href(repo, p), short(p)) for p in found.parents or []),
    }
    if prov is not None:
        items |= {
            "Pipeline": e(prov.pipeline), "Job": f"<code>{e(prov.job)}</code>",
            "Run": run_html(prov), "Input commits": inputs_html(prov),
            "Image": f"<code>{e(prov.image)}</code> {e(prov.image_id[:19])}",
            "Datums": datums_html(prov), "Output branch": e(prov.output_branch),
        }
    readers = downstream_runs(pipelines, repo, found.id)
    used = "<br>".join(
        link(commit_href(n["repo"], n["commit"]), f"{n['repo']}@{short(n['commit'])}")
        + (" " + run_html_from(n) if n.get("pipeline") else "")
        for n in readers
    ) or '<span class="muted">no pipeline has read this commit yet</span>'
    items["Used downstream by"] = used
    actions = [link(tree_href(repo, found.id), "Browse files", class_="button"),
               link(lineage_href(repo, found.id), "Lineage", class_="button")]
    if prov is not None and writer_of(pipelines, repo) is not None:
        actions.append(link(rerun_href(repo, found.id), "Rerun...", class_="button"))
    other = {k: v for k, v in (found.metadata or {}).items()
             if not k.startswith(("pachyderm.", "airflow.", "::"))}
    body = definitions(items) + '<p class="actions">' + " ".join(actions) + "</p>"
    if other:
        body += "<h2>Other metadata</h2>" + definitions({k: e(v) for k, v in other.items()})
    return page(f"Commit {short(found.id)} of {repo}", body, crumbs=[
        ("Repositories", url("/repos")), (repo, url(f"/repos/{seg(repo)}/commits")),
        (short(found.id), "")])


def run_html_from(node: dict[str, Any]) -> str:
    dag_id, run_id = node.get("dag_id"), node.get("run_id")
    if dag_id and run_id:
        return "(" + link(airflow_run_href(dag_id, run_id), run_id, target="_top") + ")"
    return e(f"({node.get('pipeline', '')})")


@router.get("/repos/{repo}/tree/{ref}", response_class=HTMLResponse)
def tree_page(
    repo: str, ref: str, user: CurrentUser, path: str = "", after: str = ""
) -> str:
    check_repo(user, repo)
    client = lakefs_client()
    prefix = path if not path or path.endswith("/") else path + "/"
    try:
        entries = list(islice(
            client.list_objects(repo, ref, prefix=prefix, delimiter="/", after=after),
            FILES_PER_PAGE + 1,
        ))
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    more = len(entries) > FILES_PER_PAGE
    entries = entries[:FILES_PER_PAGE]
    rows = []
    if prefix:
        parent = prefix.rstrip("/").rpartition("/")[0]
        rows.append([link(tree_href(repo, ref, parent and parent + "/"), "../"), "", ""])
    for item in entries:
        name = item.path[len(prefix):]
        if item.path_type == "common_prefix":
            rows.append([link(tree_href(repo, ref, item.path), name, class_="dir"), "", ""])
        else:
            rows.append([
                link(url(f"/repos/{seg(repo)}/blob/{seg(ref)}", path=item.path), name,
                     class_="file"),
                e(f"{item.size_bytes:,}" if item.size_bytes is not None else ""),
                link(url(f"/repos/{seg(repo)}/raw/{seg(ref)}", path=item.path), "download"),
            ])
    pager = (link(url(f"/repos/{seg(repo)}/tree/{seg(ref)}", path=prefix or None,
                      after=entries[-1].path), "More ->")
             if more else "")
    body = table(["Name", "Bytes", ""], rows, "files") + f'<p class="pager">{pager}</p>'
    label = ref if len(ref) < 40 else short(ref)
    return page(f"Files of {repo}@{label}/{prefix}", body, crumbs=[
        ("Repositories", url("/repos")), (repo, url(f"/repos/{seg(repo)}/commits")),
        (label, tree_href(repo, ref)), (prefix or "/", "")])


def csv_table(text: str, limit: int = PREVIEW_ROWS) -> str:
    rows = list(islice(csv.reader(io.StringIO(text)), limit + 1))
    if not rows:
        return '<p class="muted">(empty)</p>'
    body = [[e(c) for c in row] for row in rows[1:limit]]
    note = f'<p class="muted">first {limit} rows</p>' if len(rows) > limit else ""
    return table(rows[0], body, "csv") + note


def preview_html(data: bytes, path: str, size: int) -> str:
    if size > PREVIEW_BYTES:
        return f'<p class="muted">{size:,} bytes: too large to preview; download it.</p>'
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f'<p class="muted">{size:,} bytes of binary data; download it.</p>'
    if path.lower().endswith((".csv", ".tsv")):
        return csv_table(text)
    return f'<pre class="preview">{e(text)}</pre>'


@router.get("/repos/{repo}/blob/{ref}", response_class=HTMLResponse)
def blob_page(repo: str, ref: str, user: CurrentUser, path: str = Query(..., min_length=1)) -> str:
    pipelines = check_repo(user, repo)
    client = lakefs_client()
    try:
        stats = client.stat(repo, ref, path)
        size = int(stats.size_bytes or 0)
        data = client.read_bytes(repo, ref, path) if size <= PREVIEW_BYTES else b""
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    actions = [link(url(f"/repos/{seg(repo)}/raw/{seg(ref)}", path=path), "Download",
                    class_="button")]
    if writer_of(pipelines, repo) is not None:
        actions.append(link(lineage_href(repo, ref, path), "Lineage of this file",
                            class_="button"))
    body = '<p class="actions">' + " ".join(actions) + "</p>" + preview_html(data, path, size)
    label = ref if len(ref) < 40 else short(ref)
    folder = path.rpartition("/")[0]
    return page(f"{repo}@{label}/{path}", body, crumbs=[
        ("Repositories", url("/repos")), (repo, url(f"/repos/{seg(repo)}/commits")),
        (label, tree_href(repo, ref, folder and folder + "/")), (path, "")])


@router.get("/repos/{repo}/raw/{ref}")
def raw_file(repo: str, ref: str, user: CurrentUser,
             path: str = Query(..., min_length=1)) -> StreamingResponse:
    """The object's bytes streamed through the api-server (no lakeFS URL or key leaks)."""
    check_repo(user, repo)
    client = lakefs_client()
    try:
        response = client.open_stream(repo, ref, path)
    except NotFoundError as exc:
        raise common.not_found(exc) from exc

    def chunks() -> Iterator[bytes]:
        try:
            yield from response.stream(64 * 1024)
        finally:
            response.release_conn()

    name = path.rpartition("/")[2].replace('"', "")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    length = response.headers.get("Content-Length")
    if length:
        headers["Content-Length"] = length
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)
