"""Rerun an output commit: pick each input's commit from its history, trigger the
pipeline's DAG as the logged-in user, follow the run, then diff the result."""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.plugins import common
from airflow_pachyderm.plugins.common import (
    check_repo,
    commit_href,
    provenance_of,
    tree_href,
)
from airflow_pachyderm.plugins.html import (
    PREFIX,
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
from airflow_pachyderm.plugins.pipelines import Pipeline, writer_of
from airflow_pachyderm.plugins.security import CurrentUser, require_trigger, user_token
from airflow_pachyderm.plugins.views_browse import preview_html

router = APIRouter()
# The output_branch Param's pattern (dag_factory.params_for).
BRANCH_PATTERN = re.compile(r"^\w[-\w]*$")
HISTORY = 100
REPROCESS = ("changed", "all", "failed", "datums")
DIFF_PREVIEW_BYTES = 64 * 1024
INTERNAL_PREFIX = "_pachyderm/"  # the datum manifest: listed, not previewed


def rerun_target(user: Any, repo: str, commit: str) -> tuple[Pipeline, Any]:
    """The pipeline writing ``repo`` and the commit, after checking the user may rerun it.

    :raises HTTPException: 403 without read or trigger permission, 404 when the commit is
        missing or no pipeline made it.
    """
    pipelines = check_repo(user, repo)
    pipeline = writer_of(pipelines, repo)
    if pipeline is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no pipeline writes repository {repo!r}")
    require_trigger(user, pipeline.dag_id)
    try:
        found = lakefs_client().get_commit(repo, commit)
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    if provenance_of(found) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"{repo}@{short(found.id)} was not made by a pipeline")
    return pipeline, found


def proposed_branch(repo: str, commit: str) -> str:
    client = lakefs_client()
    for n in range(1, 1000):
        name = f"rerun-{commit[:8]}-{n}"
        if not client.branch_exists(repo, name):
            return name
    return f"rerun-{commit[:8]}"


def branch_problem(repo: str, name: str) -> str:
    """Why ``name`` is not a good new side branch of ``repo`` ("" when it is)."""
    if not BRANCH_PATTERN.match(name):
        return "letters, digits, '_' and '-' only, not starting with '-'"
    if lakefs_client().branch_exists(repo, name):
        return f"branch {name!r} exists in {repo}: the run would add to it"
    return ""


def _option(commit: Any, selected: bool, note: str = "") -> str:
    text = f"{short(commit.id)}  {when(commit.creation_date)[:16]}  {commit.message[:60]}{note}"
    return f'<option value="{e(commit.id)}"{" selected" if selected else ""}>{e(text)}</option>'


def input_select(key: str, repo: str, branch: str, original: str) -> str:
    """A select of the input branch's recent commits; the original one preselected."""
    client = lakefs_client()
    try:
        history, _ = client.log_page(repo, branch, amount=HISTORY, first_parent=True)
    except NotFoundError:
        history = []
    options = [_option(c, c.id == original, " (original)" if c.id == original else "")
               for c in history]
    if all(c.id != original for c in history):
        try:
            options.insert(0, _option(client.get_commit(repo, original), True, " (original)"))
        except NotFoundError:
            options.insert(0, f'<option value="{e(original)}" selected>{e(original)}</option>')
    return (f'<select name="input_{e(key)}" data-input="{e(key)}" '
            f'data-original="{e(original)}">{"".join(options)}</select>')


