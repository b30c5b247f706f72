"""Email addresses and mobile numbers given for short notices, and the notices sent through GOV.UK Notify
(issue 25): the `contact_point` and `notify_message` tables' SQL.

Addresses arrive and leave encrypted (the caller holds the keys); rows hold no message text, only the template
id, our reference and what happened. Never reads the clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from storage.models import ContactPoint, NotifyMessage


def add_contact(session: Session, participant_id: int, kind: str, address_enc: bytes, *, now: datetime) -> int:
    row = ContactPoint(participant_id=participant_id, kind=kind, address_enc=address_enc, created_at=now)
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[arg-type]


def contacts(session: Session, participant_id: int) -> list[ContactPoint]:
    """Someone's contact points, oldest first."""
    q = select(ContactPoint).where(col(ContactPoint.participant_id) == participant_id).order_by(col(ContactPoint.id))
    return list(session.execute(q).scalars())


def contact(session: Session, contact_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_id)


def remove_contacts(session: Session, participant_id: int, kind: str | None = None) -> int:
    """Remove someone's addresses (one kind, or all); notices not yet sent to them are cancelled. Returns how many."""
    ids = [c.id for c in contacts(session, participant_id) if kind is None or c.kind == kind]
    if not ids:
        return 0
    session.execute(
        update(NotifyMessage)
        .where(col(NotifyMessage.contact_point_id).in_(ids), col(NotifyMessage.status) == "pending")
        .values(status="cancelled", error="address removed")
    )
    result = session.execute(delete(ContactPoint).where(col(ContactPoint.id).in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def queue(
    session: Session, *, participant_id: int, contact_point_id: int, kind: str, template_id: str, notice: str,
    reference: str, now: datetime, not_before: datetime,
) -> int:
    row = NotifyMessage(
        reference=reference, participant_id=participant_id, contact_point_id=contact_point_id, kind=kind,
        template_id=template_id, notice=notice, status="pending", attempts=0, not_before=not_before, created_at=now,
    )
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[arg-type]


def due(session: Session, *, now: datetime, limit: int = 100) -> list[NotifyMessage]:
    """Pending notices whose time has come, oldest first."""
    q = (
        select(NotifyMessage)
        .where(col(NotifyMessage.status) == "pending", col(NotifyMessage.not_before) <= now)
        .order_by(col(NotifyMessage.id))
        .limit(limit)
    )
    return list(session.execute(q).scalars())


def count_between(session: Session, participant_id: int, start: datetime, end: datetime) -> int:
    """Notices to someone planned in [start, end) (for the daily cap), whatever became of them but cancelled."""
    q = select(func.count()).select_from(NotifyMessage).where(
        col(NotifyMessage.participant_id) == participant_id,
        col(NotifyMessage.status) != "cancelled",
        col(NotifyMessage.not_before) >= start,
        col(NotifyMessage.not_before) < end,
    )
    return int(session.execute(q).scalar_one())


def by_reference(session: Session, reference: str) -> NotifyMessage | None:
    return session.execute(select(NotifyMessage).where(col(NotifyMessage.reference) == reference)).scalar_one_or_none()


def mark(
    session: Session, message_id: int, *, status: str, now: datetime, notify_id: str | None = None,
    error: str | None = None, retry_at: datetime | None = None, tried: bool = True,
) -> None:
    """Record what happened to one notice: sent (with Notify's id), refused or failed (with the reason), cancelled,
    or still pending with `retry_at` after a failed try."""
    values: dict[str, object] = {"status": status}
    if tried:
        values["attempts"] = NotifyMessage.attempts + 1
    if notify_id is not None:
        values["notify_id"] = notify_id
    if status == "sent":
        values["sent_at"] = now
    if error is not None:
        values["error"] = error[:200]
    if retry_at is not None:
        values["not_before"] = retry_at
    session.execute(update(NotifyMessage).where(col(NotifyMessage.id) == message_id).values(**values))
