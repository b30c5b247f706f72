"""Alembic migrations produce exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers every table
from storage.db import make_engine
from storage.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def bare_url(request: pytest.FixtureRequest, tmp_path) -> str:
    from tests import conftest

    if request.param == "postgres":
        if not conftest.PG_URL:
            if conftest.REQUIRE_PG:
                pytest.fail("PostgreSQL required but not configured")
            pytest.skip("no PostgreSQL server configured")
        return conftest._postgres_url()
    return f"sqlite:///{tmp_path / 'm.db'}"


def test_upgrade_head_matches_models(bare_url: str) -> None:
    upgrade(bare_url)
    upgrade(bare_url)  # running it again is harmless
    engine = make_engine(bare_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diffs == [], f"models and migrations differ; generate a migration: {diffs[:5]}"
