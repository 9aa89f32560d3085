"""Server-rendered HTML: the page frame and small escaping helpers (no template engine)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from html import escape

from airflow_pachyderm import links

# One builder of the plugin's addresses, shared with the tasks' extra links.
PREFIX = links.PLUGIN_PREFIX
url = links.page_path
seg = links.seg


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def link(href: str, text: object, **attrs: str) -> str:
    extra = "".join(f' {k.rstrip("_")}="{e(v)}"' for k, v in attrs.items())
    return f'<a href="{e(href)}"{extra}>{e(text)}</a>'


def short(commit: str) -> str:
    return commit[:12]


def when(epoch: int | float | None) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """Cells are HTML already (escape before)."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def definitions(items: Mapping[str, str]) -> str:
    """A <dl>; values are HTML already."""
    return "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in items.items()) + "</dl>"


def page(
    title: str, body: str, *, crumbs: Iterable[tuple[str, str]] = (), script: bool = False
) -> str:
    """A whole page: navigation, breadcrumbs (text, href), body (HTML)."""
    trail = " / ".join(link(href, text) if href else e(text) for text, href in crumbs)
    js = f'<script src="{PREFIX}/static/app.js"></script>' if script else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} - Pachyderm on lakeFS</title>
<link rel="stylesheet" href="{PREFIX}/static/style.css"></head>
<body><header><nav>
<a class="brand" href="{PREFIX}/">Pachyderm pipelines</a>
<a href="{PREFIX}/">Pipelines</a><a href="{PREFIX}/repos">Repositories</a>
<a href="/" target="_top">Airflow</a></nav>
<div class="crumbs">{trail}</div></header>
<main><h1>{e(title)}</h1>
{body}
</main>{js}</body></html>"""


def airflow_run_href(dag_id: str, run_id: str) -> str:
    return f"/dags/{seg(dag_id)}/runs/{seg(run_id)}"


def airflow_dag_href(dag_id: str) -> str:
    return f"/dags/{seg(dag_id)}"
