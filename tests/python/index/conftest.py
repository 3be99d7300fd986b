"""The index's backends: every test taking `index_url` runs on SQLite (a file) and on a real
PostgreSQL server (a throwaway cluster for the session, a fresh database per test). Without
PostgreSQL installed the PostgreSQL half is skipped, except in CI (CI=true), where it fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.python.postgres import Cluster, binaries, cluster


@pytest.fixture(scope="session")
def pg() -> Iterator[Cluster]:
    if binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed, and CI must test the index on it: .ci/run installs `postgresql`")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with cluster() as c:
        yield c


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    c: Cluster = request.getfixturevalue("pg")
    return c.new_database()
