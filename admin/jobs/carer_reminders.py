"""Carer survey jobs: invitations and reminders for live waves, and the weekly response-rate digest.

A person in two overlapping waves gets at most one notice a day across them (the other waits for a later run).
Run-once is layered: `admin.scheduler.run_job` claims each occurrence in `job_run`, and every notice is
also claimed by inserting its unique (wave member, number) row in the same transaction as its outbox row,
so even two overlapping runs cannot send one notice twice. Every notice passes the one rule for messages sent
first (bot/reach.py: carers' quiet hours, the daily cap, pause); never reads clocks.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import mail_queue, notify, reach
from bot.features.carers import WaveSettings, invitation, reminder
from storage import conversations, waves
from storage.db import Session, session

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.jobs.carers")


def wave_settings(rt: Services) -> WaveSettings:
    """The wave settings the composition root read (bot.runtime.build_runtime)."""
    return rt.wave_settings


BATCH = 50  # notices per transaction: short enough not to hold up conversations, few enough commits


def _due(c: waves.NoticeCandidate, now: datetime, ws: WaveSettings) -> bool:
    """Whether the candidate's next notice (invitation, then reminders) is due at `now`."""
    if c.sent == 0:
        return True
    offsets = ws.days()
    if c.sent > len(offsets) or c.first_sent_at is None or c.last_sent_at is None:
        return False
    gap = timedelta(hours=ws.min_gap_hours)
    return now >= c.first_sent_at + offsets[c.sent - 1] and now >= c.last_sent_at + gap


def _may_remind(p: waves.Presence | None, now: datetime, ws: WaveSettings) -> bool:
    """Reminders (not invitations) skip anyone paused with /stop or chatting right now."""
    if p is None:
        return True
    if p.paused:
        return False
    return p.last_activity is None or now - p.last_activity >= timedelta(hours=ws.skip_if_active_hours)


def _send_one(s: Session, rt: Services, wave: waves.WaveView, c: waves.NoticeCandidate, ws: WaveSettings,
              now: datetime) -> str | None:
    """Re-check, claim and queue one notice in the caller's transaction; returns its kind, or None."""
    if not waves.still_due(s, wave.id, c.member_id):
        return None
    last = waves.last_notice_at(s, c.participant_id, other_than_wave=wave.id)
    if last is not None and now - last < timedelta(hours=max(24, ws.min_gap_hours)):
        return None  # one notice a day per person across overlapping waves; this one waits for a later run
    if c.sent == 0:
        kind, message = "invite", invitation(rt.library, wave)
    else:
        state, _ = conversations.load(s, c.participant_id)
        if not _may_remind(waves.presence(s, [c.participant_id]).get(c.participant_id), now, ws):
            return None  # they paused or wrote since the candidates were read
        kind, message = reminder(rt.library, wave, state, started=c.started, now=now)
    purpose = "survey_invitation" if kind == "invite" else "survey_reminder"
    planned = reach.plan(s, c.participant_id, message, purpose=purpose, now=now, settings=rt.reach_settings)
    if planned is None or not planned.decision.goes:
        return None  # not reachable, or the one rule for messages sent first says no (paused, ...)
    notice = waves.claim_notice(s, member_id=c.member_id, number=c.sent, kind=kind, now=now)
    if notice is None:
        return None  # another process (or an earlier run) already sent this one
    outbox_id = reach.queue(s, planned, message, purpose=purpose, now=now)
    assert outbox_id is not None  # the plan said it goes
    # Carers who gave an email address or mobile number also get a short "your survey is waiting" notice there
    # (GOV.UK Notify, same rule; nothing without OURVOICE_NOTIFY_API_KEY).
    notify.notify_first(s, c.participant_id, f"survey_{kind}", purpose=purpose, now=now,
                        reach_settings=rt.reach_settings, settings=rt.notify_settings)
    waves.attach_outbox(s, notice, outbox_id)
    return kind


