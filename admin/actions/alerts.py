"""Safeguarding alert actions, shared by the admin web and `ourvoice alerts`: list, open, acknowledge, close,
read the flagged words, reveal the council case reference ("break glass") and reply to the young person.

Each action checks the actor's role and districts (an alert outside them is reported as not found) and writes
its one audit row. Nothing here renders HTML, prints, reads the clock or logs anything a person wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from admin.actions.policy import Actor, Forbidden, Invalid, NotFound, record
from admin.actions.staff import check_credentials
from bot import reach
from bot.messages import Outbound
from content.schema import text_for
from storage import admin_views, participants
from storage import alerts as alert_store
from storage.db import utc

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.actions.alerts")

QUEUE_ROLES = frozenset({"safeguarding_lead", "participation_manager"})  # see and handle alerts
LEAD_ROLES = frozenset({"safeguarding_lead"})  # read the words, break glass, reply
REASON_MIN = 10  # characters: a reason someone reading the audit log later can understand
REPLY_MAX = 1000


@dataclass(frozen=True)
class AlertFacts:
    """An alert as staff see it without breaking glass: references, times, who invited the young person."""

    ref: str
    status: str
    categories: str
    created_at: datetime
    level: int
    notified: int
    last_notified: datetime | None
    case_ref: str | None
    channel: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    outcome: str | None
    district: str | None
    band: str | None
    has_council_ref: bool
    invited_by: str | None
    invited_at: datetime | None
    can_reply: bool  # the young person is known and still taking part


@dataclass(frozen=True)
class Reveal:
    """The result of a break-glass request: `value` only when the password was right and a reference exists."""

    ok: bool
    reason: str = ""  # "" | "invalid" | "locked" | "none"
    value: str = ""


def _allowed(actor: Actor, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} cannot {what}")


def _alert(s: Any, actor: Actor, ref: str) -> Any:
    """The alert row, or NotFound when missing or outside the actor's districts (the two look the same)."""
    ref = ref.strip().upper()
    alert = alert_store.get(s, ref)
    if alert is None:
        raise NotFound(f"no alert {ref}")
    if not actor.all_districts:
        district = admin_views.alert_district(s, ref)
        if not (isinstance(district, str) and district in actor.districts):
            raise NotFound(f"no alert {ref}")
    return alert


def _facts(s: Any, a: Any) -> AlertFacts:
    who = alert_store.subject(s, a)
    return AlertFacts(
        ref=a.alert_ref, status=a.status, categories=a.categories.replace(",", ", "),
        created_at=utc(a.created_at), level=a.escalation_level, notified=a.notified_count,  # type: ignore[arg-type]
        last_notified=utc(a.last_notified_at), case_ref=a.case_ref, channel=a.channel,
        acknowledged_by=a.acknowledged_by, acknowledged_at=utc(a.acknowledged_at),
        closed_by=a.closed_by, closed_at=utc(a.closed_at), outcome=a.outcome,
        district=who.district, band=who.band, has_council_ref=who.has_council_ref,
        invited_by=who.invited_by, invited_at=who.invited_at,
        can_reply=who.participant_id is not None and who.status == "active",
    )


def list_alerts(s: Any, actor: Actor, *, include_closed: bool = True, limit: int = 300) -> list[AlertFacts]:
    """Alerts in the actor's districts, newest first (never the words)."""
    _allowed(actor, QUEUE_ROLES, "see safeguarding alerts")
    out = []
    for a in alert_store.all_alerts(s, limit=limit):
        if not include_closed and a.status == "closed":
            continue
        if not actor.all_districts:
            d = admin_views.alert_district(s, a.alert_ref)
            if not (isinstance(d, str) and d in actor.districts):
                continue
        out.append(_facts(s, a))
    return out


def alert_facts(s: Any, actor: Actor, ref: str) -> AlertFacts:
    """One alert's facts (no audit row: nothing a young person wrote is shown)."""
    _allowed(actor, QUEUE_ROLES, "see safeguarding alerts")
    return _facts(s, _alert(s, actor, ref))


def acknowledge_alert(rt: Services, s: Any, actor: Actor, ref: str, *, now: datetime) -> bool:
    """Pick an alert up (audited as alert.ack); stops escalation and queues the young person's follow-up.

    Returns False (and writes nothing) when it was already acknowledged or closed.
    """
    from admin.jobs.alerts import queue_followups

    _allowed(actor, QUEUE_ROLES, "acknowledge alerts")
    alert = _alert(s, actor, ref)
    changed = alert_store.acknowledge(s, alert, staff=actor.username, now=now)
    if changed:
        record(s, actor, "alert.ack", target=alert.alert_ref, now=now)
        queue_followups(rt, s, now=now)
    return changed


