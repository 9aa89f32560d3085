"""lakeFS's naming rules, shared by the server, the client side and the spec checks."""

from __future__ import annotations

import re

# Repository ids are DNS-label-like, 3 to 63 characters.
REPOSITORY_NAME = re.compile(r"[a-z0-9][a-z0-9-]{2,62}")
# Branch ids are word characters and dashes, starting with a word character.
BRANCH_NAME = re.compile(r"\w[-\w]*")
# Tags also allow dots (``v1.2``); ref-expression characters (~ ^ @ :) and spaces are out.
TAG_NAME = re.compile(r"\w[-\w.]*")


def branch_uri(repo: str, branch: str) -> str:
    """``lakefs://<repo>/<branch>``: how a branch is named as an Airflow asset (and so in the
    asset events that trigger runs)."""
    return f"lakefs://{repo}/{branch}"
