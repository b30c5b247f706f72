"""Outbound messages waiting to be sent; rows are written in the same transaction as the step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.db import core
from storage.models import OutboxMessage

_ADD = insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


def add(
    session: Session,
    *,
    channel: str,
    payload_json: str,
    now: datetime,
    participant_id: int | None = None,
    inbound_id: int | None = None,
    address_enc: bytes | None = None,
    kind: str = "reply",
    status: str = "pending",
    not_before: datetime | None = None,
) -> int:
    """Queue one message and return its id (ids grow in the order rows are added); `not_before` holds it back
    until then (a notice planned for after quiet hours, bot/reach.py)."""
    # A Core insert on the session's connection: every reply of every inbound message comes through here, and no
    # caller needs an ORM row.
    return core(session).execute(
        _ADD,
        {
            "channel": channel,
            "payload_json": payload_json,
            "participant_id": participant_id,
            "inbound_id": inbound_id,
            "address_enc": address_enc,
            "kind": kind,
            "status": status,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
            "sent_at": now if status == "sent" else None,
        },
    ).inserted_primary_key[0]


def for_inbound(session: Session, inbound_id: int) -> list[OutboxMessage]:
    """Replies produced by one inbound event, in order (to answer a redelivery identically)."""
    return list(
        session.execute(
            select(OutboxMessage).where(OutboxMessage.inbound_id == inbound_id).order_by(OutboxMessage.id)
        ).scalars()
    )


def due(session: Session, channel: str, *, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Pending rows for a channel whose time has come, oldest first."""
    return list(
        session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.channel == channel,
                OutboxMessage.not_before <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).scalars()
    )


def due_ids(session: Session, channel: str, *, now: datetime, limit: int = 100) -> list[int]:
    """Ids of the pending rows for a channel whose time has come, oldest first: the sender's cheap scan, which
    then loads only the rows it does not already hold (see `payloads`)."""
    return list(
        session.execute(
            select(col(OutboxMessage.id))
            .where(
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.channel) == channel,
                col(OutboxMessage.not_before) <= now,
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).scalars()
    )


def payloads(session: Session, ids: list[int]) -> list[tuple[int, bytes | None, str, str]]:
    """(id, encrypted address, payload JSON, kind) of these rows, oldest first, as plain tuples."""
    if not ids:
        return []
    rows = session.execute(
        select(
            col(OutboxMessage.id), col(OutboxMessage.address_enc), col(OutboxMessage.payload_json),
            col(OutboxMessage.kind),
        )
        .where(col(OutboxMessage.id).in_(ids))
        .order_by(col(OutboxMessage.id))
    ).all()
    return [(int(r[0]), r[1], str(r[2]), str(r[3])) for r in rows]


def mark_sent(session: Session, ids: list[int], *, now: datetime) -> None:
    if ids:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status="sent", sent_at=now)  # type: ignore[union-attr]
        )


def postpone(session: Session, row_id: int, *, until: datetime, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(not_before=until, attempts=OutboxMessage.attempts + 1, error=error[:200], claimed_by=None,
                claimed_until=None, sending_at=None)
    )


def mark_dead(session: Session, row_id: int, *, error: str) -> None:
    """Give up on a row that can never be delivered (e.g. the person blocked the bot)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status="dead", attempts=OutboxMessage.attempts + 1, error=error[:200])
    )


def pending_count(session: Session, channel: str | None = None) -> int:
    q = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    if channel:
        q = q.where(OutboxMessage.channel == channel)
    return int(session.execute(q).scalar_one())


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 ... seconds, capped at five minutes."""
    return timedelta(seconds=min(300, 2 ** min(attempts, 9)))


def take_notices(session: Session, participant_id: int, channel: str, *, now: datetime) -> list[OutboxMessage]:
    """Pending notices for someone on a pull-only channel (web chat): returned once, then marked sent."""
    rows = list(
        session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.participant_id == participant_id,
                OutboxMessage.channel == channel,
                OutboxMessage.status == "pending",
                OutboxMessage.inbound_id.is_(None),  # type: ignore[union-attr]
            )
            .order_by(OutboxMessage.id)
        ).scalars()
    )
    mark_sent(session, [r.id for r in rows if r.id is not None], now=now)
    return rows


