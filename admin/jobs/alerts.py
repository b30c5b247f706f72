"""Safeguarding escalation job: writes spooled alert records, re-alerts and escalates every open alert
until a human acknowledges it, and queues the "what happens next" follow-up once one has.

Works from references, categories and times only: it never decrypts or sends the child's words.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import reach
from bot.alerts import AlertNotice
from bot.messages import Outbound
from content.schema import text_for
from storage import alerts as alert_store
from storage import participants
from storage.db import DatabaseUnavailable, Session, session, utc

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.jobs.alerts")


def ack_minutes(rt: Services, at: datetime) -> int:
    """How long staff have to acknowledge an alert at this moment (office hours or out of hours)."""
    s = rt.settings
    office = rt.dispatcher.in_office_hours(at)
    return s.alert_ack_minutes_office if office else s.alert_ack_minutes_out_of_hours


def is_overdue(rt: Services, last: datetime, now: datetime) -> bool:
    """True once the acknowledgement window since the last notice has passed.

    The shorter of the windows at the last notice and now applies, so an alert raised just before
    the office closes is chased on the out-of-hours timescale, never later than promised.
    """
    window = min(ack_minutes(rt, last), ack_minutes(rt, now))
    return now - last >= timedelta(minutes=window)


def queue_followups(rt: Services, s: Session, *, now: datetime) -> int:
    """Queue the follow-up message for every picked-up alert whose young person has not had it yet.

    One outbox notice per alert (Alert.followup_sent makes it once only); delivered by the channel's
    sender, or shown on the web chat the next time the person writes.
    """
    settings, help_numbers = rt.settings, rt.dispatcher.help
    queued = 0
    for alert in alert_store.followups_due(s):
        person = participants.get(s, alert.participant_id)  # type: ignore[arg-type]
        text = text_for(rt.library.string("safe_followup"), (person.band if person else None) or "default").format(
            duty_number=settings.duty_number, emergency=help_numbers.emergency
        )
        # Urgent: through the one rule all the same (bot/reach.py lets safeguarding messages go at once).
        row = reach.send_first(s, alert.participant_id, Outbound(text=text, meta={"kind": "notice"}),  # type: ignore[arg-type]
                               purpose="safeguarding", now=now, settings=rt.reach_settings, channel=alert.channel)
        if row is None:
            log.info("alert.followup_skipped ref=%s", alert.alert_ref)
        else:
            queued += 1
            log.info("alert.followup_queued ref=%s channel=%s", alert.alert_ref, alert.channel)
        alert_store.mark_followup_sent(s, alert)
    return queued


def escalation_notice(rt: Services, alert: Any, *, now: datetime, s: Session | None = None) -> AlertNotice:
    """The notice for an alert that has waited too long, one level further up the rota."""
    created = utc(alert.created_at)
    assert created is not None
    return AlertNotice(
        alert_ref=alert.alert_ref,
        categories=tuple(c for c in alert.categories.split(",") if c),
        at=rt.dispatcher._local(created).isoformat(timespec="minutes"),
        kind="escalation",
        level=alert.escalation_level,
        case_ref=alert.case_ref or "",
        admin_url=f"{rt.settings.public_url}/admin/alerts/{alert.alert_ref}",
        overdue_minutes=int((now - created).total_seconds() // 60),
        council_ref=alert_store.subject(s, alert).has_council_ref if s is not None else None,
    )


def escalate(rt: Services, *, now: datetime) -> str:
    """Every minute: write spooled alerts, escalate overdue ones (repeating each window), queue follow-ups."""
    written = rt.dispatcher.drain_spool(now=now)
    escalated = followups = 0
    try:
        with session(rt.engine) as s:
            for alert in alert_store.open_alerts(s):
                last = utc(alert.last_notified_at) or utc(alert.created_at)
                assert last is not None
                if not is_overdue(rt, last, now):
                    continue
                alert_store.mark_notified(s, alert, now=now, escalate=True)
                # Sent before the commit on purpose: if the commit fails the next tick sends it again
                # (a duplicate email is better than a missed one).
                rt.notifier.notify(escalation_notice(rt, alert, now=now, s=s))
                log.warning("alert.escalated ref=%s level=%d", alert.alert_ref, alert.escalation_level)
                escalated += 1
            followups = queue_followups(rt, s, now=now)
    except DatabaseUnavailable:
        log.error("alert.escalate_database_unavailable")
        return f"spool_written={written} database_unavailable"
    return f"spool_written={written} escalated={escalated} followups={followups}"
