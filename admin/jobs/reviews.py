"""Review statements' delivery read back (issue 21 item 6): every minute, each statement whose email the outbox
sender has finished with becomes 'sent', or 'failed' with a message to the young person that it did not arrive.

A plain `job(rt, *, now) -> str` run once across processes by admin.scheduler claims. The email itself was
written as an outbox row in the step that recorded the young person's choice (bot/features/young_people.py)
and sent by the email sender (bot/channels/email.py); once it is done with, the row's sealed copy of the
statement is blanked, so the encrypted statement on the review_statement row is the only copy left.
Logs counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.features.young_people import REVIEW_EMAIL, queue_notice, say
from bot.services import Services
from storage import outbox, participants, reviews
from storage.db import session

log = logging.getLogger("ourvoice.jobs.reviews")


def delivery(rt: Services, *, now: datetime) -> str:
    """Record each finished review email on its statement; returns e.g. 'sent=1 failed=0'."""
    sent = failed = 0
    with session(rt.engine) as s:
        for d in reviews.finished_deliveries(s):
            if d.outcome == "sent":
                reviews.set_status(s, d.submission_id, "sent", now=d.at or now)
                sent += 1
            else:
                reviews.set_status(s, d.submission_id, "failed", now=now)
                failed += 1
                person = participants.get(s, d.participant_id) if d.participant_id else None
                if person is not None and person.id is not None:
                    who = say(rt.library, f"yp_role_{d.role or 'iro'}", person.band)
                    queue_notice(s, person.id, say(rt.library, "yp_review_failed", person.band, who=who), now=now,
                                 purpose="review_update", reach=rt.reach_settings)
            if d.participant_id is not None:
                outbox.blank_sent(s, d.participant_id, REVIEW_EMAIL)
    if sent or failed:
        log.info("reviews.delivered sent=%d failed=%d", sent, failed)
    return f"sent={sent} failed={failed}"
