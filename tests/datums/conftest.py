"""Fixtures of the datum tests."""

from __future__ import annotations

import pytest
from datums_testing import Repos


@pytest.fixture
def repos() -> Repos:
    return Repos()
