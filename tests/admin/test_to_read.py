"""The "To read" queue (issue 18): every free-text answer queued in the dispatcher's transaction, risk-first
order, mark read, turn into an alert, escalation on an injected clock, district scoping, one audit row per
view; the admin pages and the shared actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from admin.actions import reading as actions
from admin.actions.policy import Actor, Forbidden, NotFound
from admin.jobs import to_read as job
from storage import audit
from storage import reading as store
from storage.models import Alert, Participant, ToRead
from tests.admin.conftest import Admin, add_staff, csrf_of, good_news, young_person
from tests.fakes.smtp_sink import SmtpSink
from tests.helpers import Person

WORDS = "The bus to college never comes on time so I miss the first lesson"
WINDOW = {"within": "1 working day", "tz": "Europe/London"}
EAST = Actor("wendy", "participation_worker", ("east",))
WEST = Actor("wes", "participation_worker", ("west",))
MANAGER = Actor("mia", "participation_manager", ())


def entries(admin: Admin) -> list[ToRead]:
    with admin.db() as s:
        return list(s.execute(select(ToRead).order_by(ToRead.id)).scalars())


def test_every_free_text_answer_is_queued_in_the_same_transaction(admin: Admin) -> None:
    p = young_person(admin, "yp-1", "east")
    good_news(p, WORDS)
    rows = entries(admin)
    assert len(rows) == 1
    assert (rows[0].district, rows[0].read_at, rows[0].flagged) == ("east", None, False)
    with admin.db() as s:
        plain, sealed = store.words(s, rows[0].id)
        assert plain is None  # free text is stored only encrypted (issue 22)
        assert admin.rt.keyring.decrypt(sealed) == WORDS
    # Button presses and choices are not free text: nothing else was queued on the way.
    p.command("menu")
    assert len(entries(admin)) == 1


def test_flagged_words_are_queued_first_and_read_back_decrypted(admin: Admin) -> None:
    calm = young_person(admin, "yp-calm", "east")
    good_news(calm, WORDS)
    admin.clock.advance(minutes=5)
    worried = young_person(admin, "yp-worried", "east", now=admin.clock.now)
    result = good_news(worried, "my stepdad hits me when mum is at work")
    assert result.flagged
    with admin.db() as s:
        queue = actions.queue(s, MANAGER, now=admin.clock.now, **WINDOW)
        assert [e.item.flagged for e in queue] == [True, False]  # risk first, although it came later
        flagged_id = queue[0].item.id
        plain, sealed = store.words(s, flagged_id)
        assert plain is None and sealed is not None  # flagged words are kept only encrypted
        _, words = actions.show(admin.rt.keyring, s, MANAGER, flagged_id, now=admin.clock.now, **WINDOW)
    assert words == "my stepdad hits me when mum is at work"


def test_risk_score_orders_the_queue_then_age(admin: Admin) -> None:
    now = admin.clock.now
    p = young_person(admin, "yp-order", "east")
    ids = []
    for q in ["a", "b", "c"]:
        good_news(p, f"{WORDS} {q}")
        ids.append(entries(admin)[-1].id)
    with admin.db() as s:
        s.execute(update(ToRead).where(ToRead.id == ids[0]).values(score=0.1, created_at=now - timedelta(hours=3)))
        s.execute(update(ToRead).where(ToRead.id == ids[1]).values(score=0.9, created_at=now - timedelta(hours=1)))
        s.execute(update(ToRead).where(ToRead.id == ids[2]).values(score=0.1, created_at=now - timedelta(hours=5)))
        order = [e.item.id for e in actions.queue(s, MANAGER, now=now, **WINDOW)]
    assert order == [ids[1], ids[2], ids[0]]


def test_mark_read_once_with_one_audit_row_per_view(admin: Admin) -> None:
    good_news(young_person(admin, "yp-read", "east"), WORDS)
    entry_id = entries(admin)[0].id
    with admin.db() as s:
        for _ in range(2):
            actions.show(admin.rt.keyring, s, EAST, entry_id, now=admin.clock.now, **WINDOW)
        assert actions.mark_read(s, EAST, entry_id, now=admin.clock.now) is True
        assert actions.mark_read(s, EAST, entry_id, now=admin.clock.now) is False
        assert actions.queue(s, EAST, now=admin.clock.now, **WINDOW) == []
        views = audit.entries(s, action="toread.view")
        reads = audit.entries(s, action="toread.read")
    assert [(e.actor, e.target) for e in views] == [("wendy", f"toread:{entry_id}")] * 2
    assert len(reads) == 1
    assert all(WORDS not in e.detail for e in views + reads)
    assert entries(admin)[0].read_by == "wendy"


def test_district_staff_see_only_their_districts(admin: Admin) -> None:
    good_news(young_person(admin, "yp-east", "east"), WORDS)
    good_news(young_person(admin, "yp-nowhere", None), WORDS + " too")
    east_id, none_id = (e.id for e in entries(admin))
    with admin.db() as s:
        assert [e.item.id for e in actions.queue(s, EAST, now=admin.clock.now, **WINDOW)] == [east_id]
        assert actions.queue(s, WEST, now=admin.clock.now, **WINDOW) == []
        assert len(actions.queue(s, MANAGER, now=admin.clock.now, **WINDOW)) == 2
        for who, entry in ((WEST, east_id), (EAST, none_id)):
            with pytest.raises(NotFound, match="no entry"):
                actions.show(admin.rt.keyring, s, who, entry, now=admin.clock.now, **WINDOW)
            with pytest.raises(NotFound, match="no entry"):
                actions.mark_read(s, who, entry, now=admin.clock.now)
        with pytest.raises(Forbidden, match="cannot"):
            actions.queue(s, Actor("pam", "panel_viewer"), now=admin.clock.now, **WINDOW)
        assert audit.entries(s, action="toread.view") == []


def test_turning_an_entry_into_an_alert_emails_without_the_words(admin: Admin) -> None:
    with SmtpSink() as sink:
        from bot.alerts import EmailRoute, Recipient

        admin.rt.notifier.recipients.append(Recipient(EmailRoute(sink.host, sink.port, "ov@test"), "duty@test"))
        good_news(young_person(admin, "yp-alert", "east"), WORDS)
        entry_id = entries(admin)[0].id
        with admin.db() as s:
            ref = actions.to_alert(admin.rt, s, EAST, entry_id, now=admin.clock.now)
        assert admin.rt.notifier.wait_idle(10)
        mails = sink.messages
    with admin.db() as s:
        alert = s.execute(select(Alert).where(Alert.alert_ref == ref)).scalar_one()
        assert admin.rt.keyring.decrypt(alert.text_enc) == WORDS
        assert alert.categories == actions.STAFF_CATEGORY
        assert [e.action for e in audit.entries(s) if e.action.startswith("toread")] == ["toread.alert"]
    row = entries(admin)[0]
    assert (row.alert_ref, row.read_by) == (ref, "wendy")
    assert len(mails) == 1
    body = mails[0].get_content() if hasattr(mails[0], "get_content") else str(mails[0])
    assert ref in str(body)
    assert "college" not in str(body)
    assert "not yet known" not in str(body)


def test_an_alert_from_the_queue_quarantines_the_words_like_a_flagged_message(admin: Admin) -> None:
    """Once staff judge words to be a disclosure, they leave quotes and reports and are kept only encrypted."""
    from storage import quotes
    from storage.models import Answer, Quote

    good_news(young_person(admin, "yp-quarantine", "east"), WORDS)
    entry = entries(admin)[0]
    with admin.db() as s:
        answer = s.get(Answer, entry.answer_id)
        assert answer is not None and not answer.quarantined
        quotes.add(s, answer_id=answer.id, flow_id="good_news", question_id=entry.question_id, band="teen",
                   scrubbed_text=WORDS, answered_at=admin.clock.now, now=admin.clock.now)
    with admin.db() as s:
        actions.to_alert(admin.rt, s, EAST, entry.id, now=admin.clock.now)
    with admin.db() as s:
        answer = s.get(Answer, entry.answer_id)
        assert answer is not None and answer.quarantined and answer.text_value is None
        assert answer.text_enc is not None and admin.rt.keyring.decrypt(answer.text_enc) == WORDS
        assert s.execute(select(Quote.status)).scalar_one() == "withdrawn"
        assert quotes.list_quotes(s, status="pending") == []


def test_due_dates_count_working_days_in_the_council_timezone() -> None:
    london = "Europe/London"
    fri = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 15:00 GMT
    assert actions.due_at(fri, "1 working day", london) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday
    sat = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    assert actions.due_at(sat, "1 working day", london) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # Tue 00:00
    tue = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert actions.due_at(tue, "2 working days", london) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert actions.due_at(tue, "4h", london) == tue + timedelta(hours=4)
    # Across the clock change (last Sunday of March): the same local time on Monday, an hour earlier in UTC.
    fri_march = datetime(2027, 3, 26, 10, 0, tzinfo=UTC)  # 10:00 GMT (Good Friday: weekends only here)
    assert actions.due_at(fri_march, "1 working day", london, "") == datetime(2027, 3, 29, 9, 0, tzinfo=UTC)


def test_bank_holidays_are_not_working_days() -> None:
    """Nobody reads the queue on Christmas Day: the deadline steps over the holidays of the council's nation."""
    london = "Europe/London"
    christmas_eve = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)  # Thursday; Fri 25 and Mon 28 (Boxing Day observed)
    assert actions.due_at(christmas_eve, "1 working day", london) == datetime(2026, 12, 29, 15, 0, tzinfo=UTC)
    assert actions.due_at(christmas_eve, "1 working day", london, "") == datetime(2026, 12, 25, 15, 0, tzinfo=UTC)
    good_friday = datetime(2027, 3, 26, 10, 0, tzinfo=UTC)  # queued on a holiday: counts from Tuesday morning
    assert actions.due_at(good_friday, "1 working day", london) == datetime(2027, 3, 30, 23, 0, tzinfo=UTC)
    scotland_only = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # St Andrew's Day: a holiday in Scotland only
    assert actions.due_at(scotland_only, "1 working day", london) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert actions.due_at(scotland_only, "1 working day", london, "GB-SCT") == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def test_an_unknown_holiday_region_is_refused_with_a_reason() -> None:
    from pydantic import ValidationError

    from bot.settings import BotSettings

    with pytest.raises(ValidationError, match="holidays package knows"):
        BotSettings(bank_holidays="XX-NOWHERE")


