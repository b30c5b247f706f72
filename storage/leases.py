"""Sender leases: at most one process at a time delivers a channel's outbox rows.

A holder renews its lease while it runs; when it stops it releases it, and when it dies the lease runs
out, so a standby process takes over; a successor that can prove the holder is gone takes it over at once
(`take_over`; the proof is the caller's, this module knows no processes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import utc
from storage.models import SenderLease

RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


def acquire(session: Session, channel: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease for `channel`; True when `holder` has it until `now + ttl`.

    It succeeds when nobody holds it, when `holder` already does, or when the last holder's time ran out.
    """
    at = now.astimezone(UTC)
    expires = at + ttl
    renewed = session.execute(
        update(SenderLease)
        .where(
            SenderLease.channel == channel,
            (SenderLease.holder == holder) | (SenderLease.expires_at <= at),  # type: ignore[arg-type]
        )
        .values(holder=holder, expires_at=expires)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(SenderLease(channel=channel, holder=holder, expires_at=expires))
            session.flush()
    except IntegrityError:
        return False  # someone else holds it and their time has not run out
    return True


def take_over(session: Session, channel: str, gone: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take the lease from `gone`, a holder the caller knows is no longer running, without waiting for it to
    run out; False when someone else took or renewed it meanwhile."""
    taken = session.execute(
        update(SenderLease)
        .where(SenderLease.channel == channel, SenderLease.holder == gone)  # type: ignore[arg-type]
        .values(holder=holder, expires_at=now.astimezone(UTC) + ttl)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def release(session: Session, channel: str, holder: str) -> None:
    """Give the lease up now (on a clean stop), so a standby need not wait for it to run out."""
    session.execute(
        update(SenderLease)
        .where(SenderLease.channel == channel, SenderLease.holder == holder)  # type: ignore[arg-type]
        .values(expires_at=RELEASED)
    )


def holder(session: Session, channel: str, *, now: datetime) -> str | None:
    """Who holds the lease for `channel` right now, if anyone."""
    row = session.execute(select(SenderLease).where(SenderLease.channel == channel)).scalar_one_or_none()
    if row is None or utc(row.expires_at) <= now.astimezone(UTC):  # type: ignore[operator]
        return None
    return row.holder
