"""Invite actions: create a batch of one-time codes, revoke a batch or one code, and list the batches an
actor may see. Workers and the fostering team invite only into their own districts, and only the
audiences their role covers.

Codes exist only in what `create_invites` returns (storage keeps keyed hashes), so they are shown once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from admin.actions.policy import (
    INVITE_AUDIENCES,
    Actor,
    Forbidden,
    Invalid,
    authorise,
    districts_of,
    record,
    require_scope,
)
from storage import admin_views
from storage import invites as invite_store


def create_invites(
    s: Any,
    keyring: Any,
    actor: Actor,
    *,
    audience: str,
    age_band: str | None,
    district: str | None,
    council: str | None,
    count: int,
    expires_days: int,
    now: datetime,
    public_url: str,
    bot_username: str = "",
    council_ref: str | None = None,
    language: str | None = None,
    iro_email: str | None = None,
    social_worker_email: str | None = None,
) -> tuple[str, list]:
    """Create a batch of one-time invites (audited as invite.create); returns (batch, codes with links).

    A district-scoped actor must choose one of their own districts. `council_ref` (one young person's
    case reference) is stored only encrypted, and so are `iro_email` / `social_worker_email` (where that young
    person's review statements go, issue 25); the audit row says only whether they were given.
    """
    from bot.identity import ROLES as AUDIENCES
    from bot.identity import create_invites as make

    authorise(actor, "invite.create")
    if audience not in AUDIENCES:
        raise Invalid(f"role must be one of {', '.join(AUDIENCES)}")
    if audience not in INVITE_AUDIENCES.get(actor.role, ()):
        raise Forbidden(f"a {actor.role} cannot invite {audience.replace('_', ' ')}s")
    if not actor.all_districts and district not in actor.districts:
        raise Invalid("choose one of your own districts for these invites")
    extra: dict[str, Any] = {"council_ref": council_ref} if council_ref else {}
    if language:
        extra["language"] = language  # issue 24: the language the young person will be spoken to in
    if iro_email:
        extra["iro_email"] = iro_email
    if social_worker_email:
        extra["social_worker_email"] = social_worker_email
    try:
        batch, created = make(
            s,
            keyring,
            role=audience,
            age_band=age_band if audience != "carer" else None,
            district=district or None,
            council=council or None,
            expires_days=expires_days,
            count=count,
            public_url=public_url,
            bot_username=bot_username,
            created_by=actor.username,
            now=now,
            **extra,
        )
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    record(
        s,
        actor,
        "invite.create",
        target=batch,
        detail=f"count={count} audience={audience} district={district or 'any'} expires_days={expires_days}"
        + (" case_ref=yes" if council_ref else "")
        + (" iro_email=yes" if iro_email else "")
        + (" social_worker_email=yes" if social_worker_email else ""),
        now=now,
    )
    return batch, created


def batch_districts(s: Any, batch: str) -> frozenset[str] | None:
    """The districts an invite batch grants (ALL = any district), or None when there is no such batch."""
    found = admin_views.invite_batch_district(s, batch[:16])
    if found is admin_views.MISSING:
        return None
    return districts_of(found if isinstance(found, str) else None)


def revoke_batch(s: Any, actor: Actor, batch: str, *, now: datetime) -> int:
    """Cancel every unused invite in a batch inside the actor's districts (audited as invite.revoke)."""
    authorise(actor, "invite.revoke")
    batch = batch.strip().upper()[:16]
    require_scope(actor, batch_districts(s, batch), f"invite batch {batch}", change=True)
    n = invite_store.revoke_batch(s, batch, now=now)
    record(s, actor, "invite.revoke", target=batch, detail=f"revoked={n}", now=now)
    return n


def revoke_code(s: Any, keyring: Any, actor: Actor, code: str, *, now: datetime) -> int:
    """Cancel one unused code inside the actor's districts (audited as invite.revoke); returns 0 or 1."""
    from bot.identity import normalise

    authorise(actor, "invite.revoke")
    code_hash = keyring.identity_hash("invite", normalise(code))
    invite = invite_store.find_invite(s, code_hash)
    require_scope(actor, None if invite is None else districts_of(invite.district), "such invite code", change=True)
    n = int(invite_store.revoke_invite(s, code_hash, now=now))
    record(s, actor, "invite.revoke", target=invite.batch if invite else "", detail=f"revoked={n}", now=now)
    return n


def visible_batches(s: Any, actor: Actor) -> list[Any]:
    """Invite batches newest first, only those in the actor's districts (no codes: nothing to audit)."""
    authorise(actor, "invite.create")
    return [b for b in invite_store.invite_batches(s) if actor.all_districts or b.district in actor.districts]
