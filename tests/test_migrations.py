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


def test_upgrade_clears_flagged_words_kept_in_plain_text(tmp_path) -> None:
    # Before 0002 a flagged answer's words sat in text_value; the alert has them encrypted, so they go.
    import sqlite3

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "c040572b4159")
    conn = sqlite3.connect(tmp_path / "old.db")  # foreign keys off: answers alone are enough here
    conn.executemany(
        "INSERT INTO answer (submission_id, question_id, value_json, text_value, skipped, quarantined, answered_at)"
        " VALUES (1, ?, 'null', ?, 0, ?, '2026-11-30 10:00:00')",
        [("worried", "words that worried us", 1), ("ordinary", "a meal I like", 0)],
    )
    conn.commit()
    upgrade(url)
    rows = dict(conn.execute("SELECT question_id, text_value FROM answer").fetchall())
    columns = [r[1] for r in conn.execute("PRAGMA table_info(answer)")]
    conn.close()
    assert rows == {"worried": None, "ordinary": "a meal I like"}
    assert "text_enc" in columns
