"""Fast bulk inserts for synthetic data (demo and benchmarks): Core executemany in large chunks.

Callers hand over plain dicts with ids already assigned (see `next_ids`), so answers can point at
submissions without a round trip. Not for live traffic: no dedupe, no per-row checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from storage.models import Answer, AnswerChoice, ChannelIdentity, Participant, Submission

TABLES = {
    "participant": Participant,
    "channel_identity": ChannelIdentity,  # a seeded person's chat, for benchmarks that send to them
    "submission": Submission,
    "answer": Answer,
    "answer_choice": AnswerChoice,
}


def next_ids(session: Session) -> dict[str, int]:
    """The first free id of each table synthetic rows go into."""
    out = {}
    for name, model in TABLES.items():
        out[name] = int(session.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()) + 1
    return out


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


@lru_cache(maxsize=65536)
def _sqlite_time(v: datetime) -> str:
    # The form SQLAlchemy itself stores on SQLite: UTC "YYYY-MM-DD HH:MM:SS.ffffff".
    return (v.astimezone(UTC) if v.tzinfo else v).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_rows(part: list[dict[str, Any]], cols: list[str]) -> list[tuple[Any, ...]]:
    """Dict rows as driver tuples; only datetime and bool columns (judged by the first row) are converted."""
    get = itemgetter(*cols)
    first = part[0]
    conv: list[tuple[int, Callable[[Any], Any]]] = []
    for i, c in enumerate(cols):
        v = first[c]
        if isinstance(v, datetime):
            conv.append((i, lambda x: None if x is None else _sqlite_time(x)))
        elif isinstance(v, bool):
            conv.append((i, lambda x: None if x is None else int(x)))
    if len(cols) == 1:
        return [(get(r),) for r in part]
    if not conv:
        return [get(r) for r in part]
    out = []
    for r in part:
        row = list(get(r))
        for i, f in conv:
            row[i] = f(row[i])
        out.append(tuple(row))
    return out


def insert_many(session: Session, table: str, rows: Iterable[dict[str, Any]], *, chunk: int = 20_000) -> int:
    """Insert dict rows (all with the same keys) into a synthetic-data table; returns how many were written.

    On SQLite the rows go straight to the driver's executemany inside the session's transaction (about
    ten times faster than per-row parameter processing); elsewhere through a Core insert.
    """
    model = TABLES[table]
    tbl = model.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    n = 0
    for part in _chunks(rows, chunk):
        if conn.dialect.name == "sqlite":
            cols = list(part[0])
            sql = f"INSERT INTO {tbl.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cur.executemany(sql, _sqlite_rows(part, cols))
            finally:
                cur.close()
        else:
            session.execute(insert(tbl), part)
        n += len(part)
    if n and conn.dialect.name == "postgresql":
        # Explicit ids do not move PostgreSQL's sequence: without this the next ordinary insert (someone
        # joining after `ourvoice demo setup`) would collide with a seeded row.
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{tbl.name}', 'id'), (SELECT max(id) FROM {tbl.name}))"
        )
    return n


@contextmanager
def loading(session: Session) -> Iterator[None]:
    """Around a large load on SQLite: a 64 MB page cache keeps index pages in memory (restored after)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    old = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size=-65536")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(old)}")


def is_empty(session: Session) -> bool:
    """True when no participant and no submission exists yet (safe to seed a demo)."""
    has_p = session.execute(select(Participant.id).limit(1)).first()
    has_s = session.execute(select(Submission.id).limit(1)).first()
    return has_p is None and has_s is None