def send_notices(rt: Services, *, now: datetime) -> str:
    """Invite members of live waves and remind those who haven't finished, outside quiet hours."""
    ws = wave_settings(rt)
    if reach.in_quiet_hours(now, "carer", rt.reach_settings):  # the one rule's carer quiet hours (bot/reach.py)
        return "quiet_hours"
    sent: Counter[str] = Counter()
    with session(rt.engine) as s:
        live = [w for w in waves.live_waves(s, now=now) if w.questionnaire_id in rt.library.flows]
        for w in live:
            waves.enrol_new_carers(s, w.id, now=now)  # carers who joined since the wave opened are invited too
            waves.link_submissions(s, w.id)
    for wave in live:
        with session(rt.engine) as s:
            due = [c for c in waves.notice_candidates(s, wave.id) if _due(c, now, ws)]
            seen = waves.presence(s, [c.participant_id for c in due if c.sent > 0])
        due = [c for c in due if c.sent == 0 or _may_remind(seen.get(c.participant_id), now, ws)]
        for i in range(0, len(due), BATCH):
            with session(rt.engine) as s:
                for c in due[i:i + BATCH]:
                    kind = _send_one(s, rt, wave, c, ws, now)
                    if kind:
                        sent[kind] += 1
    log.info("carers.notices waves=%d sent=%d", len(live), sum(sent.values()))
    return "waves={} {}".format(len(live), " ".join(f"{k}={v}" for k, v in sorted(sent.items())) or "sent=0")


# -- weekly digest ------------------------------------------------------------------------------


def digest_text(statuses: list[waves.WaveStatusView], now: datetime) -> str:
    """Plain-text digest of response rates: aggregate counts only, never answers or people, each wave's figures
    exactly as its admin page prints them (admin.reports.staff_counts.wave: one protection per wave, "not shown"
    for fewer than 5 and for what would let one be worked out; rates only from published figures)."""
    from admin.reports.disclosure import percent
    from admin.reports.staff_counts import text
    from admin.reports.staff_counts import wave as protected

    lines = [f"Carer survey response rates, week to {now:%d %B %Y}", ""]
    if not statuses:
        lines.append("No survey waves were running this week.")
    for st in statuses:
        w = st.wave
        pw = protected(list(st.districts), st.total, dict(st.staff_by_mode))
        t = pw.total
        lines += [
            f"{w.name} ({w.questionnaire_id}), {w.opens_on:%d %b %Y} to {w.closes_on:%d %b %Y}, "
            f"{w.state(now)}",
            f"  invited {text(t.invited)}, started {text(t.started)}, completed {text(t.completed)} "
            f"({t.rate or 'rate not shown'}), part-way {text(t.partial)}, opted out of reminders {text(t.opted_out)}",
            f"  entered by staff from phone or paper: {text(t.staff_entered)} "
            f"({percent(t.staff_entered, t.completed) or 'share not shown'} of completed)",
        ]
        lines += [
            f"    {d.district:<14} {text(d.completed):>9} of {text(d.invited):<9} {d.rate or 'not shown':>9}"
            for d in pw.rows
        ]
        lines.append("")
    lines.append("Not shown: fewer than 5, or hidden so that a smaller number cannot be worked out.")
    lines.append("Run `ourvoice survey status WAVE` for the live figures.")
    return "\n".join(lines)


def weekly_digest(rt: Services, *, now: datetime) -> str:
    """Email the fostering team the response rates of waves live now or ended in the last week (as email outbox
    rows, to OURVOICE_EMAIL_FOSTERING_TO or else OURVOICE_SURVEY_DIGEST_TO)."""
    from admin.jobs.contact_requests import fostering_addresses

    to = fostering_addresses(rt)
    if not to:
        return "no_recipient"
    week_ago = now - timedelta(days=7)
    subject = f"[ourvoice] Carer survey response rates, week to {now:%d %b %Y}"
    with session(rt.engine) as s:
        chosen = [w for w in waves.list_waves(s) if w.opens_at <= now and w.closes_at > week_ago]
        statuses = [st for w in reversed(chosen) if (st := waves.wave_status(s, w.id)) is not None]
        body = digest_text(statuses, now)
        for address in to:
            mail_queue.queue(s, rt.keyring, to=address, subject=subject, body=body, kind="staff_notice", now=now)
    return f"digest_sent waves={len(statuses)}"
