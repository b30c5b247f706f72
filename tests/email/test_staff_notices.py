"""Staff notices without Slack (issue 25 item 4): new cards, approvals waiting, unread "To read" entries past
their service level and the weekly digest go by email to each team's addresses, through the real email sender
and the loopback SMTP sink, and never carry a young person's words (a sentinel is planted in every place a
young person writes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.jobs import staff_notices, to_read
from bot.channels.email import EmailSettings
from bot.runtime import build_runtime
from bot.services import Services
from content.loader import Library, load_library
from storage.db import session
from storage.models import OutboxMessage
from tests.conftest import fixed_now, make_settings
from tests.fakes.smtp_sink import SmtpSink
from tests.helpers import Person
from tests.support.email import send_queued_email
from tests.support.journeys import raise_card

SENTINEL = "ZEBRA-SENTINEL-4471"
PARTICIPATION = "participation@council.invalid"
SAFEGUARDING = "safeguarding@council.invalid"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path, library: Library) -> Iterator[Services]:
    runtime = build_runtime(make_settings(sqlite_url, tmp_path, public_url="https://ov.example"), library=library)
    assert not runtime.notifier.has_staff_channel  # no Slack staff channel
    yield runtime
    runtime.notifier.stop()
    runtime.engine.dispose()


def young_person_writes(rt: Services, sender: str) -> None:
    """A teen raises a challenge card and shares good news, both with the sentinel in their words."""
    p = Person(rt.dispatcher, sender, now=fixed_now())
    p.text("hi")
    p.press("I'm 11 to 16")
    raise_card(p, text=f"The bus is late {SENTINEL}")
    p.command("menu")
    p.press("🎉")
    p.feel("😀")
    p.text(f"I passed my test {SENTINEL}")
    for _ in range(4):  # whatever the good news flow asks next (category, sharing): the first choice
        if not p.buttons:
            break
        p.press(p.buttons[0])


def test_without_slack_every_staff_notice_goes_to_the_team_by_email_and_never_a_childs_words(rt: Services) -> None:
    with SmtpSink() as sink:
        rt.settings = rt.settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
        rt.email_settings = EmailSettings(  # type: ignore[call-arg]
            _env_file=None, participation_to=PARTICIPATION, safeguarding_to=SAFEGUARDING
        )
        young_person_writes(rt, "yp-1")
        now = fixed_now() + timedelta(days=3)  # past the To read service level
        assert staff_notices.new_cards(rt, now=now) == "cards=1"
        assert staff_notices.new_cards(rt, now=now) == "cards=0"  # once per card
        assert staff_notices.approvals_waiting(rt, now=now).startswith("good_news=")
        staff_notices.weekly_digest(rt, now=now)
        assert to_read.escalate(rt, now=now) != "escalated=0"
        assert sink.messages == []  # outbox rows until the email sender runs
        send_queued_email(rt, now=now)
        mails = list(sink.messages)
        with session(rt.engine) as s:
            payloads = [p for (p,) in s.execute(select(OutboxMessage.payload_json)).all()]
    by_subject = {m["Subject"]: m for m in mails}
    subjects = " | ".join(by_subject)
    assert "New challenge card" in subjects and "Approvals waiting" in subjects
    assert "Weekly digest" in subjects and "not read within" in subjects
    for m in mails:
        if "not read within" in m["Subject"]:
            continue
        assert m["To"] == PARTICIPATION
    assert sorted(m["To"] for m in mails if "not read within" in m["Subject"]) == [PARTICIPATION, SAFEGUARDING]
    approvals = next(m for m in mails if "Approvals" in m["Subject"]).get_content()
    assert "Good news waiting for approval: 1" in approvals and "https://ov.example/admin/approvals" in approvals
    digest = next(m for m in mails if "Weekly digest" in m["Subject"]).get_content()
    assert "Challenge cards raised this week: fewer than 5" in digest  # people's counts through the disclosure layer
    for m in mails:
        assert SENTINEL not in m.as_string()
    assert not any(SENTINEL in p for p in payloads if '"text"' in p and "email" in p)


def test_with_no_team_address_and_no_slack_nothing_is_queued(rt: Services) -> None:
    rt.email_settings = EmailSettings(_env_file=None)  # type: ignore[call-arg]
    young_person_writes(rt, "yp-2")
    assert staff_notices.new_cards(rt, now=fixed_now()) == "no staff channel"
    assert staff_notices.approvals_waiting(rt, now=fixed_now()) == "no staff channel"
    assert staff_notices.weekly_digest(rt, now=fixed_now()) == "no staff channel"
    with session(rt.engine) as s:
        assert s.execute(select(OutboxMessage).where(OutboxMessage.channel == "email")).first() is None


def test_the_digest_counts_fixed_weeks_whenever_it_runs() -> None:
    """Issue 19 (differencing): a run by hand at any moment gives one of the same Monday-to-Sunday weeks, so two
    runs a day apart cannot be subtracted to single one young person out."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    week = staff_notices.digest_week(monday_9, "Europe/London")
    assert week == (datetime(2026, 11, 23, tzinfo=london), datetime(2026, 11, 30, tzinfo=london))
    for later in (timedelta(minutes=1), timedelta(days=1), timedelta(days=6, hours=14, minutes=59)):
        assert staff_notices.digest_week(monday_9 + later, "Europe/London") == week
    assert staff_notices.digest_week(monday_9 + timedelta(days=7), "Europe/London")[0] == week[1]
    # Across the clocks going back (25 October 2026): still whole local days, midnight to midnight.
    since, until = staff_notices.digest_week(datetime(2026, 10, 27, 12, tzinfo=UTC), "Europe/London")
    assert (since.hour, until.hour, (until - since).days) == (0, 0, 7)
    assert until.utcoffset() != since.utcoffset()
