"""One rule for every message sent first (issue 25 item 3, bot/reach.py): quiet hours per audience, a daily cap
per person, /stop (pause) and the channel's limits, for card updates, "you said, we did", survey reminders and
staff replies alike; urgent safeguarding messages are the exception. Every time here is an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.actions import requests as request_actions
from admin.actions.policy import Actor, Invalid
from admin.jobs.carer_reminders import send_notices
from bot import reach
from bot.features.young_people import queue_notice
from bot.reach import ReachSettings, decide
from storage import contact_requests, outbox, participants, submissions
from storage.db import session
from storage.models import OutboxMessage
from tests.carers.conftest import make_carers, open_wave, runtime_for
from tests.helpers import Person

RULES = ReachSettings(_env_file=None, quiet_hours_young_person="21:00-08:00",  # type: ignore[call-arg]
                      quiet_hours_carer="22:00-07:00", daily_cap=3, timezone="Europe/London")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday; London is on GMT in December
NIGHT = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)


def rule(now: datetime, *, audience: str = "young_person", sent: int = 0, paused: bool = False,
         purpose: str = "card_update", channel: str = "telegram", length: int = 100) -> reach.Decision:
    """The rule at `now`, with `sent` messages already on today's count (other days empty)."""
    today = now.date()
    return decide(purpose=purpose, audience=audience, paused=paused, channel=channel, text_length=length,
                  sent_on=lambda day: sent if day == today else 0, now=now, settings=RULES)


def test_quiet_hours_hold_until_they_end_and_differ_by_audience() -> None:
    assert rule(NOON) == reach.Decision("send", NOON, "")
    held = rule(NIGHT)
    assert (held.action, held.at, held.reason) == ("hold", datetime(2026, 12, 2, 8, 0, tzinfo=UTC), "quiet_hours")
    assert rule(NIGHT, audience="carer").action == "send"  # carers' quiet hours start at 22:00 here
    early = rule(datetime(2026, 12, 2, 6, 59, tzinfo=UTC), audience="carer")
    assert early.at == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    summer = rule(datetime(2026, 7, 1, 6, 30, tzinfo=UTC))  # 07:30 BST: still quiet; ends 08:00 BST = 07:00 UTC
    assert summer.at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_the_daily_cap_moves_a_message_to_the_next_day_after_quiet_hours() -> None:
    assert rule(NOON, sent=2).action == "send"
    full = rule(NOON, sent=3)
    assert (full.action, full.at, full.reason) == ("hold", datetime(2026, 12, 2, 8, 0, tzinfo=UTC), "daily_cap")
    counts = {date(2026, 12, 1): 3, date(2026, 12, 2): 3}
    later = decide(purpose="staff_reply", audience="carer", paused=False, channel="web", text_length=10,
                   sent_on=lambda d: counts.get(d, 0), now=NOON, settings=RULES)
    assert later.at == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    always_full = decide(purpose="card_update", audience="carer", paused=False, channel="web", text_length=10,
                         sent_on=lambda d: 3, now=NOON, settings=RULES)
    assert (always_full.action, always_full.reason) == ("skip", "daily_cap")  # never queued for ever


def test_pause_and_channel_limits_stop_a_message_but_never_an_urgent_one() -> None:
    assert rule(NOON, paused=True).reason == "paused"
    assert rule(NOON, length=5000).reason == "too_long"
    assert rule(NOON, length=3500, channel="slack").reason == "too_long"
    for urgent in (rule(NIGHT, paused=True, sent=50, purpose="safeguarding"),):
        assert (urgent.action, urgent.at) == ("send", NIGHT)
    with pytest.raises(ValueError, match="unknown purpose"):
        rule(NOON, purpose="marketing")


def test_settings_come_from_ourvoice_quiet_hours_and_daily_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OURVOICE_QUIET_HOURS_CARER", "20:00-09:00")
    monkeypatch.setenv("OURVOICE_DAILY_CAP", "1")
    got = ReachSettings(_env_file=None)  # type: ignore[call-arg]
    assert (got.quiet_hours_carer, got.quiet_hours_young_person, got.daily_cap) == ("20:00-09:00", "21:00-08:00", 1)
    monkeypatch.setenv("OURVOICE_QUIET_HOURS_YOUNG_PERSON", "late")
    with pytest.raises(ValueError, match="21:00-08:00"):
        ReachSettings(_env_file=None)  # type: ignore[call-arg]


# -- the rule applied by every sender ---------------------------------------------------------------------


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = runtime_for(db_url, tmp_path)
    runtime.reach_settings = RULES
    yield runtime
    runtime.engine.dispose()


def young_person(rt, sender: str = "yp-1") -> int:
    with session(rt.engine) as s:
        p, _ = participants.create(
            s, key_hash=rt.keyring.identity_hash("web", sender), channel="web", address_enc=None, now=NOON,
            audience="young_person", band="teen", district="east", council="ocypc",
        )
        return int(p.id)  # type: ignore[arg-type]


