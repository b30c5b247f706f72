"""Event notices (issue 20): send invitations staff queued, remind those going (or not yet replied) the day
before, and ask those who came for the two-question evaluation the day after.

Every notice passes the one rule for messages sent first (bot.reach.send_first, purpose "event_invitation"): one
due in the person's quiet hours or over their daily cap waits in the outbox until it may go, and people who paused
messages get nothing. Each notice is claimed by stamping its row (sent_at, reminded_at, evaluation_sent_at) in the
same transaction as its outbox row, so a run that overlaps another cannot send one twice. Never reads clocks: the
scheduler passes `now`.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from bot import reach
from bot.features import events as words
from bot.messages import Outbound
from storage import events, participants
from storage.db import Session, session

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.jobs.events")
BATCH = 50


def _queue(rt: Services, s: Session, pid: int, message: Outbound, *, now: datetime) -> bool:
    """Queue one notice under the one rule (held through quiet hours and the daily cap); False when the person
    cannot be reached or the rule says no (paused)."""
    row = reach.send_first(s, pid, message, purpose="event_invitation", now=now, settings=rt.reach_settings)
    return row is not None


def _band(s: Session, pid: int) -> str | None:
    person = participants.get(s, pid)
    return person.band if person else None


def send(rt: Services, *, now: datetime) -> str:
    """Invitations, reminders and evaluations due at `now` (held by the rule when it is not their time yet);
    returns what it queued."""
    today = words.local_today(now, rt.reach_settings.timezone)
    sent: Counter[str] = Counter()
    library = rt.library
    with session(rt.engine) as s:
        invites = events.unsent_invitations(s, today=today)
        reminders = events.reminders_due(s, today=today)
        evaluations = events.evaluations_due(s, today=today)
    for i in range(0, len(invites), BATCH):
        with session(rt.engine) as s:
            for inv_id, event_id in invites[i:i + BATCH]:
                inv, view = events.invitation(s, inv_id), events.get(s, event_id)
                if inv is None or view is None or inv.sent_at is not None:
                    continue
                events.mark_invitation(s, inv_id, sent=True, now=now)  # claimed, sent or not (paused: skipped)
                if _queue(rt, s, inv.participant_id, words.invitation(library, view, _band(s, inv.participant_id)),
                          now=now):
                    sent["invitations"] += 1
    for i in range(0, len(reminders), BATCH):
        with session(rt.engine) as s:
            for inv_id, event_id in reminders[i:i + BATCH]:
                inv, view = events.invitation(s, inv_id), events.get(s, event_id)
                if inv is None or view is None or inv.reminded_at is not None:
                    continue
                events.mark_invitation(s, inv_id, reminded=True, now=now)
                message = words.reminder(library, view, _band(s, inv.participant_id), going=inv.rsvp == "going")
                if _queue(rt, s, inv.participant_id, message, now=now):
                    sent["reminders"] += 1
    for i in range(0, len(evaluations), BATCH):
        with session(rt.engine) as s:
            for att_id, event_id in evaluations[i:i + BATCH]:
                att, view = events.attendance(s, att_id), events.get(s, event_id)
                if att is None or view is None or att.evaluation_sent_at is not None:
                    continue
                events.mark_evaluation_sent(s, att_id, now=now)
                message = words.evaluation_invite(library, view, _band(s, att.participant_id))
                if _queue(rt, s, att.participant_id, message, now=now):
                    sent["evaluations"] += 1
    log.info("events.notices sent=%d", sum(sent.values()))
    return " ".join(f"{k}={v}" for k, v in sorted(sent.items())) or "sent=0"
