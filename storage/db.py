"""Database engine and transactions: SQLite by default (WAL, FULL sync, FKs on, secure delete, owner-only
files), PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, create_engine

from storage import councils as _councils  # noqa: F401 - the council table is on the metadata wherever a database is
from storage import tenancy

__all__ = [
    "DatabaseUnavailable",
    "Engine",
    "IntegrityError",
    "Session",
    "checkpoint",
    "core",
    "make_engine",
    "naive_utc",
    "read_session",
    "session",
    "utc",
]

_READ = "ourvoice_read_only"  # execution option marking a read session's connection (see read_session)

# Raised when the database cannot be reached; callers catch this one name.
DatabaseUnavailable = (OperationalError, DBAPIError)


class _NoRowLogging(logging.Filter):
    """SQLAlchemy logs result rows at DEBUG; rows can hold participants' words, so they never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def make_engine(url: str, *, echo: bool = False, busy_timeout: float = 30.0) -> Engine:
    """Create an engine with the pragmas our durability rules need.

    Statement parameters and result rows are kept out of logs (they may contain free text), whatever
    the logging level.
    """
    sa_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoRowLogging) for f in sa_log.filters):
        sa_log.addFilter(_NoRowLogging())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": busy_timeout}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten with zeros, not left readable in free pages (erasure, issue 22).
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")  # SQLite: how long a writer waits
            cur.close()
            # Let SQLAlchemy, not the driver, decide when transactions begin (see _begin below).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Writers take the write lock up front: two readers upgrading to writers would otherwise fail with
            # "database is locked" instead of waiting their turn. A read session (read_session) begins a plain
            # deferred transaction: under WAL it reads a snapshot and never blocks a writer.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READ) else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(
        url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=20
    )
    tenancy.guard(engine)  # every transaction names its council for row-level security (issue 26)
    return engine


def _private_file(path: Path) -> None:
    """Create the SQLite file owner-only (0600) before SQLite opens it; SQLite gives its -wal and -shm files
    the database file's mode. An existing file is tightened to 0600 too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for extra in ("", "-wal", "-shm"):
        f = Path(f"{path}{extra}")
        if f.exists() and f.stat().st_mode & 0o077:
            f.chmod(0o600)


def checkpoint(engine: Engine) -> bool:
    """SQLite: copy the write-ahead log into the database file and truncate the log to nothing, so words deleted
    from the database are not left readable in old log frames. True when the log was fully emptied."""
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        busy, _frames, _done = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cur.close()
        return not busy
    finally:
        raw.close()


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """One read-only transaction (a consistent snapshot) that never holds the write lock: for reports and
    other long reads, so conversations keep committing meanwhile. Always rolled back; never write in it."""
    with Session(engine.execution_options(**{_READ: True}), expire_on_commit=False) as s:
        try:
            yield s
        finally:
            s.rollback()


def core(session: Session) -> Connection:
    """The session's connection, for prebuilt Core statements on the per-message path.

    `session.execute` adds a few microseconds per statement (option merging, ORM event dispatch, bind
    lookup) that plain table statements don't need; its autoflush is kept, so they still see pending
    ORM changes exactly as before.
    """
    if session.autoflush:
        session.flush()
    return session.connection()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def utc(dt: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite: every stored time is UTC, so attach UTC when missing."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def naive_utc(dt: datetime) -> datetime:
    """The form every time is stored in: UTC without tzinfo, identical on SQLite and PostgreSQL."""
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
