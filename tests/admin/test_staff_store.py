"""storage.staff and the sign-in flow on SQLite and PostgreSQL: accounts, hashed sessions, attempt counters,
and an audited sign-in plus one audited action through the real app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from admin import services
from storage import audit
from storage import staff as staff_store
from storage.db import make_engine, session
from storage.models import AuditEntry
from tests.admin.conftest import PASSWORD, csrf_of, make_admin
from tests.conftest import fixed_now


@pytest.fixture
def engine(db_url: str) -> Any:
    e = make_engine(db_url)
    yield e
    e.dispose()


def test_accounts_sessions_and_attempts(engine: Any) -> None:
    now = fixed_now()
    with session(engine) as s:
        v = staff_store.create(
            s, username="amy", role="fostering_team", districts=["east", "thanet"], password_hash="h", now=now
        )
        with pytest.raises(staff_store.StaffExists):
            staff_store.create(s, username="amy", role="auditor", districts=[], password_hash="h", now=now)
    with session(engine) as s:
        got = staff_store.by_username(s, "amy")
        assert got is not None
        assert got.districts == ("east", "thanet")
        assert got.created_at == now
        staff_store.create_session(s, id_hash="a" * 64, staff_id=v.id, now=now)
        staff_store.create_session(s, id_hash="b" * 64, staff_id=v.id, now=now - timedelta(hours=9))
    with session(engine) as s:
        sess, acct = staff_store.find_session(s, "a" * 64)  # type: ignore[misc]
        assert acct.username == "amy"
        assert sess.last_seen_at == now
        staff_store.touch_session(s, "a" * 64, now=now + timedelta(minutes=5))
        assert staff_store.prune_sessions(s, created_before=now - timedelta(hours=8), seen_before=now) == 1
    with session(engine) as s:
        assert staff_store.find_session(s, "b" * 64) is None
        assert staff_store.find_session(s, "a" * 64)[0].last_seen_at == now + timedelta(minutes=5)  # type: ignore[index]
        assert staff_store.delete_sessions_of(s, v.id) == 1
    with session(engine) as s:
        for i in range(3):
            staff_store.record_attempt(
                s, username="amy", ip="10.0.0.1", success=False, now=now + timedelta(seconds=i)
            )
        staff_store.record_attempt(
            s, username="amy", ip="10.0.0.1", success=True, now=now + timedelta(seconds=5)
        )
        staff_store.record_attempt(
            s, username="amy", ip="10.0.0.2", success=False, now=now + timedelta(seconds=6)
        )
    with session(engine) as s:
        assert staff_store.failures_for_user(s, "amy", since=now - timedelta(minutes=15)) == 1
        assert staff_store.failures_for_ip(s, "10.0.0.1", since=now - timedelta(minutes=15)) == 3
        assert staff_store.failures_for_ip(s, "10.0.0.1", since=now + timedelta(seconds=2)) == 1
        assert staff_store.prune_attempts(s, before=now + timedelta(seconds=3)) == 3


def test_sign_in_and_an_action_are_audited_on_this_database(db_url: str, tmp_path: Path) -> None:
    admin = make_admin(db_url, tmp_path, None)
    try:
        admin.add_staff("mgr", "participation_manager")
        assert admin.login("mgr").status_code == 303
        page = admin.client.get("/admin/topics/good_foster_carer")
        assert page.status_code == 200
        resp = admin.client.post(
            "/admin/topics/good_foster_carer/publish",
            data={"districts": ["north"], "opens": "2026-12-01", "csrf_token": csrf_of(page.text)},
        )
        assert resp.status_code == 303
        admin.clock.advance(minutes=31)
        assert admin.client.get("/admin/").status_code == 303  # idle timeout on this database too
        with admin.db() as s:
            rows = list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
            assert audit.verify(s) == []
        assert [(r.actor, r.action) for r in rows] == [
            ("test", "staff.add"),
            ("mgr", "login"),
            ("mgr", "topic.publish"),
        ]
        with admin.db() as s:
            assert services.check_credentials(s, "mgr", PASSWORD, ip="x", now=admin.clock.now).ok
    finally:
        admin.client.close()
        admin.rt.engine.dispose()
