"""Is the database answering? (GET /healthz, issue 26)"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine


def database_ok(engine: Engine) -> bool:
    """True when a `SELECT 1` comes back; False on any error (the database is down or unreachable)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1
    except Exception:
        return False
