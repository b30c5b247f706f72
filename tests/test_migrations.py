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


def test_upgrade_queues_existing_free_text_for_reading(tmp_path) -> None:
    # 0005: free text stored before the "To read" queue existed was never read by anyone: it is queued.
    import sqlite3

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "2f9a6c3d7b15")
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute(
        "INSERT INTO submission (id, participant_id, flow_id, run, status, mode, audience, district,"
        " shared_with_worker, started_at) VALUES (1, NULL, 'good_news', 0, 'started', 'chat', 'young_person',"
        " 'east', 0, '2026-11-30 10:00:00')"
    )
    conn.executemany(
        "INSERT INTO answer (submission_id, question_id, value_json, text_value, text_enc, skipped, quarantined,"
        " answered_at) VALUES (1, ?, ?, ?, ?, 0, ?, '2026-11-30 10:00:00')",
        [("news", "null", "I passed", None, 0), ("worried", "null", None, b"token", 1), ("feeling", "4", None, None, 0)],
    )
    conn.commit()
    upgrade(url)
    rows = conn.execute(
        "SELECT a.question_id, t.district, t.flagged, t.read_at FROM to_read t JOIN answer a ON a.id = t.answer_id"
        " ORDER BY a.question_id"
    ).fetchall()
    conn.close()
    assert rows == [("news", "east", 0, None), ("worried", "east", 1, None)]
