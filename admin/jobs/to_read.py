"""Escalation of the "To read" queue: entries unread after OURVOICE_REVIEW_WITHIN go to the participation
manager, once per entry (an email to the escalation address, and a flag the queue page shows).

A plain `job(rt, *, now) -> str` run once across processes by admin.scheduler claims. The email carries
entry numbers, counts and times only, never anything a young person wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admin.actions.reading import due_at
from storage import reading as store
from storage.db import session

log = logging.getLogger("ourvoice.jobs.to_read")


@dataclass(frozen=True)
class ReviewOverdueNotice:
    """'N messages have waited too long to be read' for the escalation contacts (level 1 of the rota)."""

    entries: tuple[int, ...]
    within: str
    link: str
    alert_ref: str = "to-read"  # what routes log and de-duplicate by; never a participant's reference
    kind: str = "review_overdue"
    level: int = 1
    min_level: int = 1  # the escalation contacts only, not the duty inbox
    routes: tuple[str, ...] = ("email",)
    categories: tuple[str, ...] = ()

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


def escalate(rt: Any, *, now: datetime) -> str:
    """Every few minutes: flag and email, once each, the unread entries past their review deadline."""
    within, tz, days_off = rt.settings.review_within, rt.settings.timezone, rt.settings.bank_holidays
    with session(rt.engine) as s:
        late = [e.id for e in store.unread_unescalated(s) if now >= due_at(e.created_at, within, tz, days_off)]
        changed = store.mark_escalated(s, late, now=now)
    if late:
        link = f"{rt.settings.public_url.rstrip('/')}/admin/to-read"
        rt.notifier.notify(ReviewOverdueNotice(tuple(late), within, link))  # type: ignore[arg-type]
        log.warning("toread.escalated count=%d", changed)
    return f"escalated={changed}"
