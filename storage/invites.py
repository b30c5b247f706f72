"""Invite codes, link codes and code-attempt counters: keyed hashes and times only, never a code in clear.

Callers hash codes (bot.identity) and pass `now`; nothing here reads the clock or knows the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from storage.db import utc
from storage.models import AttemptCounter, ChannelIdentity, Invite, LinkCode, Participant


@dataclass(frozen=True)
class InviteBatchView:
    """One batch of invites as staff see it: what it grants and how many were used."""

    batch: str
    audience: str
    band: str
    district: str | None
    council: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    total: int
    used: int
    revoked: int


# -- invites ---------------------------------------------------------------------------------------
def add_invite(
    session: Session,
    *,
    code_hash: str,
    batch: str,
    audience: str,
    band: str,
    district: str | None,
    council: str | None,
    expires_at: datetime,
    created_by: str,
    now: datetime,
    council_ref_enc: bytes | None = None,
    language: str | None = None,
    iro_to_enc: bytes | None = None,
    social_worker_to_enc: bytes | None = None,
) -> Invite:
    """Store one invite by the keyed hash of its code (and any council case reference, encrypted)."""
    row = Invite(
        code_hash=code_hash, batch=batch, audience=audience, band=band, district=district, council=council,
        created_by=created_by, created_at=utc(now), expires_at=utc(expires_at), council_ref_enc=council_ref_enc,
        language=language, iro_to_enc=iro_to_enc, social_worker_to_enc=social_worker_to_enc,
    )
    session.add(row)
    session.flush()
    return row


def find_invite(session: Session, code_hash: str) -> Invite | None:
    return session.execute(select(Invite).where(Invite.code_hash == code_hash)).scalar_one_or_none()


def invite_state(invite: Invite, *, now: datetime) -> str:
    """'valid', 'used', 'revoked' or 'expired' at `now`."""
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    if utc(invite.expires_at) <= now:  # type: ignore[operator]
        return "expired"
    return "valid"


def claim_invite(session: Session, invite_id: int, *, now: datetime) -> bool:
    """Mark an invite used; False if someone else used (or staff revoked) it first."""
    result = session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=utc(now))
    )
    return result.rowcount == 1


def carry_to_participant(session: Session, invite: Invite, participant: Participant) -> None:
    """On joining: the participant keeps which invite let them in and its encrypted council reference."""
    participant.invite_id = invite.id
    participant.council_ref_enc = invite.council_ref_enc
    participant.language = invite.language  # issue 24: the bot speaks it from the first message
    participant.iro_to_enc = invite.iro_to_enc  # issue 25: where their review statements go (encrypted)
    participant.social_worker_to_enc = invite.social_worker_to_enc
    session.add(participant)


def revoke_invite(session: Session, code_hash: str, *, now: datetime) -> bool:
    """Cancel one unused invite; False when there is no such unused invite."""
    result = session.execute(
        update(Invite)
        .where(Invite.code_hash == code_hash, Invite.used_at.is_(None), Invite.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utc(now))
    )
    return result.rowcount == 1


def revoke_batch(session: Session, batch: str, *, now: datetime) -> int:
    """Cancel every unused invite of a batch; returns how many."""
    result = session.execute(
        update(Invite)
        .where(Invite.batch == batch, Invite.used_at.is_(None), Invite.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utc(now))
    )
    return int(result.rowcount or 0)


def invite_batches(session: Session, *, limit: int = 100) -> list[InviteBatchView]:
    """Batches newest first, with counts of used and revoked codes."""
    rows = session.execute(
        select(
            Invite.batch, Invite.audience, Invite.band, Invite.district, Invite.council, Invite.created_by,
            func.min(Invite.created_at), func.max(Invite.expires_at), func.count(),
            func.count(Invite.used_at), func.count(Invite.revoked_at),
        )
        .group_by(
            Invite.batch, Invite.audience, Invite.band, Invite.district, Invite.council, Invite.created_by
        )
        .order_by(func.min(Invite.created_at).desc(), Invite.batch)
        .limit(limit)
    ).all()
    return [
        InviteBatchView(r[0], r[1], r[2], r[3], r[4], r[5], utc(r[6]), utc(r[7]), r[8], r[9], r[10])  # type: ignore[arg-type]
        for r in rows
    ]


# -- link codes ------------------------------------------------------------------------------------
def add_link_code(
    session: Session, *, code_hash: str, participant_id: int, expires_at: datetime, now: datetime
) -> LinkCode:
    """Store a fresh link code; any earlier unused code of the same person stops working."""
    unused = LinkCode.used_at.is_(None)  # type: ignore[union-attr]
    session.execute(delete(LinkCode).where(LinkCode.participant_id == participant_id, unused))
    row = LinkCode(
        code_hash=code_hash, participant_id=participant_id, created_at=utc(now),
        expires_at=utc(expires_at),
    )
    session.add(row)
    session.flush()
    return row


def find_link_code(session: Session, code_hash: str) -> LinkCode | None:
    return session.execute(select(LinkCode).where(LinkCode.code_hash == code_hash)).scalar_one_or_none()


def link_code_state(code: LinkCode, *, now: datetime) -> str:
    """'valid', 'used' or 'expired' at `now`."""
    if code.used_at is not None:
        return "used"
    if utc(code.expires_at) <= now:  # type: ignore[operator]
        return "expired"
    return "valid"


def claim_link_code(session: Session, code_id: int, *, now: datetime) -> bool:
    """Mark a link code used; False if it was used first by another delivery."""
    result = session.execute(
        update(LinkCode)
        .where(LinkCode.id == code_id, LinkCode.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=utc(now))
    )
    return result.rowcount == 1


# -- attempt counters ------------------------------------------------------------------------------
def _live(row: AttemptCounter | None, *, now: datetime, window: timedelta) -> bool:
    return row is not None and utc(row.window_start) + window > now  # type: ignore[operator]


def failures(session: Session, key: str, *, now: datetime, window: timedelta) -> int:
    """Failed tries recorded for `key` in the current window."""
    row = session.get(AttemptCounter, key)
    return row.failures if row is not None and _live(row, now=now, window=window) else 0


def window_ends(session: Session, key: str, *, window: timedelta) -> datetime | None:
    """When the current window for `key` closes (aware UTC), or None without a counter."""
    row = session.get(AttemptCounter, key)
    return utc(row.window_start) + window if row is not None else None  # type: ignore[operator]


def note_failure(session: Session, key: str, *, now: datetime, window: timedelta) -> int:
    """Count one failed try for `key`; a new window starts when the old one has passed. Returns the count."""
    row = session.get(AttemptCounter, key)
    if row is None:
        row = AttemptCounter(key=key, window_start=utc(now), failures=0)
    elif not _live(row, now=now, window=window):
        row.window_start, row.failures = utc(now), 0
    row.failures += 1
    session.add(row)
    session.flush()
    return row.failures


def clear_failures(session: Session, key: str) -> None:
    """Forget the counter for `key` (after a successful redemption)."""
    session.execute(delete(AttemptCounter).where(AttemptCounter.key == key))


def purge(session: Session, *, now: datetime, window: timedelta) -> dict[str, int]:
    """Delete counters whose window has passed and link codes that are used or expired."""
    cutoff = utc(now - window)
    counters = session.execute(delete(AttemptCounter).where(AttemptCounter.window_start <= cutoff)).rowcount
    codes = session.execute(
        delete(LinkCode).where((LinkCode.used_at.is_not(None)) | (LinkCode.expires_at <= utc(now)))  # type: ignore[union-attr]
    ).rowcount
    return {"attempt_counters": int(counters or 0), "link_codes": int(codes or 0)}


# -- identities ------------------------------------------------------------------------------------
def rekey_identity(session: Session, old_hash: str, new_hash: str) -> bool:
    """Move one channel identity to a new keyed hash (lazy migration after an identity-key change)."""
    result = session.execute(
        update(ChannelIdentity).where(ChannelIdentity.key_hash == old_hash).values(key_hash=new_hash)
    )
    return result.rowcount == 1


def identity_count(session: Session, participant_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(ChannelIdentity)
            .where(ChannelIdentity.participant_id == participant_id)
        ).scalar_one()
    )


def unlink_identity(session: Session, key_hash: str) -> int | None:
    """Remove one channel identity ("forget this device"); returns whose it was, or None if there was none.

    The participant and their answers stay: only this app or browser no longer reaches them."""
    mine = select(ChannelIdentity).where(ChannelIdentity.key_hash == key_hash)  # type: ignore[arg-type]
    row = session.execute(mine).scalar_one_or_none()
    if row is None:
        return None
    session.delete(row)
    session.flush()
    return int(row.participant_id)


def rejoin_participant(session: Session, invite: Invite, *, now: datetime) -> Participant | None:
    """The person a used invite let in, if they may come back with it: the invite has not run out or been
    cancelled, and no app or browser of theirs is linked any more (they chose "forget this device", or its
    cookie ran out). Otherwise None: a used code never takes over someone's chat."""
    if invite.used_at is None or invite.revoked_at is not None or utc(invite.expires_at) <= now:  # type: ignore[operator]
        return None
    found = select(Participant).where(Participant.invite_id == invite.id)  # type: ignore[arg-type]
    p: Participant | None = session.execute(found).scalars().first()
    if p is None or p.id is None or identity_count(session, p.id) > 0:
        return None
    return p
