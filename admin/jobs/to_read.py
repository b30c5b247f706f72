"""Escalation of the "To read" queue: entries unread after OURVOICE_REVIEW_WITHIN go to the participation
manager, once per entry (email, a Slack staff notice when a staff channel is set, and a flag the queue page shows).

A plain `job(rt, *, now) -> str` run once across processes by admin.scheduler claims. The email goes as outbox
rows written in the same transaction that flags the entries (so a flag and its email are never one without the
other) to the escalation contacts (OURVOICE_ALERT_EMAIL_ESCALATE_TO) and the participation and safeguarding
teams' addresses (OURVOICE_EMAIL_PARTICIPATION_TO, OURVOICE_EMAIL_SAFEGUARDING_TO), each once. It carries entry
numbers, counts and times only, never anything a young person wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from admin.actions.reading import due_at
from bot import mail_queue
from bot.alerts import StaffNotice
from storage import reading as store
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

TEAMS = ("participation", "safeguarding")

log = logging.getLogger("ourvoice.jobs.to_read")


@dataclass(frozen=True)
class ReviewOverdueNotice:
    """'N messages have waited too long to be read': entry numbers and the service level, nothing else."""

    entries: tuple[int, ...]
    within: str
    link: str

    def subject(self) -> str:
        return f"[ourvoice] {len(self.entries)} message(s) not read within {self.within}"

    def body(self) -> str:
        shown = ", ".join(str(i) for i in self.entries[:50]) + (" ..." if len(self.entries) > 50 else "")
        return "\n".join(
            [
                f"{len(self.entries)} message(s) from young people have waited more than {self.within} to be read.",
                f"Entries: {shown}",
                "Please make sure someone reads them today (reading is audited).",
                f"Open: {self.link}",
            ]
        )


def recipients(rt: Services) -> list[str]:
    """The escalation contacts, then the participation and safeguarding teams; each address once."""
    seen: dict[str, str] = {}
    escalate_to = [a.strip() for a in rt.settings.alert_email_escalate_to.split(",") if a.strip()]
    for address in escalate_to + [a for t in TEAMS for a in rt.email_settings.team(t)]:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def escalate(rt: Services, *, now: datetime) -> str:
    """Every few minutes: flag and tell, once each, the unread entries past their review deadline."""
    within, tz, days_off = rt.settings.review_within, rt.settings.timezone, rt.settings.bank_holidays
    link = f"{rt.settings.public_url.rstrip('/')}/admin/to-read"
    with session(rt.engine) as s:
        late = [e.id for e in store.unread_unescalated(s) if now >= due_at(e.created_at, within, tz, days_off)]
        changed = store.mark_escalated(s, late, now=now)
        notice = ReviewOverdueNotice(tuple(late), within, link)
        if late:
            for address in recipients(rt):
                mail_queue.queue(s, rt.keyring, to=address, subject=notice.subject(), body=notice.body(),
                            kind="staff_notice", now=now)
    if late:
        if rt.notifier.has_staff_channel:
            rt.notifier.notify(StaffNotice("to_read", notice.subject().removeprefix("[ourvoice] "),
                                           tuple(notice.body().splitlines()[:2]), link, "to-read"))
        log.warning("toread.escalated count=%d", changed)
    return f"escalated={changed}"