def test_unread_entries_escalate_once_after_the_service_level(admin: Admin) -> None:
    from bot.channels.email import EmailSettings
    from tests.support.email import send_queued_email

    with SmtpSink() as sink:
        admin.rt.settings = admin.rt.settings.model_copy(update={
            "smtp_host": sink.host, "smtp_port": sink.port, "alert_email_to": "duty@test",
            "alert_email_escalate_to": "boss@test",
        })
        admin.rt.email_settings = EmailSettings(_env_file=None, safeguarding_to="boss@test, sg@test")  # type: ignore[call-arg]
        tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        good_news(young_person(admin, "yp-late", "east", now=tuesday), WORDS)
        good_news(young_person(admin, "yp-read-in-time", "east", now=tuesday), WORDS + "!")
        late_id, read_id = (e.id for e in entries(admin))
        with admin.db() as s:
            actions.mark_read(s, EAST, read_id, now=tuesday + timedelta(hours=2))
        assert job.escalate(admin.rt, now=tuesday + timedelta(hours=23, minutes=59)) == "escalated=0"
        assert job.escalate(admin.rt, now=tuesday + timedelta(days=1)) == "escalated=1"
        assert job.escalate(admin.rt, now=tuesday + timedelta(days=2)) == "escalated=0"  # once per entry
        send_queued_email(admin.rt)
        mails = list(sink.messages)
    # The escalation contact and the safeguarding team, each once; never the duty inbox.
    assert sorted(m["To"] for m in mails) == ["boss@test", "sg@test"]
    assert f"Entries: {late_id}" in str(mails[0])
    assert "college" not in str(mails[0])
    with admin.db() as s:
        queue = actions.queue(s, MANAGER, now=tuesday + timedelta(days=2), **WINDOW)
    assert [(e.item.id, e.overdue, e.item.escalated_at is not None) for e in queue] == [(late_id, True, True)]