def rows(rt, pid: int) -> list[OutboxMessage]:
    with session(rt.engine) as s:
        return list(s.execute(select(OutboxMessage).where(OutboxMessage.participant_id == pid)
                              .order_by(OutboxMessage.id)).scalars())


def test_card_updates_you_said_we_did_and_staff_replies_share_one_daily_cap(rt) -> None:
    """Three messages sent first today, whatever they are; the fourth waits for tomorrow after quiet hours."""
    (sender,) = make_carers(rt, 1)
    with session(rt.engine) as s:
        carer = participants.find_by_key(s, rt.keyring.identity_hash("web", sender))
        assert carer is not None
        pid = int(carer[0].id)  # type: ignore[arg-type]
        sub = submissions.get_or_start(s, carer[0], "carer_pulse", 1, now=NOON)
        yes = submissions.put_answer(s, sub, "talk_offer", "yes", skipped=False, free_text=False,
                                     quarantined=False, now=NOON)
        req = contact_requests.file(s, contact_requests.Consent(yes.id, pid, "carer", "north", "carer_pulse",  # type: ignore[arg-type]
                                                                "talk_offer", NOON), team="fostering_team", now=NOON)
        assert queue_notice(s, pid, "Your card moved", now=NOON, reach=RULES) is not None
        assert queue_notice(s, pid, "You said, we did", now=NOON, purpose="you_said_we_did", reach=RULES)
        fostering = Actor("fostering.all", "fostering_team")
        request_actions.reply(rt.library, s, fostering, req, message="Can we call you?", now=NOON,  # type: ignore[arg-type]
                              reach_settings=RULES)
        request_actions.reply(rt.library, s, fostering, req, message="Or on Friday?", now=NOON,  # type: ignore[arg-type]
                              reach_settings=RULES)
    times = [r.not_before.astimezone(UTC) for r in rows(rt, pid)]  # type: ignore[union-attr]
    assert times == [NOON, NOON, NOON, datetime(2026, 12, 2, 7, 0, tzinfo=UTC)]  # carers' quiet hours end 07:00
    with session(rt.engine) as s:  # the sender does not see the held one until its time
        assert len(outbox.due(s, "web", now=NOON + timedelta(hours=1))) == 3
        assert len(outbox.due(s, "web", now=datetime(2026, 12, 2, 7, 0, tzinfo=UTC))) == 4


def test_a_card_update_at_night_waits_and_nothing_goes_to_someone_who_paused(rt) -> None:
    pid = young_person(rt)
    with session(rt.engine) as s:
        queue_notice(s, pid, "Your card moved", now=NIGHT, reach=RULES)
    (held,) = rows(rt, pid)  # one row, held until quiet hours end
    assert held.not_before.astimezone(UTC) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # type: ignore[union-attr]
    person = Person(rt.dispatcher, "yp-1", now=NOON)
    person.command("stop")  # the real /stop
    with session(rt.engine) as s:
        assert queue_notice(s, pid, "Another update", now=NOON + timedelta(days=1), reach=RULES) is None
        assert reach.send_first(s, pid, reach.Outbound("We have read your message"), purpose="safeguarding",
                                now=NIGHT, settings=RULES) is not None  # urgent: the exception
    notices = [json.loads(r.payload_json)["text"] for r in rows(rt, pid) if r.kind == "notice"]
    assert notices == ["Your card moved", "We have read your message"]  # nothing else while paused


def test_a_staff_reply_to_someone_who_paused_is_refused_with_a_reason(rt) -> None:
    (sender,) = make_carers(rt, 1)
    carer = Person(rt.dispatcher, sender, now=NOON)
    carer.text("hello")
    carer.command("stop")
    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("web", sender))
        assert found is not None
        sub = submissions.get_or_start(s, found[0], "carer_pulse", 1, now=NOON)
        yes = submissions.put_answer(s, sub, "talk_offer", "yes", skipped=False, free_text=False,
                                     quarantined=False, now=NOON)
        req = contact_requests.file(s, contact_requests.Consent(yes.id, found[0].id, "carer", "north",  # type: ignore[arg-type]
                                                                "carer_pulse", "talk_offer", NOON),
                                    team="fostering_team", now=NOON)
    with session(rt.engine) as s, pytest.raises(Invalid, match="paused ourvoice"):
        request_actions.reply(rt.library, s, Actor("f", "fostering_team"), req, message="Hello",  # type: ignore[arg-type]
                              now=NOON, reach_settings=RULES)


def test_survey_notices_follow_the_carers_quiet_hours_from_the_one_rule(rt) -> None:
    make_carers(rt, 2)
    open_wave(rt)
    late = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)  # quiet for young people, not yet for carers (22:00)
    assert send_notices(rt, now=late) == "waves=1 invite=2"
    assert send_notices(rt, now=datetime(2026, 12, 1, 22, 30, tzinfo=UTC)) == "quiet_hours"