def close_alert(
    rt: Services,
    s: Any,
    actor: Actor,
    ref: str,
    *,
    handled_by: str,
    outcome: str,
    closed_at: datetime | None,
    now: datetime,
) -> None:
    """Record the outcome and close (audited as alert.close); refused without name, outcome and time."""
    from admin.jobs.alerts import queue_followups

    _allowed(actor, QUEUE_ROLES, "close alerts")
    alert = _alert(s, actor, ref)
    try:
        alert_store.close(s, alert, staff=handled_by, outcome=outcome, closed_at=closed_at)
    except alert_store.AlertCloseRefused as exc:
        raise Invalid(str(exc)) from None
    record(
        s,
        actor,
        "alert.close",
        target=alert.alert_ref,
        detail=f"handled_by={handled_by.strip()[:80]} closed_at={closed_at.isoformat() if closed_at else ''}",
        now=now,
    )
    queue_followups(rt, s, now=now)


def read_alert_text(keyring: Any, s: Any, actor: Actor, ref: str, *, now: datetime) -> str:
    """The young person's flagged words, decrypted; safeguarding leads only; one audit row (alert.read_text)."""
    _allowed(actor, LEAD_ROLES, "read a flagged message")
    alert = _alert(s, actor, ref)
    record(s, actor, "alert.read_text", target=alert.alert_ref, now=now)
    return keyring.decrypt(alert.text_enc) if alert.text_enc else "(no text was kept for this alert)"


def reveal_council_ref(
    keyring: Any,
    s: Any,
    actor: Actor,
    ref: str,
    *,
    password: str,
    reason: str,
    ip: str,
    now: datetime,
    hasher: Any = None,
) -> Reveal:
    """Break glass: the young person's council case reference, after the lead's password and a reason.

    Safeguarding leads only, in their districts. A wrong password is recorded as a failed sign-in (same
    lock-out as the sign-in page) and returns ok=False, so the caller's transaction still commits it.
    A reveal writes one audit row (alert.reveal_case_ref) with the reason, before the value is returned.
    """
    _allowed(actor, LEAD_ROLES, "reveal a case reference")
    alert = _alert(s, actor, ref)
    reason = " ".join(reason.split())
    if len(reason) < REASON_MIN:
        raise Invalid(f"give a reason of at least {REASON_MIN} characters (it is kept in the audit log)")
    check = check_credentials(s, actor.username, password, ip=ip, now=now, hasher=hasher, record_success=False)
    if not check.ok:
        return Reveal(False, check.reason)
    sealed = alert_store.council_ref_enc(s, alert)
    record(
        s, actor, "alert.reveal_case_ref", target=alert.alert_ref,
        detail=f"found={'yes' if sealed else 'no'} reason={reason[:400]}", now=now,
    )
    if sealed is None:
        return Reveal(False, "none")
    return Reveal(True, "", keyring.decrypt(sealed))


def reply(rt: Services, s: Any, actor: Actor, ref: str, *, message: str, now: datetime) -> int:
    """Write back to the young person through the bot, one to one (audited as alert.reply; never the words).

    Queued in the outbox to their own channel (the one the alert came from when they still use it), after
    a short introduction in their age band. Returns the outbox row id.
    """
    _allowed(actor, LEAD_ROLES, "reply to a young person")
    alert = _alert(s, actor, ref)
    message = message.strip()
    if not message:
        raise Invalid("write the message to send")
    if len(message) > REPLY_MAX:
        raise Invalid(f"keep the message under {REPLY_MAX} characters")
    person = participants.get(s, alert.participant_id) if alert.participant_id else None
    if person is None or person.status != "active":
        raise Invalid("this young person cannot be reached through ourvoice (not known, or no longer taking part)")
    intro = text_for(rt.library.string("staff_reply_intro"), person.band or "default")
    payload = Outbound(text=f"{intro}\n\n{message}", meta={"kind": "notice"})
    # Urgent: through the one rule all the same (bot/reach.py lets safeguarding messages go at once, paused or not).
    planned = reach.plan(s, int(person.id or 0), payload, purpose="safeguarding", now=now, settings=rt.reach_settings,
                         channel=alert.channel)
    row_id = reach.queue(s, planned, payload, purpose="safeguarding", now=now) if planned is not None else None
    if planned is None or row_id is None:
        raise Invalid("this young person cannot be reached through ourvoice (not known, or no longer taking part)")
    record(s, actor, "alert.reply", target=alert.alert_ref, detail=f"channel={planned.channel} outbox={row_id}",
           now=now)
    log.info("alert.reply_queued ref=%s channel=%s", alert.alert_ref, planned.channel)
    return int(row_id)
