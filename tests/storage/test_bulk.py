"""Bulk loads (demo and benchmark seeding) leave the database ready for ordinary inserts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from storage import bulk
from storage.db import make_engine, session
from storage.models import Participant


def test_an_ordinary_insert_after_a_bulk_load_gets_a_fresh_id(db_url: str) -> None:
    """On PostgreSQL explicit ids leave the sequence behind; the next join must not collide with a seeded row."""
    engine = make_engine(db_url)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    base = Participant(case_ref="x", created_at=now).model_dump(exclude={"id"})
    with session(engine) as s:
        first = bulk.next_ids(s)["participant"]
        rows = [{**base, "id": first + i, "case_ref": f"SEED{i}"} for i in range(5)]
        assert bulk.insert_many(s, "participant", rows) == 5
        s.commit()
    with session(engine) as s:
        joined = Participant(case_ref="NEW1", created_at=now)
        s.add(joined)
        s.commit()
        assert joined.id == first + 5
        assert len(s.exec(select(Participant)).all()) == 6
