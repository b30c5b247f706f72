"""One carer at a time: the invitation leads into the survey, reminders resume at the exact question,
/back changes answers until they are sent, "stop reminders" and /stop are respected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from admin.jobs.carer_reminders import send_notices
from bot.messages import Outbound
from storage import outbox, submissions, waves
from storage.db import session
from storage.models import OutboxMessage
from tests.carers.conftest import answer_current, answer_n, make_carers, open_wave
from tests.helpers import Person

DAY0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, 09:00 in London (GMT in December)


def notices_for(rt, pid: int) -> list[Outbound]:
    from sqlalchemy import select  # tests may read tables directly

    with session(rt.engine) as s:
        rows = s.execute(
            select(OutboxMessage).where(OutboxMessage.participant_id == pid, OutboxMessage.kind == "notice")
            .order_by(OutboxMessage.id)
        ).scalars()
        return [Outbound.from_json(json.loads(r.payload_json)) for r in rows]


def pid_of(rt, sender: str) -> int:
    from storage import participants

    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("web", sender))
        assert found is not None
        return found[0].id  # type: ignore[return-value]


def test_invitation_start_button_lands_in_the_survey(rt) -> None:
    (sender,) = make_carers(rt, 1)
    carer = Person(rt.dispatcher, sender, now=DAY0 - timedelta(days=2))
    carer.text("hi")  # an existing carer, sitting at their menu
    open_wave(rt)
    assert send_notices(rt, now=DAY0) == "waves=1 invite=1"
    (invite,) = notices_for(rt, pid_of(rt, sender))
    assert "until 15 January 2027" in invite.text
    assert "▶ Start" in [c.label for c in invite.choices]
    assert invite.lasting  # the web chat keeps this Start working under later messages
    carer.now = DAY0 + timedelta(hours=2)
    carer.text("ok")  # the web chat shows the pending invitation with this reply
    assert carer.said.startswith("Hello! The annual foster carer survey is open")
    carer.press("▶ Start")
    assert "Part 1 of 9" in carer.said
    assert "How long have you been a foster carer?" in carer.said
    assert send_notices(rt, now=DAY0 + timedelta(hours=3)) == "waves=1 sent=0"  # invited once only


def test_carer_who_stops_at_question_7_resumes_there_five_days_later_with_answers_kept(rt) -> None:
    (sender,) = make_carers(rt, 1)
    open_wave(rt)
    send_notices(rt, now=DAY0)
    carer = Person(rt.dispatcher, sender, now=DAY0 + timedelta(hours=1))
    carer.text("hello")
    carer.press("▶ Start")
    answer_n(carer, 6)
    assert "How useful are your supervision visits" in carer.said  # question 7, not answered
    pid = pid_of(rt, sender)
    with session(rt.engine) as s:
        before = [(a.question_id, a.value_json) for _, a in submissions.answers_of(s, pid, "carer_annual")]
    assert len(before) == 6

    # Day 3: the reminder says where they stopped and carries question 7's own buttons.
    assert "resume=1" in send_notices(rt, now=DAY0 + timedelta(days=3, hours=1))
    reminder = notices_for(rt, pid)[-1]
    assert "question 7 of 27" in reminder.text
    assert "Part 3 of 9: Support from your social workers" in reminder.text
    assert "How useful are your supervision visits" in reminder.text
    # Day 5: they come back through the reminder and answer question 7 with its "5" button.
    carer.now = DAY0 + timedelta(days=5)
    five = next(c.token for c in reminder.choices if c.label.startswith("5"))  # carers: numbers, no faces
    carer.token(five)
    assert "In the last year, did you need help out of office hours" in carer.said  # question 8 next
    with session(rt.engine) as s:
        after = [(a.question_id, a.value_json) for _, a in submissions.answers_of(s, pid, "carer_annual")]
        subs = {sub.id for sub, _ in submissions.answers_of(s, pid, "carer_annual")}
    assert after[:6] == before
    assert after[6] == ("supervision_useful", "5")
    assert len(subs) == 1, "one submission, resumed, not a new run"


def test_pausing_with_stop_and_coming_back_resumes_at_the_same_question(rt) -> None:
    (sender,) = make_carers(rt, 1)
    open_wave(rt)
    carer = Person(rt.dispatcher, sender, now=DAY0)
    carer.text("hello")
    carer.press("📋 Annual")
    answer_n(carer, 6)
    carer.command("stop")
    # Paused means nothing sent first, the invitation included (the one rule, bot/reach.py, issue 25).
    assert send_notices(rt, now=DAY0 + timedelta(days=3, hours=1)) == "waves=1 sent=0"
    assert send_notices(rt, now=DAY0 + timedelta(days=8)) == "waves=1 sent=0"  # paused: no reminders
    carer.now = DAY0 + timedelta(days=5)
    carer.text("hello again")  # (words the risk check does not flag: a safe reply would be the whole answer)
    assert "Welcome back" in carer.said
    assert "How useful are your supervision visits" in carer.said


def test_back_changes_answers_until_the_survey_is_sent(rt) -> None:
    (sender,) = make_carers(rt, 1)
    open_wave(rt, "carer_pulse")
    carer = Person(rt.dispatcher, sender, now=DAY0)
    carer.text("hello")
    carer.press("📝 Quick check-in")
    carer.press("Disagree")  # treated as a professional (agree/disagree as words for carers)
    carer.press("3")  # supervision
    carer.command("back")
    assert "How useful are your supervision visits" in carer.said
    carer.press("5")
    carer.press("4")  # informed
    carer.press("4")  # recommend
    carer.press("No")  # not thinking of stopping -> straight to send
    assert "Send my answers" in " ".join(carer.buttons)
    carer.press("⬅ Back")
    assert "thinking about stopping" in carer.said
    carer.press("Maybe")
    carer.press("Yes")  # would like a chat
    carer.press("✅ Send my answers")
    assert "Sent, thank you" in carer.said
    carer.command("back")
    assert "nothing before this" in carer.said
    pid = pid_of(rt, sender)
    with session(rt.engine) as s:
        rows = submissions.answers_of(s, pid, "carer_pulse")
        got = {a.question_id: json.loads(a.value_json) for _, a in rows}
        (sub, _), *_ = submissions.answers_of(s, pid, "carer_pulse")
    assert got["supervision_useful"] == 5
    assert got["thinking_of_stopping"] == "maybe"
    assert got["talk_offer"] == "yes"
    assert sub.status == "completed"
    assert send_notices(rt, now=DAY0 + timedelta(days=4)) == "waves=1 sent=0"  # finished: never reminded


def test_stop_reminders_from_the_menu_means_no_reminders_but_survey_still_open(rt) -> None:
    (sender,) = make_carers(rt, 1)
    wave_id = open_wave(rt)
    send_notices(rt, now=DAY0)
    carer = Person(rt.dispatcher, sender, now=DAY0 + timedelta(hours=1))
    carer.text("hello")
    carer.press("🔕")
    assert "no more reminders" in carer.said
    assert any(b.startswith("📋 Annual") for b in carer.buttons)  # back at their menu
    assert send_notices(rt, now=DAY0 + timedelta(days=3, hours=1)) == "waves=1 sent=0"
    assert send_notices(rt, now=DAY0 + timedelta(days=7, hours=1)) == "waves=1 sent=0"
    carer.press("🔕")
    assert "nothing to turn off" in carer.said
    with session(rt.engine) as s:
        st = waves.wave_status(s, wave_id)
        assert st is not None
        assert st.total.opted_out == 1
        assert outbox.pending_count(s, "web") == 0  # the invitation was shown when they wrote


def test_restart_reminder_for_someone_who_left_the_survey_part_way(rt) -> None:
    (sender,) = make_carers(rt, 1)
    open_wave(rt)
    send_notices(rt, now=DAY0)
    carer = Person(rt.dispatcher, sender, now=DAY0 + timedelta(hours=1))
    carer.text("hello")
    carer.press("▶ Start")
    answer_current(carer)
    carer.command("menu")  # went off to the check-in instead
    carer.press("📝")
    assert "restart=1" in send_notices(rt, now=DAY0 + timedelta(days=3, hours=1))
    last = notices_for(rt, pid_of(rt, sender))[-1]
    assert "those answers are kept" in last.text
    assert [c.label for c in last.choices] == ["▶ Start"]
    assert last.lasting
