"""Staff publication state for topics: published/closed and any date or district overrides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.db import core
from storage.models import TopicPublication

_T = TopicPublication.__table__  # type: ignore[attr-defined]
# Built once, plain columns on the session's connection: read whenever a step shows the menu or topic list.
_WINDOWS = select(_T.c.topic_id, _T.c.status, _T.c.opens, _T.c.closes, _T.c.districts)


def windows(session: Session) -> dict:
    """Every topic's staff override as a TopicWindow-like mapping (imported lazily by the bot)."""
    from bot.topics import TopicWindow

    out = {}
    for row in core(session).execute(_WINDOWS):
        out[row.topic_id] = TopicWindow(
            status=row.status,
            opens=row.opens,
            closes=row.closes,
            districts=tuple(row.districts.split(",")) if row.districts else None,
        )
    return out


def publish(
    session: Session,
    topic_id: str,
    *,
    now: datetime,
    opens: date | None = None,
    closes: date | None = None,
    districts: list[str] | None = None,
    status: str = "published",
) -> TopicPublication:
    row = session.get(TopicPublication, topic_id) or TopicPublication(topic_id=topic_id, updated_at=now)
    row.status = status
    row.opens = opens
    row.closes = closes
    row.districts = ",".join(districts) if districts else None
    row.updated_at = now
    session.add(row)
    return row
