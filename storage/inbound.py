"""The inbound dedupe ledger: one row per (channel, message id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, func, insert, select
from sqlmodel import Session

from storage.db import core
from storage.models import InboundEvent

# Core statements on the table, built once: this ledger is read and written for every inbound message, and
# plain statements skip the ORM's per-call statement building, entity loading and unit-of-work flush; they run
# on the session's connection (`core`), past the ORM's per-call execution machinery.
_T = InboundEvent.__table__  # type: ignore[attr-defined]
_FIND = select(_T.c.id, _T.c.participant_id, _T.c.outcome).where(
    _T.c.channel == bindparam("channel"), _T.c.message_id == bindparam("message_id")
)
_RECORD = insert(_T)


def find(session: Session, channel: str, message_id: str) -> Row | None:
    """The earlier record of this message (its `id`, `participant_id` and `outcome`), if it was already handled."""
    return core(session).execute(_FIND, {"channel": channel, "message_id": message_id}).first()


def record(
    session: Session, channel: str, message_id: str, *, participant_id: int | None, outcome: str, now: datetime
) -> int:
    """Insert the ledger row and return its id; a concurrent duplicate raises IntegrityError on the unique key."""
    return core(session).execute(
        _RECORD,
        {
            "channel": channel,
            "message_id": message_id,
            "participant_id": participant_id,
            "outcome": outcome,
            "received_at": now,
        },
    ).inserted_primary_key[0]


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(InboundEvent)).scalar_one())
