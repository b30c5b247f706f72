"""Staff publication state for topics: published/closed and any date or district overrides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.models import TopicPublication


def windows(session: Session) -> dict:
    """Every topic's staff override as a TopicWindow-like mapping (imported lazily by the bot)."""
    from bot.topics import TopicWindow  # noqa: PLC0415

    out = {}
    for row in session.execute(select(TopicPublication)).scalars():
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
