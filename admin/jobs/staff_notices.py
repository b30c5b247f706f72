"""Staff notices that are not safeguarding alerts: new challenge cards, approvals waiting, a weekly digest and
reports ready to check.

Plain `job(rt, *, now) -> str` functions run once across processes by admin.scheduler claims. Each notice goes
to the Slack staff channel when one is set (through the notifier, which never hands it to the safeguarding
inboxes) and, as email outbox rows written in the same transaction as the job's own bookkeeping, to the
participation team's addresses (OURVOICE_EMAIL_PARTICIPATION_TO) when set: one, the other or both (issue 25).
Notices carry references and counts (people's contributions through the disclosure layer), never anything a
young person wrote. With neither set the jobs do nothing, and cards are left unmarked, so turning a channel
on later still announces the cards that wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from admin.reports import catalog
from admin.reports.disclosure import FEWER, show
from admin.reports.staff_counts import lone
from bot import mail_queue
from bot.alerts import StaffNotice
from bot.features.young_people import council_name
from storage import challenges, staff_digest
from storage.db import Session, session

if TYPE_CHECKING:
    from bot.services import Services

TEAM = "participation"  # who these notices are for (README: "Staff notices")

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


def _admin(rt: Services, path: str) -> str:
    return rt.settings.public_url.rstrip("/") + "/admin" + path


def _routes(rt: Services) -> tuple[bool, bool]:
    """(Slack staff channel set, participation team email set)."""
    return rt.notifier.has_staff_channel, bool(rt.email_settings.team(TEAM))


def _email(s: Session, rt: Services, notice: StaffNotice, *, now: datetime, teams: tuple[str, ...] = (TEAM,)) -> int:
    """Queue a notice as email rows to the teams' addresses in the caller's transaction; how many rows."""
    return len(mail_queue.queue_teams(s, rt.keyring, rt.email_settings, teams, subject=notice.subject(),
                                 body=notice.body(), kind="staff_notice", now=now))


def new_cards(rt: Services, *, now: datetime) -> str:
    """Tell staff about each challenge card they have not heard of yet (once per card)."""
    slack, mail = _routes(rt)
    if not (slack or mail):
        return "no staff channel"
    with session(rt.engine) as s:
        cards = challenges.awaiting_staff_notice(s)
        notices = [
            StaffNotice.card_awaiting_triage(
                f"#{card.id}",
                council_name(rt.library, card.council, None),
                _admin(rt, f"/cards/{card.id}"),
                personal=card.personal,
                held=card.held,
            )
            for card in cards
        ]
        for notice in notices:
            _email(s, rt, notice, now=now)
        challenges.mark_staff_notified(s, [c.id for c in cards], now=now)
    if slack:  # after the commit: a card is announced once, whichever way
        for notice in notices:
            rt.notifier.notify(notice)
    return f"cards={len(cards)}"


def approvals_waiting(rt: Services, *, now: datetime) -> str:
    """Each working morning: how many good news stories and quotes wait for approval (nothing when none)."""
    slack, mail = _routes(rt)
    if not (slack or mail):
        return "no staff channel"
    with session(rt.engine) as s:
        waiting = staff_digest.approvals_waiting(s)
        total = sum(waiting.values())
        if not total:
            return "none waiting"
        # Work waiting for staff is shown exactly, as on the Approvals page (it is not a count of people).
        notice = StaffNotice.approvals_waiting(
            {APPROVAL_LINES[k]: f"{v:,}" for k, v in waiting.items()}, _admin(rt, "/approvals")
        )
        _email(s, rt, notice, now=now)
    if slack:
        rt.notifier.notify(notice)
    return " ".join(f"{k}={v}" for k, v in waiting.items())


APPROVAL_LINES = {"good_news": "Good news waiting for approval", "quotes": "Quotes waiting for approval"}


def digest_lines(counts: dict[str, int]) -> dict[str, str]:
    """Label -> printable count, small counts of young people's contributions hidden."""
    out = {}
    for key, label in DIGEST_LINES.items():
        n = counts[key]
        # Young people's contributions through the disclosure layer: each line is a lone count.
        out[label] = show(lone(n), hidden=FEWER) if key in PEOPLE_COUNTS else f"{n:,}"
    return out


def digest_week(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The last whole Monday-to-Sunday week before `now`, in the council's time. Fixed weeks, not the 7 days
    before whenever the job ran: a run by hand (`ourvoice jobs run staff_digest --now ...`) at any time gives
    one of the same weeks, so two runs can never be set a day apart and subtracted to single out one
    young person's contribution (issue 19)."""
    local = now.astimezone(ZoneInfo(timezone))
    monday = (local - timedelta(days=local.weekday())).date()
    until = datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(timezone))
    return until - timedelta(days=7), until


def weekly_digest(rt: Services, *, now: datetime) -> str:
    """Monday morning: what waits for the participation team and what came in over the last whole week."""
    slack, mail = _routes(rt)
    if not (slack or mail):
        return "no staff channel"
    since, until = digest_week(now, rt.settings.timezone)
    week = since.date().isoformat()
    with session(rt.engine) as s:
        counts = staff_digest.week_counts(s, since=since, until=until, leave_out=catalog.private_flows(rt.library))
        notice = StaffNotice.weekly_digest(week, digest_lines(counts), _admin(rt, ""))
        _email(s, rt, notice, now=now)
    if slack:
        rt.notifier.notify(notice)
    return digest_result(counts)


def digest_result(counts: dict[str, int]) -> str:
    """What the job run prints and records (`ourvoice jobs run`, job_run): the same protected figures as the
    digest, never a raw count of people (issue 19: a week with 3 finished conversations printed 3)."""
    return "digest " + " ".join(
        f"{k}={show(lone(v), hidden='hidden') if k in PEOPLE_COUNTS else v}" for k, v in counts.items()
    )


def report_ready(rt: Services, name: str, *, now: datetime) -> None:
    """Tell staff a drafted report is waiting to be checked (called by the report jobs)."""
    slack, mail = _routes(rt)
    notice = StaffNotice.report_ready(name, _admin(rt, "/reports"))
    if mail:
        with session(rt.engine) as s:
            _email(s, rt, notice, now=now)
    if slack:
        rt.notifier.notify(notice)
