"""Addresses people control and "talk to a worker" (issue 25 items 1 and 3), through the real dispatcher.

An address typed in My stuff is kept only encrypted: never as an answer, in the "To read" queue, the conversation or
an outbox payload (the SQLite file itself is searched). A young person's "talk to a worker" reaches their district
worker's queue within one scheduler tick and the worker's reply reaches the chat; an address given for that request
only gets a short Notify note when the worker replies, is not used for anything else, and goes when it is closed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.actions import requests as actions
from admin.actions.policy import Actor, NotFound
from admin.jobs.notify import send as notify_job
from admin.scheduler import JOBS, run_job
from bot.identity import tidy_copy
from bot.notify import NotifySettings
from bot.reach import ReachSettings
from storage import notify_store, participants
from storage.db import session
from storage.models import Answer, ContactPoint, NotifyMessage
from tests.carers.conftest import runtime_for
from tests.fakes.notify_api import API_KEY, NotifyStandIn
from tests.helpers import Person

DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday, outside quiet hours
TICK = next(j for j in JOBS if j.name == "contact_requests")
EAST = Actor("worker.east", "participation_worker", ("east",))
WEST = Actor("worker.west", "participation_worker", ("west",))
SMS, EMAIL = "a1111111-1111-4111-8111-111111111111", "b2222222-2222-4222-8222-222222222222"


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = runtime_for(db_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def young_person(rt, sender: str, band: str, district: str = "east") -> int:
    with session(rt.engine) as s:
        p, _ = participants.create(s, key_hash=rt.keyring.identity_hash("web", sender), channel="web",
                                   address_enc=None, now=DAY, audience="young_person", band=band, district=district)
        return int(p.id or 0)


def ask_for_a_worker(rt, sender: str, band: str = "teen", district: str = "east") -> Person:
    """A young person who asks, through the menu, for a worker to get in touch here in the chat."""
    young_person(rt, sender, band, district)
    me = Person(rt.dispatcher, sender, now=DAY)
    me.text("hi")
    me.press("🙋")
    me.press("Yes")
    me.press("💬 Here in this chat")
    return me


def test_an_address_is_kept_only_encrypted(sqlite_url: str, tmp_path: Path) -> None:
    rt = runtime_for(sqlite_url, tmp_path)
    pid = young_person(rt, "leaver", "young_adult")
    me = Person(rt.dispatcher, "leaver", now=DAY)
    me.text("hi")
    me.press("🔒")
    me.press("📧 Email or text me")
    me.press("📧 Add an email address")
    me.text("Robin.Leaver@example.org")
    assert "Saved. Email: Ro***@…" in me.said
    me.press("🔒")
    me.press("📧 Email or text me")
    me.press("📱 Add a mobile number")
    me.text("07700 900 555")
    with session(rt.engine) as s:
        points = notify_store.contacts(s, pid)
        assert [(c.kind, rt.keyring.decrypt(c.address_enc)) for c in points] == [
            ("email", "Robin.Leaver@example.org"), ("sms", "07700900555")]
        assert s.execute(select(Answer).where(Answer.question_id.in_(("email", "sms")))).first() is None  # type: ignore[attr-defined]
        person = participants.get(s, pid)
        assert person is not None
        copy = tidy_copy(s, rt.library, person, now=DAY, decrypt=rt.keyring.decrypt)  # their own copy: in full
    assert [(a["kind"], a["address"], a["used_for"]) for a in copy["your_email_and_text_addresses"]] == [  # type: ignore[attr-defined]
        ("email", "Robin.Leaver@example.org", "short notices"), ("text messages", "07700900555", "short notices")]
    rt.engine.dispose()
    raw = b"".join(p.read_bytes() for p in Path(sqlite_url.removeprefix("sqlite:///")).parent.glob("*.db*"))
    assert b"contact_point" in raw  # the scan reads the database itself
    for plain in (b"Leaver@example", b"example.org", b"07700900555", b"900 555"):
        assert plain not in raw, plain


def test_talk_to_a_worker_reaches_the_district_queue_in_one_tick_and_the_reply_reaches_the_chat(rt) -> None:
    me = ask_for_a_worker(rt, "teen-east")
    assert "has been asked to get in touch" in me.said
    assert run_job(rt, TICK, now=DAY + timedelta(minutes=1)) == "filed participation_worker=1"
    with session(rt.engine) as s:
        (req,) = actions.queue(s, EAST, rt.settings, now=DAY)
        assert actions.queue(s, WEST, rt.settings, now=DAY) == []  # another district's worker never sees it
        with pytest.raises(NotFound):
            actions.show(s, WEST, req.item.id, rt.settings, now=DAY)
        assert (req.item.flow_id, req.item.question_id, req.item.district) == ("talk_to_worker", "ask", "east")
        actions.reply(rt.library, s, EAST, req.item.id, message="Hi! Shall we meet at the youth hub on Friday?",
                      now=DAY + timedelta(minutes=5), reach_settings=rt.reach_settings,
                      notify_settings=rt.notify_settings)
    me.now = DAY + timedelta(minutes=10)
    me.text("hello")
    assert "A message from your participation worker, because you asked to talk to them:" in me.said
    assert "Shall we meet at the youth hub on Friday?" in me.said


def test_no_is_not_consent(rt) -> None:
    young_person(rt, "teen-no", "teen")
    me = Person(rt.dispatcher, "teen-no", now=DAY)
    me.text("hi")
    me.press("🙋")
    me.press("No")
    assert run_job(rt, TICK, now=DAY + timedelta(minutes=1)) == "filed 0"


def test_an_address_for_one_request_gets_the_note_and_goes_when_it_is_closed(rt) -> None:
    with NotifyStandIn(templates={SMS: "sms", EMAIL: "email"}) as fake:
        rt.reach_settings = ReachSettings(_env_file=None)  # type: ignore[call-arg]
        rt.notify_settings = NotifySettings(  # type: ignore[call-arg]
            _env_file=None, api_key=API_KEY, base_url=fake.base_url, sms_template=SMS, email_template=EMAIL)
        pid = young_person(rt, "teen-number", "teen")
        me = Person(rt.dispatcher, "teen-number", now=DAY)
        me.text("hi")
        me.press("🙋")
        me.press("Yes")
        me.press("📱 Text me too")
        me.text("07700 900 321")
        assert "07*** ***321" in me.said
        with session(rt.engine) as s:  # filed at once, with the number for it alone
            (req,) = actions.queue(s, EAST, rt.settings, now=DAY)
            assert notify_store.contacts(s, pid) == []  # not an address for anything else
            (point,) = notify_store.for_request(s, req.item.id)
        assert run_job(rt, TICK, now=DAY + timedelta(minutes=1)) == "filed 0"  # not filed twice
        with session(rt.engine) as s:
            actions.reply(rt.library, s, EAST, req.item.id, message="Hello! It's Sam, your participation worker.",
                          now=DAY + timedelta(minutes=2), reach_settings=rt.reach_settings,
                          notify_settings=rt.notify_settings)
        assert notify_job(rt, now=DAY + timedelta(minutes=3)) == "sent=1"
        (note,) = fake.sent
        assert (note.kind, note.to, note.template_id) == ("sms", "07700900321", SMS)
        assert note.personalisation == {  # a link and a fixed line, never the worker's words
            "link": rt.settings.public_url, "what": "You have a reply from your participation worker"}
        with session(rt.engine) as s:
            assert actions.close(s, EAST, req.item.id, outcome="spoke_to_them", now=DAY + timedelta(hours=1))
            assert s.execute(select(ContactPoint)).first() is None
            (row,) = s.execute(select(NotifyMessage)).scalars()
            assert (row.status, row.notice) == ("sent", "reply_participation_worker")


def test_the_participation_team_is_emailed_how_many_young_people_asked_never_who(rt) -> None:
    """A young person's request goes to the participation team's addresses too, so a worker without the admin
    open still hears of it: the number and the link, never the district, the band or anything said."""
    from bot.channels.email import EmailSettings
    from tests.fakes.smtp_sink import SmtpSink
    from tests.support.email import send_queued_email

    ask_for_a_worker(rt, "teen-east")
    with SmtpSink() as sink:
        rt.settings = rt.settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
        rt.email_settings = EmailSettings(_env_file=None, participation_to="participation@council.example")  # type: ignore[call-arg]
        assert run_job(rt, TICK, now=DAY + timedelta(minutes=1)) == "filed participation_worker=1"
        send_queued_email(rt, now=DAY + timedelta(minutes=1))
        (mail,) = sink.messages
    assert mail["To"] == "participation@council.example"
    assert "1 new request(s) from young people" in mail["Subject"]
    body = mail.get_content()
    assert "/admin/requests" in body
    for private in ("east", "teen", "teen-east"):
        assert private not in body.lower()


def test_without_a_participation_address_no_email_is_queued(rt) -> None:
    from storage.models import OutboxMessage

    ask_for_a_worker(rt, "teen-west", district="west")
    assert run_job(rt, TICK, now=DAY + timedelta(minutes=1)) == "filed participation_worker=1"
    with session(rt.engine) as s:
        assert s.execute(select(OutboxMessage).where(OutboxMessage.channel == "email")).first() is None  # type: ignore[arg-type]