def test_escalation_job_is_registered_with_the_scheduler() -> None:
    from admin.scheduler import JOBS

    assert any(j.where == "admin.jobs.to_read:escalate" for j in JOBS)


# -- the admin pages -----------------------------------------------------------------------------


def test_queue_page_entry_page_mark_read_and_alert(admin: Admin) -> None:
    add_staff(admin, "wendy", "participation_worker", ("east",))
    add_staff(admin, "wes", "participation_worker", ("west",))
    add_staff(admin, "pam", "panel_viewer")
    good_news(young_person(admin, "yp-web", "east"), WORDS)
    good_news(young_person(admin, "yp-web2", "east"), WORDS + " again")
    first, second = (e.id for e in entries(admin))
    c, csrf = admin.client_for("wendy")
    page = c.get("/admin/to-read")
    assert page.status_code == 200
    assert f"/admin/to-read/{first}" in page.text
    assert "college" not in page.text  # the list never shows words
    assert 'href="/admin/to-read"' in c.get("/admin/").text  # in the navigation
    entry = c.get(f"/admin/to-read/{first}")
    assert WORDS in entry.text
    done = c.post(f"/admin/to-read/{first}/read", data={"csrf_token": csrf_of(entry.text)})
    assert done.status_code == 303
    raised = c.post(f"/admin/to-read/{second}/alert", data={"csrf_token": csrf})
    assert raised.status_code == 303
    assert f"/admin/to-read/{second}" not in c.get("/admin/to-read").text
    alerted = entries(admin)[1].alert_ref
    with admin.db() as s:
        assert len(audit.entries(s, action="toread.view")) == 1
        assert s.execute(select(Alert)).scalar_one().alert_ref == alerted
    west, _ = admin.client_for("wes")
    assert west.get(f"/admin/to-read/{first}").status_code == 404
    assert WORDS not in west.get("/admin/to-read").text
    panel, _ = admin.client_for("pam")
    assert panel.get("/admin/to-read").status_code == 403


