"""Fixtures shared by the head-end tests: a PostgreSQL server for the session (started here when
MS_TEST_PG names none), and a store URL per test on either database. And Hypothesis without its
per-example deadline: a deadline is a wall-clock assertion, and a busy machine fails it; under
CI, derandomized."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import pg_helpers

settings.register_profile("meterseal", deadline=None)
# CI (.ci/run sets CI=1) makes the same searches every run: a red run then names a finding that
# anyone can replay, never the luck of a draw. Run without CI, each search draws anew.
settings.register_profile("meterseal-ci", deadline=None, derandomize=True, database=None)
settings.load_profile("meterseal-ci" if os.environ.get("CI") else "meterseal")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with pg_helpers.server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    with pg_helpers.fresh_database(pg_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store on each database in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return str(request.getfixturevalue("pg_url"))
