"""One-time download links for a participant's copy of their data: keyed token hashes and times only.

Callers hash tokens (bot.identity) and pass `now`; nothing here reads the clock, knows the key or builds the copy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from storage.db import utc
from storage.models import DataCopyLink


def add(session: Session, *, token_hash: str, participant_id: int, now: datetime, expires_at: datetime) -> None:
    session.add(DataCopyLink(token_hash=token_hash, participant_id=participant_id, created_at=utc(now),
                             expires_at=utc(expires_at)))
    session.flush()


def claim(session: Session, token_hash: str, *, now: datetime) -> int | None:
    """Use a link once: the participant id if it was unused and unexpired (and is now used), else None."""
    row = session.execute(select(DataCopyLink).where(DataCopyLink.token_hash == token_hash)).scalar_one_or_none()
    if row is None or row.used_at is not None or utc(row.expires_at) <= utc(now):  # type: ignore[operator]
        return None
    done = session.execute(
        update(DataCopyLink)
        .where(DataCopyLink.id == row.id, DataCopyLink.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=utc(now))
    )
    return row.participant_id if done.rowcount == 1 else None
