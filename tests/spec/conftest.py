from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_pachyderm.spec.loader import clear_cache


@pytest.fixture(autouse=True)
def _fresh_spec_cache() -> Iterator[None]:
    # Each test sees its files as written now, not as an earlier test left them.
    clear_cache()
    yield
    clear_cache()
