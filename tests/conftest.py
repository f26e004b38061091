"""Fixtures shared by the head-end tests: a PostgreSQL server for the session (started here when
MS_TEST_PG names none), and a store URL per test on either database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg_helpers


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
