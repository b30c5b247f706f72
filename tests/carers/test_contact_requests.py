"""Requests that reach a person (issue 25 item 5): a carer who says they may stop fostering and would like
someone to get in touch is in the fostering team's queue after one scheduler tick, and the team's reply
reaches them in the chat. A No, or answers never sent, file nothing; another team never sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admin.actions import requests as actions
from admin.actions.policy import Actor, Invalid, NotFound
from admin.jobs.carer_reminders import send_notices
from admin.scheduler import JOBS, run_job
from storage import audit
from storage.db import session
from tests.carers.conftest import answer_n, make_carers, open_wave
from tests.helpers import Person

DAY0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FOSTERING = Actor("fostering.all", "fostering_team")
WORKER = Actor("worker.all", "participation_worker")
TICK = next(j for j in JOBS if j.name == "contact_requests")


def pulse_carer(rt, *, stopping: str, talk: str | None, send: bool = True) -> Person:
    (sender,) = make_carers(rt, 1)
    open_wave(rt, "carer_pulse")
    send_notices(rt, now=DAY0)
    carer = Person(rt.dispatcher, sender, now=DAY0 + timedelta(hours=1))
    carer.text("hello")
    carer.press("▶ Start")
    answer_n(carer, 4)
    assert "thinking about stopping fostering" in carer.said
    carer.press(stopping)
    if talk is not None:
        assert "get in touch" in carer.said
        carer.press(talk)
    if send:
        carer.press("✅ Send my answers")
        assert "Sent, thank you" in carer.said
    return carer


def tick(rt, now: datetime) -> str | None:
    return run_job(rt, TICK, now=now)


def test_yes_yes_reaches_the_fostering_team_and_their_reply_reaches_the_carer(rt) -> None:
    carer = pulse_carer(rt, stopping="Yes", talk="Yes")
    now = DAY0 + timedelta(hours=1, minutes=1)
    assert tick(rt, now) == "filed fostering_team=1"
    assert tick(rt, now + timedelta(minutes=1)) == "filed 0"  # filed once
    with session(rt.engine) as s:
        (req,) = actions.queue(s, FOSTERING, rt.settings, now=now)
        assert actions.queue(s, WORKER, rt.settings, now=now) == []  # not the young people's workers' queue
        with pytest.raises(NotFound):
            actions.show(s, WORKER, req.item.id, rt.settings, now=now)
    assert req.item.status == "new" and not req.overdue
    assert (req.item.flow_id, req.item.question_id, req.item.district) == ("carer_pulse", "talk_offer", "north")
    assert req.due > now  # a service level: 2 working days by default
    with session(rt.engine) as s:
        assert actions.acknowledge(s, FOSTERING, req.item.id, now=now)
        assert not actions.acknowledge(s, FOSTERING, req.item.id, now=now)
        actions.reply(rt.library, s, FOSTERING, req.item.id, now=now,
                      message="Thank you for telling us. Could we ring you on Thursday morning?")
    carer.now = now + timedelta(hours=2)
    carer.text("hi")  # the web chat shows what is waiting with its next reply
    assert "A message from the fostering team, because you asked us to get in touch:" in carer.said
    assert "Could we ring you on Thursday morning?" in carer.said
    with session(rt.engine) as s:
        assert actions.close(s, FOSTERING, req.item.id, outcome="spoke_to_them", now=now)
        with pytest.raises(Invalid):
            actions.reply(rt.library, s, FOSTERING, req.item.id, message="again", now=now)
        assert actions.queue(s, FOSTERING, rt.settings, now=now) == []
        (done,) = actions.queue(s, FOSTERING, rt.settings, now=now, closed=True)
        assert (done.item.outcome, done.item.replies, done.item.status) == ("spoke_to_them", 1, "closed")
        trail = [e.action for e in reversed(audit.entries(s)) if e.target == f"request:{req.item.id}"]
    assert trail == ["request.ack", "request.reply", "request.close"]


def test_no_thanks_or_answers_not_sent_file_nothing(rt) -> None:
    pulse_carer(rt, stopping="Yes", talk="No")
    assert tick(rt, DAY0 + timedelta(hours=2)) == "filed 0"


def test_answers_not_sent_are_not_consent(rt) -> None:
    pulse_carer(rt, stopping="Maybe", talk="Yes", send=False)
    assert tick(rt, DAY0 + timedelta(hours=2)) == "filed 0"


def test_an_unacknowledged_request_is_overdue_after_its_service_level(rt) -> None:
    pulse_carer(rt, stopping="Yes", talk="Yes")
    tick(rt, DAY0 + timedelta(hours=1))
    later = DAY0 + timedelta(days=3)  # Friday: past two working days
    with session(rt.engine) as s:
        (req,) = actions.queue(s, FOSTERING, rt.settings, now=later)
    assert req.overdue


def test_the_fostering_team_is_emailed_how_many_new_requests_wait_never_who(rt) -> None:
    from bot.features.carers import WaveSettings
    from tests.fakes.smtp_sink import SmtpSink
    from tests.support.email import send_queued_email

    pulse_carer(rt, stopping="Yes", talk="Yes")
    with SmtpSink() as sink:
        rt.settings = rt.settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
        rt.wave_settings = WaveSettings(_env_file=None, digest_to="fostering@council.example")  # type: ignore[call-arg]
        assert tick(rt, DAY0 + timedelta(hours=2)) == "filed fostering_team=1"
        send_queued_email(rt, now=DAY0 + timedelta(hours=2))
        (mail,) = sink.messages
    assert mail["To"] == "fostering@council.example"
    assert "1 new request(s) from foster carers" in mail["Subject"]
    body = mail.get_content()
    assert "/admin/requests" in body and "carer-0" not in body and "north" not in body
