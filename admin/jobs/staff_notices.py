"""Staff channel notices that are not safeguarding alerts: new challenge cards and a weekly digest.

Both are plain `job(rt, *, now) -> str` functions run once across processes by admin.scheduler claims.
They post StaffNotices through the runtime's notifier, which hands them only to routes that take staff
notices (the Slack staff channel), never to the safeguarding inboxes. Notices carry references and
counts, never anything a young person wrote. Without a staff channel both jobs do nothing, and cards are
left unmarked, so turning the channel on later still announces the cards that wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from admin.reports import catalog
from admin.reports.disclosure import FEWER, show
from admin.reports.staff_counts import lone
from bot.alerts import StaffNotice
from bot.features.young_people import council_name
from storage import challenges, staff_digest
from storage.db import session

# Counts of young people's own contributions are reported like any published count (under 5 hidden);
# the work waiting for staff is shown exactly, as it is on the admin pages.
PEOPLE_COUNTS = ("responses_completed", "cards_raised")
DIGEST_LINES = {
    "alerts_open": "Safeguarding alerts not yet acknowledged",
    "cards_awaiting_triage": "Challenge cards waiting for triage",
    "good_news_waiting": "Good news waiting for approval",
    "quotes_waiting": "Quotes waiting for approval",
    "responses_completed": "Conversations and surveys finished this week",
    "cards_raised": "Challenge cards raised this week",
}


def _admin(rt: Any, path: str) -> str:
    return rt.settings.public_url.rstrip("/") + "/admin" + path


def new_cards(rt: Any, *, now: datetime) -> str:
    """Tell the staff channel about each challenge card it has not heard of yet (once per card)."""
    if not rt.notifier.has_staff_channel:
        return "no staff channel"
    with session(rt.engine) as s:
        cards = challenges.awaiting_staff_notice(s)
    for card in cards:
        rt.notifier.notify(
            StaffNotice.card_awaiting_triage(
                f"#{card.id}",
                council_name(rt.library, card.council, None),
                _admin(rt, f"/cards/{card.id}"),
                personal=card.personal,
                held=card.held,
            )
        )
    with session(rt.engine) as s:
        challenges.mark_staff_notified(s, [c.id for c in cards], now=now)
    return f"cards={len(cards)}"


def digest_lines(counts: dict[str, int]) -> dict[str, str]:
    """Label -> printable count, small counts of young people's contributions hidden."""
    out = {}
    for key, label in DIGEST_LINES.items():
        n = counts[key]
        # Young people's contributions through the disclosure layer: each line is a lone count.
        out[label] = show(lone(n), hidden=FEWER) if key in PEOPLE_COUNTS else f"{n:,}"
    return out


def weekly_digest(rt: Any, *, now: datetime) -> str:
    """Monday morning: what waits for the participation team and what came in over the last 7 days."""
    if not rt.notifier.has_staff_channel:
        return "no staff channel"
    with session(rt.engine) as s:
        counts = staff_digest.week_counts(
            s, since=now - timedelta(days=7), until=now, leave_out=catalog.private_flows(rt.library)
        )
    week = (now - timedelta(days=7)).astimezone(ZoneInfo(rt.settings.timezone)).date().isoformat()
    rt.notifier.notify(StaffNotice.weekly_digest(week, digest_lines(counts), _admin(rt, "")))
    return digest_result(counts)


def digest_result(counts: dict[str, int]) -> str:
    """What the job run prints and records (`ourvoice jobs run`, job_run): the same protected figures as the
    digest, never a raw count of people (issue 19: a week with 3 finished conversations printed 3)."""
    return "digest " + " ".join(
        f"{k}={show(lone(v), hidden='hidden') if k in PEOPLE_COUNTS else v}" for k, v in counts.items()
    )


def report_ready(rt: Any, name: str) -> None:
    """Tell the staff channel a drafted report is waiting to be checked (called by the report jobs)."""
    if rt.notifier.has_staff_channel:
        rt.notifier.notify(StaffNotice.report_ready(name, _admin(rt, "/reports")))
