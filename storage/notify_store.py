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


def add_contact(session: Session, participant_id: int, kind: str, address_enc: bytes, *, now: datetime,
                request_id: int | None = None) -> int:
    """Store an address; with `request_id` it is for that one request to be contacted only."""
    row = ContactPoint(participant_id=participant_id, kind=kind, address_enc=address_enc, created_at=now,
                       request_id=request_id)
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[arg-type]


def contacts(session: Session, participant_id: int) -> list[ContactPoint]:
    """Someone's addresses for notices in general (not those given for one request), oldest first."""
    q = (
        select(ContactPoint)
        .where(col(ContactPoint.participant_id) == participant_id, col(ContactPoint.request_id).is_(None))
        .order_by(col(ContactPoint.id))
    )
    return list(session.execute(q).scalars())


def every_address(session: Session, participant_id: int) -> list[ContactPoint]:
    """All of someone's addresses, for notices and for single requests alike (their copy of their data)."""
    q = select(ContactPoint).where(col(ContactPoint.participant_id) == participant_id).order_by(col(ContactPoint.id))
    return list(session.execute(q).scalars())


def for_request(session: Session, request_id: int) -> list[ContactPoint]:
    """The address someone gave for one request to be contacted (none: the reply goes through the bot)."""
    q = select(ContactPoint).where(col(ContactPoint.request_id) == request_id).order_by(col(ContactPoint.id))
    return list(session.execute(q).scalars())


def contact(session: Session, contact_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_id)


def _remove(session: Session, ids: list[int | None]) -> int:
    if not ids:
        return 0
    session.execute(
        update(NotifyMessage)
        .where(col(NotifyMessage.contact_point_id).in_(ids), col(NotifyMessage.status) == "pending")
        .values(status="cancelled", error="address removed")
    )
    result = session.execute(delete(ContactPoint).where(col(ContactPoint.id).in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remove_contacts(session: Session, participant_id: int, kind: str | None = None) -> int:
    """Remove someone's addresses (one kind, or all; not those given for one request); notices not yet sent to
    them are cancelled. Returns how many."""
    return _remove(session, [c.id for c in contacts(session, participant_id) if kind is None or c.kind == kind])


def remove_for_request(session: Session, request_id: int) -> int:
    """The request is closed: the address given for it alone goes."""
    return _remove(session, [c.id for c in for_request(session, request_id)])


def mark_not_working(session: Session, contact_id: int, *, now: datetime) -> bool:
    """Notify can never deliver here: stop using it. True the first time (the person is to be told)."""
    result = session.execute(
        update(ContactPoint)
        .where(col(ContactPoint.id) == contact_id, col(ContactPoint.not_working_at).is_(None))
        .values(not_working_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_told(session: Session, contact_id: int, *, now: datetime) -> None:
    session.execute(update(ContactPoint).where(col(ContactPoint.id) == contact_id).values(told_at=now))


def record_receipt(session: Session, message_id: int, *, receipt: str, now: datetime) -> None:
    """Notify's delivery receipt for one notice (delivered, permanent-failure, temporary-failure ...)."""
    session.execute(
        update(NotifyMessage).where(col(NotifyMessage.id) == message_id).values(receipt=receipt[:30], receipt_at=now)
    )


def awaiting_receipt(
    session: Session, *, sent_after: datetime, sent_before: datetime, limit: int = 100
) -> list[NotifyMessage]:
    """Notices sent in [sent_after, sent_before] with no final receipt yet (none, or Notify still trying), oldest
    first: to poll."""
    q = (
        select(NotifyMessage)
        .where(
            col(NotifyMessage.status) == "sent",
            col(NotifyMessage.notify_id).is_not(None),
            col(NotifyMessage.sent_at) >= sent_after,
            col(NotifyMessage.sent_at) <= sent_before,
            col(NotifyMessage.receipt).is_(None) | col(NotifyMessage.receipt).in_(("sending", "created", "pending")),
        )
        .order_by(col(NotifyMessage.id))
        .limit(limit)
    )
    return list(session.execute(q).scalars())


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


def by_notify_id(session: Session, notify_id: str) -> NotifyMessage | None:
    return session.execute(select(NotifyMessage).where(col(NotifyMessage.notify_id) == notify_id)).scalar_one_or_none()


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
