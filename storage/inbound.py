"""The inbound dedupe ledger: one row per (channel, message id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select
from sqlmodel import Session

from storage.models import InboundEvent


def find(session: Session, channel: str, message_id: str) -> Row | None:
    """The earlier record of this message (its `id` and `participant_id`), if it was already handled."""
    # Plain columns, not an ORM object: this runs on every inbound message.
    return session.execute(
        select(InboundEvent.id, InboundEvent.participant_id).where(
            InboundEvent.channel == channel, InboundEvent.message_id == message_id
        )
    ).first()


def record(
    session: Session, channel: str, message_id: str, *, participant_id: int | None, outcome: str, now: datetime
) -> InboundEvent:
    """Insert the ledger row; a concurrent duplicate fails the transaction on the unique key."""
    row = InboundEvent(
        channel=channel, message_id=message_id, participant_id=participant_id, outcome=outcome, received_at=now
    )
    session.add(row)
    session.flush()
    return row


def count(session: Session) -> int:
    from sqlalchemy import func

    return int(session.execute(select(func.count()).select_from(InboundEvent)).scalar_one())