@router.get("/rerun/{repo}/{commit}", response_class=HTMLResponse)
def rerun_page(repo: str, commit: str, user: CurrentUser) -> str:
    pipeline, found = rerun_target(user, repo, commit)
    prov = provenance_of(found)
    assert prov is not None
    rows = []
    for item in prov.inputs:
        branch = item.branch or next(
            (i.branch for i in pipeline.inputs if i.key == item.name), "main")
        rows.append([
            f"<b>{e(item.name)}</b>",
            e(f"{item.repo}@{branch}"),
            link(commit_href(item.repo, item.commit), short(item.commit)),
            input_select(item.name, item.repo, branch, item.commit),
        ])
    reprocess = "".join(f'<option value="{m}">{m}</option>' for m in REPROCESS)
    form = f"""
<form id="rerun" data-repo="{e(repo)}" data-commit="{e(found.id)}"
      data-dag="{e(pipeline.dag_id)}" data-api="{PREFIX}/api">
{table(["Input", "Reads", "Original", "Commit to use"], rows, "inputs")}
<p><label>Output branch of {e(repo)}
 <input name="output_branch" value="{e(proposed_branch(repo, found.id))}" autocomplete="off"
  required pattern="\\w[-\\w]*"></label> <span id="branch-check" class="hint"></span></p>
<p><label>Reprocess <select name="reprocess">{reprocess}</select></label>
 <label>Datum ids <input name="datums" placeholder="comma-separated ids or prefixes"></label></p>
<p><button type="button" id="rerun-exact">Rerun exactly</button>
 <button type="submit" id="rerun-with">Rerun with the selected commits</button></p>
</form>
<section id="progress" hidden><h2>Run</h2><p id="run-status"></p></section>"""
    head = definitions({
        "Output commit": link(commit_href(repo, found.id), found.id),
        "Made by": e(f"{prov.pipeline} (DAG {pipeline.dag_id}), {when(found.creation_date)}"),
    })
    return page(f"Rerun {repo}@{short(found.id)}", head + form, script=True, crumbs=[
        ("Repositories", url("/repos")), (repo, url(f"/repos/{seg(repo)}/commits")),
        (short(found.id), commit_href(repo, found.id)), ("rerun", "")])


@router.get("/api/branch-check")
def branch_check(user: CurrentUser, repo: str, name: str = Query("", max_length=256)) -> dict:
    check_repo(user, repo)
    problem = branch_problem(repo, name)
    return {"ok": not problem, "problem": problem}


class RerunRequest(BaseModel):
    repo: str
    commit: str
    inputs: dict[str, str] = Field(default_factory=dict)
    output_branch: str
    reprocess: Literal["changed", "all", "failed", "datums"] = "changed"
    datums: str = ""


def rerun_conf(pipeline: Pipeline, body: RerunRequest, inputs: dict[str, str]) -> dict[str, Any]:
    """The run's ``conf``: the trigger Params of every pipeline DAG (dag_factory.params_for)."""
    conf: dict[str, Any] = {f"input_{key}": ref for key, ref in inputs.items()}
    conf |= {"output_branch": body.output_branch, "reprocess": body.reprocess}
    if body.reprocess == "datums":
        conf["datums"] = body.datums
    return conf


def self_url(request: Request) -> str:
    """This api-server as reached from inside: the socket that took the request (a proxy
    in front may know another name)."""
    server = request.scope.get("server")
    if server and server[1]:
        host = server[0] if ":" not in server[0] else f"[{server[0]}]"
        return f"{request.url.scheme}://{host}:{server[1]}"
    return f"{request.url.scheme}://{request.url.netloc}"


@router.post("/api/rerun")
async def rerun(body: RerunRequest, request: Request, user: CurrentUser) -> dict:
    """Trigger the pipeline's DAG through Airflow's REST API with the caller's own token."""
    import httpx
    from starlette.concurrency import run_in_threadpool

    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "JSON only")
    pipeline, found = await run_in_threadpool(rerun_target, user, body.repo, body.commit)
    prov = provenance_of(found)
    assert prov is not None
    known = {item.name: item.commit for item in prov.inputs}
    unknown = sorted(set(body.inputs) - set(known))
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"not inputs of {prov.pipeline}: {', '.join(unknown)}")
    if not BRANCH_PATTERN.match(body.output_branch):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"output_branch {body.output_branch!r}: letters, digits, '_' "
                            "and '-' only, not starting with '-'")
    if body.reprocess == "datums" and not body.datums.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            "reprocess 'datums' needs datum ids")
    inputs = {**known, **body.inputs}
    payload = {"logical_date": None, "conf": rerun_conf(pipeline, body, inputs),
               "note": f"Rerun of {body.repo}@{short(found.id)} into {body.output_branch}"}
    base = self_url(request)
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{base}/api/v2/dags/{seg(pipeline.dag_id)}/dagRuns", json=payload,
            headers={"Authorization": f"Bearer {user_token(request)}"},
        )
    if answer.status_code >= 300:
        raise HTTPException(answer.status_code, f"Airflow refused the run: {answer.text[:500]}")
    run_id = answer.json()["dag_run_id"]
    return {
        "dag_id": pipeline.dag_id, "run_id": run_id, "repo": body.repo,
        "original": found.id, "output_branch": body.output_branch,
        "status_url": url(f"/api/runs/{seg(pipeline.dag_id)}/{seg(run_id)}",
                          repo=body.repo, branch=body.output_branch),
        "run_url": airflow_run_href(pipeline.dag_id, run_id),
    }


