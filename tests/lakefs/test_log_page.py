"""One page of a branch's history at a time (the UI's commits page)."""

from __future__ import annotations

import uuid

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig


def test_pages_walk_the_history_once_newest_first(lakefs_server) -> None:
    client = LakeFSClient(LakeFSConfig(lakefs_server.endpoint, lakefs_server.access_key_id,
                                       lakefs_server.secret_access_key))
    repo = f"pages-{uuid.uuid4().hex[:10]}"
    client.create_repository(repo)
    try:
        made = [client.commit(repo, "main", f"c{n}", allow_empty=True).id for n in range(7)]
        seen, after = [], ""
        while True:
            page, after = client.log_page(repo, "main", after=after, amount=3)
            assert len(page) <= 3
            seen += [c.id for c in page]
            if not after:
                break
        assert seen[:7] == made[::-1]
        assert len(seen) == len(set(seen)) == 8  # and the repository's first commit
    finally:
        client.delete_repository(repo, missing_ok=True)
        client.close()
