"""Participants and their channel identities (keyed hashes and encrypted addresses only)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from storage.models import ChannelIdentity, Participant

_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_case_ref() -> str:
    """A short pseudonymous reference staff can quote without knowing who the person is."""
    return "P-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(7))


# Built once: the lookup runs for every inbound message (only the key hash changes).
_BY_KEY = (
    select(Participant, ChannelIdentity)
    .join(ChannelIdentity, ChannelIdentity.participant_id == Participant.id)
    .where(ChannelIdentity.key_hash == bindparam("key_hash"))
)
_BY_KEY_WITH_ADDRESS = (
    select(Participant, ChannelIdentity.address_enc)
    .join(ChannelIdentity, ChannelIdentity.participant_id == Participant.id)
    .where(ChannelIdentity.key_hash == bindparam("key_hash"))
)


def find_by_key(session: Session, key_hash: str) -> tuple[Participant, ChannelIdentity] | None:
    """Look up a participant by the keyed hash of their channel user id."""
    row = session.execute(_BY_KEY, {"key_hash": key_hash}).first()
    return (row[0], row[1]) if row else None


def find_with_address(session: Session, key_hash: str) -> tuple[Participant, bytes | None] | None:
    """`find_by_key` with just the identity's encrypted address: the dispatcher's lookup, cheaper per message."""
    row = session.execute(_BY_KEY_WITH_ADDRESS, {"key_hash": key_hash}).first()
    return (row[0], row[1]) if row else None


def create(
    session: Session,
    *,
    key_hash: str,
    channel: str,
    address_enc: bytes | None,
    now: datetime,
    audience: str = "young_person",
    band: str | None = None,
    district: str | None = None,
    council: str | None = None,
) -> tuple[Participant, ChannelIdentity]:
    """Create a participant with their first channel identity."""
    p = Participant(
        case_ref=new_case_ref(), audience=audience, band=band, district=district, council=council, created_at=now
    )
    session.add(p)
    session.flush()
    ident = ChannelIdentity(
        participant_id=p.id, channel=channel, key_hash=key_hash, address_enc=address_enc, created_at=now
    )
    session.add(ident)
    session.flush()
    return p, ident


def link_identity(
    session: Session, participant_id: int, *, key_hash: str, channel: str, address_enc: bytes | None, now: datetime
) -> ChannelIdentity:
    """Attach another channel to an existing participant (replacing any identity with that hash)."""
    existing = session.exec(select(ChannelIdentity).where(ChannelIdentity.key_hash == key_hash)).first()
    if existing:
        existing.participant_id = participant_id
        existing.address_enc = address_enc
        session.add(existing)
        return existing
    ident = ChannelIdentity(
        participant_id=participant_id, channel=channel, key_hash=key_hash, address_enc=address_enc, created_at=now
    )
    session.add(ident)
    session.flush()
    return ident


def update_profile(session: Session, participant: Participant, profile: dict[str, str]) -> None:
    """Copy profile fields chosen in a flow (band, audience, district, council) onto the participant."""
    for name in ("band", "audience", "district", "council"):
        if name in profile:
            setattr(participant, name, profile[name])
    session.add(participant)


def addresses(session: Session, participant_id: int) -> list[ChannelIdentity]:
    """Every channel identity a participant has, newest first (for outbound notices)."""
    return list(
        session.exec(
            select(ChannelIdentity)
            .where(ChannelIdentity.participant_id == participant_id)
            .order_by(ChannelIdentity.id.desc())  # type: ignore[union-attr]
        )
    )


def get(session: Session, participant_id: int) -> Participant | None:
    return session.get(Participant, participant_id)