def run_state(dag_id: str, run_id: str) -> tuple[str, dict[str, int]]:
    """A run's state and its task instances counted by state."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id,
                                                  DagRun.run_id == run_id))
        if run is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id!r} of {dag_id!r}")
        counts = session.execute(
            select(TaskInstance.state, func.count())
            .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
            .group_by(TaskInstance.state)
        ).all()
        state = str(getattr(run.state, "value", run.state))
    return state, {str(getattr(s, "value", s) or "none"): n for s, n in counts}


def commit_of_run(repo: str, branch: str, run_id: str) -> str:
    """The commit the run wrote on ``branch`` ("" when none yet)."""
    client = lakefs_client()
    try:
        for commit in islice(client.log_commits(repo, branch), 50):
            if (commit.metadata or {}).get("airflow.run_id") == run_id:
                return commit.id
    except NotFoundError:
        return ""
    return ""


@router.get("/api/runs/{dag_id}/{run_id}")
def run_progress(dag_id: str, run_id: str, user: CurrentUser, repo: str, branch: str) -> dict:
    common.require_any_dag(user, [dag_id], f"DAG {dag_id!r}")
    check_repo(user, repo)
    state, tasks = run_state(dag_id, run_id)
    commit = commit_of_run(repo, branch, run_id) if state == "success" else ""
    return {"state": state, "tasks": tasks, "commit": commit,
            "commit_url": commit_href(repo, commit) if commit else ""}


def _side_by_side(repo: str, left: str, right: str, path: str) -> str:
    client = lakefs_client()
    cells = []
    for ref in (left, right):
        try:
            size = int(client.stat(repo, ref, path).size_bytes or 0)
            data = client.read_bytes(repo, ref, path) if size <= DIFF_PREVIEW_BYTES else b""
            cells.append(preview_html(data, path, size))
        except NotFoundError:
            cells.append('<p class="muted">(absent)</p>')
    return (f'<div class="side-by-side"><div><h4>{e(short(left))}</h4>{cells[0]}</div>'
            f'<div><h4>{e(short(right))}</h4>{cells[1]}</div></div>')


@router.get("/diff/{repo}", response_class=HTMLResponse)
def diff_page(repo: str, user: CurrentUser, left: str, right: str) -> str:
    check_repo(user, repo)
    client = lakefs_client()
    try:
        a, b = client.get_commit(repo, left), client.get_commit(repo, right)
        changes = list(islice(client.diff(repo, a.id, b.id), 2000))
    except NotFoundError as exc:
        raise common.not_found(exc) from exc
    counts = {kind: sum(1 for c in changes if c.type == kind)
              for kind in ("added", "removed", "changed")}
    rows, previews = [], []
    for change in changes:
        if change.path_type != "object":
            continue
        ref = a.id if change.type == "removed" else b.id
        rows.append([
            f'<span class="change {e(change.type)}">{e(change.type)}</span>',
            link(url(f"/repos/{seg(repo)}/blob/{seg(ref)}", path=change.path), change.path),
        ])
        if change.type == "changed" and len(previews) < 10 and not change.path.startswith(
            INTERNAL_PREFIX
        ):
            previews.append(f"<h3>{e(change.path)}</h3>"
                            + _side_by_side(repo, a.id, b.id, change.path))
    head = definitions({
        "Original": link(commit_href(repo, a.id), f"{short(a.id)} {a.message}"),
        "New": link(commit_href(repo, b.id), f"{short(b.id)} {b.message}", id="new-commit"),
        "Summary": e(", ".join(f"{n} {k}" for k, n in counts.items())),
        "Files": link(tree_href(repo, b.id), "browse the new commit"),
    })
    body = (head + "<section><h2>Changed files</h2>"
            + (table(["Change", "Path"], rows, "diff") if rows
               else '<p class="muted">Identical files.</p>')
            + "</section>" + "".join(previews))
    data = json.dumps({"left": a.id, "right": b.id})
    body += f'<script type="application/json" id="diff-data">{e(data)}</script>'
    return page(f"{repo}: {short(a.id)} -> {short(b.id)}", body, crumbs=[
        ("Repositories", url("/repos")), (repo, url(f"/repos/{seg(repo)}/commits")),
        ("diff", "")])