def test_queue_end_to_end_on_each_database(db_url: str, tmp_path: Any) -> None:
    """Dispatcher -> queue -> read / alert -> escalation, on SQLite and (when configured) PostgreSQL."""
    from bot.runtime import build_runtime
    from storage.db import session
    from tests.conftest import fixed_now, make_settings

    rt = build_runtime(make_settings(db_url, tmp_path))
    try:
        now = fixed_now()
        ids = []
        for i in range(3):
            p = Person(rt.dispatcher, f"db-{i}", now=now + timedelta(minutes=i))
            p.text("hi")
            joined = p.press("I'm 11 to 16")
            with session(rt.engine) as s:
                s.execute(update(Participant).where(Participant.id == joined.participant_id).values(district="east"))
            good_news(p, f"{WORDS} {i}")
        with session(rt.engine) as s:
            ids = list(s.execute(select(ToRead.id).order_by(ToRead.id)).scalars())
            s.execute(update(ToRead).values(score=0.1))  # the same score: then the oldest first
            s.execute(update(ToRead).where(ToRead.id == ids[2]).values(score=0.8))
        with session(rt.engine) as s:
            order = [e.item.id for e in actions.queue(s, EAST, now=now, **WINDOW)]
            assert order == [ids[2], ids[0], ids[1]]
            assert actions.mark_read(s, EAST, ids[0], now=now)
            ref = actions.to_alert(rt, s, EAST, ids[0], now=now)  # already read: the alert is still recorded
        assert ref.startswith("A-")
        assert job.escalate(rt, now=now + timedelta(days=1, minutes=5)) == "escalated=2"
        assert job.escalate(rt, now=now + timedelta(days=3)) == "escalated=0"
        with session(rt.engine) as s:
            rows = {r.id: r for r in s.execute(select(ToRead)).scalars()}
        assert rows[ids[0]].alert_ref == ref and rows[ids[0]].escalated_at is None
        assert all(rows[i].escalated_at is not None for i in ids[1:])
    finally:
        rt.notifier.stop()
        rt.engine.dispose()


def test_challenge_card_text_is_queued_and_named_as_the_card(admin: Admin) -> None:
    from storage.models import ChallengeCard

    p = young_person(admin, "yp-card", "east")
    p.press("✊")
    p.feel("🙂")
    p.text("Every young person in care should be able to see their brothers and sisters")
    p.text("Because family matters and some of us never get to see them")
    p.press("Children and young people in care")
    p.press("Done")
    p.press("Not sure")
    p.press("✅ Send it")
    with admin.db() as s:
        card = s.execute(select(ChallengeCard)).scalar_one()
        queue = actions.queue(s, MANAGER, now=admin.clock.now, **WINDOW)
    assert sorted(e.item.question_id for e in queue) == ["what_change", "why"]
    assert {e.card_id for e in queue} == {card.id}
    add_staff(admin, "mia", "participation_manager")
    c, _ = admin.client_for("mia")
    assert f"challenge card {card.id}" in c.get("/admin/to-read").text


def test_words_a_young_person_throws_away_leave_the_queue_with_them(admin: Admin) -> None:
    # A discarded review draft deletes its free-text answers (storage.reviews); the queue entry must not block
    # that (a foreign key error there once lost the whole step) and goes with them.
    from storage import reviews
    from storage.models import Answer

    good_news(young_person(admin, "yp-discard", "east"), WORDS)
    with admin.db() as s:
        sub_id = s.execute(select(Answer.submission_id).where(Answer.text_enc.is_not(None))).scalar_one()
        assert reviews.delete_free_text(s, sub_id) == 1
    assert entries(admin) == []
