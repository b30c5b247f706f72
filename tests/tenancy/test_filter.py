"""The application's own council filter (storage/tenancy.py), on SQLite: once an entry point names a council,
ORM selects (joins and subqueries too), updates and deletes touch only its rows, and new rows are stamped with
it. (SQLite serves one council in production; here two are written directly to see the filter work.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlmodel import col

from storage import tenancy
from storage.db import make_engine, session
from storage.migrate import upgrade
from storage.models import Invite, Participant

NOW = datetime(2026, 12, 1, tzinfo=UTC)
COUNCIL_ID: Any = Participant.council_id  # type: ignore[attr-defined]  # added by storage/tenancy


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    e = make_engine(url)
    for council, ref in (("kent", "K1"), ("borsetshire", "B1")):
        with tenancy.use(council), session(e) as s:
            invite = Invite(code_hash=f"h-{council}", batch=council[:4], audience="young_person", band="teen",
                            created_at=NOW, expires_at=NOW)
            s.add(invite)
            s.flush()
            s.add(Participant(case_ref=ref, created_at=NOW, invite_id=invite.id))
    yield e
    e.dispose()


def test_new_rows_carry_the_current_council(engine: Any) -> None:
    with tenancy.lookup(), session(engine) as s:
        rows = set(s.execute(select(col(Participant.case_ref), COUNCIL_ID)).all())
    assert rows == {("K1", "kent"), ("B1", "borsetshire")}


def test_reads_changes_and_deletes_stay_in_the_council(engine: Any) -> None:
    with tenancy.use("borsetshire"), session(engine) as s:
        assert s.execute(select(col(Participant.case_ref))).scalars().all() == ["B1"]
        assert s.execute(select(func.count()).select_from(Participant)).scalar() == 1
        in_sub = select(col(Participant.case_ref)).where(col(Participant.invite_id).in_(select(col(Invite.id))))
        assert s.execute(in_sub).scalars().all() == ["B1"]
        s.execute(update(Participant).values(band="junior"))
        s.execute(delete(Invite))
    with tenancy.lookup(), session(engine) as s:
        bands: dict[str, str | None] = dict(s.execute(select(col(Participant.case_ref), col(Participant.band))).all())
        batches = s.execute(select(col(Invite.batch))).scalars().all()
    assert bands == {"K1": None, "B1": "junior"}
    assert batches == ["kent"]  # borsetshire's invite deleted, kent's kept


def test_with_the_filter_off_sqlite_has_no_guard(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why SQLite serves one council: without the filter nothing else holds the line (PostgreSQL has RLS)."""
    monkeypatch.setattr(tenancy.APP_FILTER, "on", False)
    with tenancy.use("borsetshire"), session(engine) as s:
        assert sorted(s.execute(select(col(Participant.case_ref))).scalars()) == ["B1", "K1"]
