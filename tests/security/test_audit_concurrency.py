"""Issue 22, item 13: concurrent audit appends never chain to the same previous row (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from bot.crypto import configure_audit
from storage import audit
from storage.db import make_engine, session
from storage.models import AuditEntry
from tests.conftest import make_settings

THREADS = 4
EACH = 15


def test_two_writers_appending_at_once_keep_one_unbroken_chain(db_url: str, tmp_path) -> None:
    configure_audit(make_settings(db_url, tmp_path))
    engines = [make_engine(db_url) for _ in range(THREADS)]  # separate pools: truly concurrent transactions
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with session(engines[n]) as s:
                    audit.record(s, actor=f"w{n}", action="test.append", target=str(i),
                                 now=datetime(2026, 12, 4, 12, tzinfo=UTC))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with session(engines[0]) as s:
            rows = list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
            problems = audit.verify(s)
        assert len(rows) == THREADS * EACH
        prevs = [r.prev_hash for r in rows]
        assert len(set(prevs)) == len(prevs), "two rows chained to the same previous row"
        assert [r.id for r in rows] == list(range(1, THREADS * EACH + 1))
        assert problems == []
    finally:
        for e in engines:
            e.dispose()
