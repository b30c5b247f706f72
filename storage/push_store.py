"""Web Push subscriptions for the web chat and the neutral pings sent to them (issue 25): the `push_subscription`
and `push_message` tables' SQL.

Subscriptions arrive and leave encrypted (the caller holds the keys) and are found again by a keyed hash of their
endpoint. Pings hold no text, only which waiting web chat notice they announce and what happened. Never reads the
clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from storage.models import OutboxMessage, PushMessage, PushSubscription


def save(session: Session, participant_id: int, endpoint_hash: str, data_enc: bytes, *, now: datetime) -> int:
    """Keep a subscription for someone; the same endpoint again replaces the old one (even someone else's: the
    browser is now theirs)."""
    old = find_by_hash(session, endpoint_hash)
    if old is not None:
        remove(session, [int(old.id or 0)])
    row = PushSubscription(participant_id=participant_id, endpoint_hash=endpoint_hash, data_enc=data_enc,
                           created_at=now)
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[arg-type]


def subscriptions(session: Session, participant_id: int) -> list[PushSubscription]:
    q = (select(PushSubscription).where(col(PushSubscription.participant_id) == participant_id)
         .order_by(col(PushSubscription.id)))
    return list(session.execute(q).scalars())


def get(session: Session, subscription_id: int) -> PushSubscription | None:
    return session.get(PushSubscription, subscription_id)


def find_by_hash(session: Session, endpoint_hash: str) -> PushSubscription | None:
    q = select(PushSubscription).where(col(PushSubscription.endpoint_hash) == endpoint_hash)
    return session.execute(q).scalar_one_or_none()


def remove(session: Session, ids: list[int]) -> int:
    """Delete subscriptions and every ping for them (explicitly: SQLite may not enforce the cascade)."""
    if not ids:
        return 0
    session.execute(delete(PushMessage).where(col(PushMessage.subscription_id).in_(ids)))
    result = session.execute(delete(PushSubscription).where(col(PushSubscription.id).in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remove_all(session: Session, participant_id: int) -> int:
    return remove(session, [int(s.id or 0) for s in subscriptions(session, participant_id)])


def queue_waiting(session: Session, *, channel: str, now: datetime) -> int:
    """One pending ping per subscription for each of the channel's notices that is due and still unread, unless
    that subscription already has one for it. Returns how many were added."""
    waiting = (
        select(col(OutboxMessage.id), col(PushSubscription.id), col(PushSubscription.participant_id))
        .join(PushSubscription, col(PushSubscription.participant_id) == col(OutboxMessage.participant_id))
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.kind) == "notice",
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.inbound_id).is_(None),
            col(OutboxMessage.not_before) <= now,
        )
    )
    known = {(o, s) for o, s in session.execute(
        select(col(PushMessage.outbox_id), col(PushMessage.subscription_id))
        .where(col(PushMessage.outbox_id).in_(waiting.with_only_columns(col(OutboxMessage.id)).scalar_subquery()))
    )}
    added = 0
    for outbox_id, sub_id, participant_id in session.execute(waiting).all():
        if (outbox_id, sub_id) in known:
            continue
        session.add(PushMessage(subscription_id=sub_id, participant_id=participant_id, outbox_id=outbox_id,
                                status="pending", attempts=0, not_before=now, created_at=now))
        added += 1
    session.flush()
    return added


def due(session: Session, *, now: datetime, limit: int = 500) -> list[PushMessage]:
    """Pending pings whose time has come, oldest first."""
    q = (
        select(PushMessage)
        .where(col(PushMessage.status) == "pending", col(PushMessage.not_before) <= now)
        .order_by(col(PushMessage.id))
        .limit(limit)
    )
    return list(session.execute(q).scalars())


def unread(session: Session, outbox_ids: list[int]) -> set[int]:
    """Which of these notices are still waiting to be read in the chat."""
    q = select(col(OutboxMessage.id)).where(col(OutboxMessage.id).in_(outbox_ids),
                                            col(OutboxMessage.status) == "pending")
    return set(session.execute(q).scalars())


def mark(
    session: Session, ids: list[int], *, status: str, now: datetime, error: str | None = None,
    retry_at: datetime | None = None, tried: bool = True,
) -> None:
    """Record what happened to pings: sent, failed or cancelled (with the reason), or still pending with
    `retry_at` (after a failed try, or held through quiet hours with `tried=False`)."""
    if not ids:
        return
    values: dict[str, object] = {"status": status}
    if tried:
        values["attempts"] = PushMessage.attempts + 1
    if status == "sent":
        values["sent_at"] = now
    if error is not None:
        values["error"] = error[:200]
    if retry_at is not None:
        values["not_before"] = retry_at
    session.execute(update(PushMessage).where(col(PushMessage.id).in_(ids)).values(**values))


def touch(session: Session, subscription_id: int, *, now: datetime) -> None:
    session.execute(update(PushSubscription).where(col(PushSubscription.id) == subscription_id)
                    .values(last_sent_at=now))