def notices_between(session: Session, participant_id: int, start: datetime, end: datetime) -> int:
    """How many notices (messages sent first, not replies) someone has had or will have in [start, end), by the
    time each goes out: the daily cap's count (bot/reach.py)."""
    q = select(func.count()).select_from(OutboxMessage).where(
        col(OutboxMessage.participant_id) == participant_id,
        col(OutboxMessage.kind) == "notice",
        col(OutboxMessage.status) != "dead",
        col(OutboxMessage.not_before) >= start,
        col(OutboxMessage.not_before) < end,
    )
    return int(session.execute(q).scalar_one())


def sent_count(session: Session, channel: str) -> int:
    """How many of a channel's rows have been delivered (the benchmark's check that nothing was lost)."""
    q = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == channel, OutboxMessage.status == "sent"
    )
    return int(session.execute(q).scalar_one())


_BLANK = '{"text": "(removed: kept only in locked form)", "layout": "none", "choices": []}'


def blank_sent(session: Session, participant_id: int, kind: str) -> int:
    """Replace the words of someone's delivered rows of one kind (e.g. a statement read back to them)
    once they are no longer needed; rows still waiting to go are left alone. Returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == participant_id,
            OutboxMessage.kind == kind,
            OutboxMessage.status.in_(("sent", "dead")),  # type: ignore[attr-defined]
        )
        .values(payload_json=_BLANK)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- claims: several processes send one outbox (issue 26) ---------------------------------------------------------
#
# A process claims a chat (a participant on a channel; a row without one is a chat of its own) by its oldest due
# pending row, the chat's head, and takes every due pending row of that chat with it, until `claimed_until`; it
# renews its claims while it runs. A chat's later rows are never claimable on their own, so one process at a time
# sends a chat, in order. On PostgreSQL heads are locked with FOR UPDATE SKIP LOCKED, so processes claiming at the
# same moment take different chats instead of waiting for each other; SQLite (one process) runs the same
# statements without the lock clause, under its single writer.


def _free(holder: str, now: datetime, gone: tuple[str, ...]) -> Any:
    """A row nobody else holds: never claimed, its claim ran out, ours, or its holder is known to be gone."""
    cond = or_(
        col(OutboxMessage.claimed_by).is_(None),
        col(OutboxMessage.claimed_until) <= now,
        col(OutboxMessage.claimed_by) == holder,
    )
    return or_(cond, col(OutboxMessage.claimed_by).in_(gone)) if gone else cond


def _due(channel: str, now: datetime) -> Any:
    return and_(
        col(OutboxMessage.status) == "pending",
        col(OutboxMessage.channel) == channel,
        col(OutboxMessage.not_before) <= now,
    )


IN_DOUBT = "in doubt: its send had started when its sender stopped; sent again"


def claim(
    session: Session, channel: str, holder: str, *, now: datetime, until: datetime, limit: int = 100,
    among: list[int] | None = None, gone: tuple[str, ...] = (),
) -> list[tuple[int, bytes | None, str, str, bool, str]]:
    """Claim up to `limit` chats whose head is free (only the chats of the rows `among`, when given) with all their
    due pending rows; returns every row `holder` now holds that way as (id, encrypted address, payload JSON, kind,
    in doubt, council), oldest first (the council says whose keys open the address: bot/crypto). `in doubt`: another
    sender had started sending it and stopped (killed) before marking it sent, so it may have arrived already; it is
    sent again (a repeat rather than a loss) and its error says so."""
    older = aliased(OutboxMessage)
    # The chat's oldest due pending row, as a correlated min() rather than NOT EXISTS: PostgreSQL then always probes
    # ix_outbox_chat with this row's participant. With NOT EXISTS, a table whose statistics predate a broadcast
    # (10,000 rows queued since the last ANALYZE) was planned as an anti-join rescanning every pending row for each
    # pending row: a claim over 10,000 rows took about 40 s instead of 40 ms (bench/broadcast_bench.py).
    first_of_chat = (
        select(func.min(col(older.id)))
        .where(
            col(older.channel) == channel,
            col(older.participant_id) == col(OutboxMessage.participant_id),
            col(older.status) == "pending",
            col(older.not_before) <= now,
        )
        .scalar_subquery()
    )
    heads_q = select(col(OutboxMessage.id), col(OutboxMessage.participant_id)).where(
        _due(channel, now),
        _free(holder, now, gone),
        or_(col(OutboxMessage.participant_id).is_(None), col(OutboxMessage.id) == first_of_chat),
    )
    if among is not None:
        if not among:
            return []
        chats = select(col(OutboxMessage.participant_id)).where(col(OutboxMessage.id).in_(among)).scalar_subquery()
        heads_q = heads_q.where(or_(col(OutboxMessage.id).in_(among), col(OutboxMessage.participant_id).in_(chats)))
    heads = session.execute(
        heads_q.order_by(col(OutboxMessage.id)).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not heads:
        return []
    head_ids = [int(h[0]) for h in heads]
    people = sorted({int(h[1]) for h in heads if h[1] is not None})
    rows_q = select(
        col(OutboxMessage.id), col(OutboxMessage.address_enc), col(OutboxMessage.payload_json),
        col(OutboxMessage.kind), col(OutboxMessage.claimed_by), col(OutboxMessage.sending_at),
        OutboxMessage.council_id,  # type: ignore[attr-defined]  # added by tenancy.own_tables
    ).where(_due(channel, now), _free(holder, now, gone))
    who: Any = col(OutboxMessage.id).in_(head_ids)
    if people:
        who = or_(who, col(OutboxMessage.participant_id).in_(people))
    rows = session.execute(rows_q.where(who).order_by(col(OutboxMessage.id)).with_for_update()).all()
    ids = [int(r[0]) for r in rows]
    doubt = [int(r[0]) for r in rows if r[5] is not None and r[4] != holder]
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(claimed_by=holder, claimed_until=until)
    )
    if doubt:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(doubt)).values(error=IN_DOUBT))
    return [(int(r[0]), r[1], str(r[2]), str(r[3]), int(r[0]) in doubt, str(r[6])) for r in rows]


def renew(session: Session, holder: str, *, now: datetime, until: datetime) -> list[int]:
    """Extend `holder`'s claims that have not run out; returns the ids of the pending rows it still holds."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.claimed_by) == holder,
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.claimed_until) > now,
        )
        .values(claimed_until=until)
        .returning(col(OutboxMessage.id))
    )
    return [int(i) for i in result.scalars()]


def release(session: Session, holder: str, ids: list[int] | None = None) -> None:
    """Give claims up (all of `holder`'s, or these rows), so another process may send them at once."""
    q = update(OutboxMessage).where(col(OutboxMessage.claimed_by) == holder, col(OutboxMessage.status) == "pending")
    if ids is not None:
        q = q.where(col(OutboxMessage.id).in_(ids))
    session.execute(q.values(claimed_by=None, claimed_until=None))


def claimants(session: Session, channel: str, *, now: datetime) -> list[str]:
    """Who holds claims on a channel's pending rows right now (to ask which of them are known to be gone)."""
    q = select(col(OutboxMessage.claimed_by)).distinct().where(
        col(OutboxMessage.status) == "pending",
        col(OutboxMessage.channel) == channel,
        col(OutboxMessage.claimed_until) > now,
    )
    return [str(h) for h in session.execute(q).scalars() if h]


def mark_sending(session: Session, ids: list[int], *, at: datetime) -> None:
    """Record that a send of these rows is starting (committed before the request leaves)."""
    if ids:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(sending_at=at))
