"""GOV.UK Notify behind one notifier interface (issue 25 item 2), against the loopback Notify stand-in with the
official client: templates by id and our references, an outage retried then recorded, a number Notify refuses
recorded in its words, and nothing sent in quiet hours or to someone who paused. Addresses are stored encrypted
and can be removed. Every time is an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.jobs.carer_reminders import send_notices
from admin.jobs.notify import send as notify_job
from bot import notify, notify_receipts
from bot.notify import GovNotify, NotifySettings, add_contact, notify_first, send_due
from bot.reach import ReachSettings
from storage import notify_store, participants
from storage.db import session
from storage.models import ContactPoint, NotifyMessage, OutboxMessage
from tests.browser import serve
from tests.carers.conftest import make_carers, open_wave, runtime_for
from tests.fakes.notify_api import API_KEY, NotifyStandIn
from tests.helpers import Person

SMS, EMAIL = "a1111111-1111-4111-8111-111111111111", "b2222222-2222-4222-8222-222222222222"
RULES = ReachSettings(_env_file=None, quiet_hours_young_person="21:00-08:00",  # type: ignore[call-arg]
                      quiet_hours_carer="21:00-08:00", daily_cap=3, timezone="Europe/London")
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def stand_in():
    with NotifyStandIn(templates={SMS: "sms", EMAIL: "email"}) as fake:
        yield fake


@pytest.fixture
def rt(db_url: str, tmp_path: Path, stand_in: NotifyStandIn):
    runtime = runtime_for(db_url, tmp_path)
    runtime.reach_settings = RULES
    runtime.notify_settings = NotifySettings(  # type: ignore[call-arg]
        _env_file=None, api_key=API_KEY, base_url=stand_in.base_url, sms_template=SMS, email_template=EMAIL,
        max_attempts=2,
    )
    yield runtime
    runtime.engine.dispose()


def carer_with(rt, *addresses: tuple[str, str]) -> tuple[str, int]:
    (sender,) = make_carers(rt, 1)
    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("web", sender))
        assert found is not None
        pid = int(found[0].id)  # type: ignore[arg-type]
        for kind, address in addresses:
            add_contact(s, rt.keyring, pid, kind, address, now=DAY)
    return sender, pid


def messages(rt) -> list[NotifyMessage]:
    with session(rt.engine) as s:
        return list(s.execute(select(NotifyMessage).order_by(NotifyMessage.id)).scalars())


def send(rt, now: datetime) -> dict[str, int]:
    return send_due(partial(session, rt.engine), rt.keyring, GovNotify(rt.notify_settings), rt.notify_settings,
                    link="https://ourvoice.example/", now=now)


def test_a_survey_invitation_goes_by_text_and_email_with_template_ids_and_references(rt, stand_in) -> None:
    _, pid = carer_with(rt, ("sms", "07700 900123"), ("email", "carer@example.org"))
    with session(rt.engine) as s:  # stored only encrypted
        stored = [c.address_enc for c in s.execute(select(ContactPoint)).scalars()]
    assert all(b"07700" not in raw and b"example.org" not in raw for raw in stored)
    open_wave(rt)
    assert send_notices(rt, now=DAY) == "waves=1 invite=1"
    assert notify_job(rt, now=DAY) == "sent=2"
    assert [(n.kind, n.to, n.template_id, n.personalisation) for n in stand_in.sent] == [
        ("sms", "07700900123", SMS, {"link": rt.settings.public_url, "what": "Your survey is waiting"}),
        ("email", "carer@example.org", EMAIL, {"link": rt.settings.public_url, "what": "Your survey is waiting"}),
    ]
    rows = messages(rt)
    assert [r.reference for r in rows] == [n.reference for n in stand_in.sent]  # our reference travels
    assert [r.status for r in rows] == ["sent", "sent"] and all(r.notify_id for r in rows)
    assert {r.notice for r in rows} == {"survey_invite"}
    # No callback set up: the next run asks Notify how they went (receipts polled, each once).
    assert notify_job(rt, now=DAY + timedelta(minutes=1)) == "delivered=2"
    assert {r.receipt for r in messages(rt)} == {"delivered"}
    assert notify_job(rt, now=DAY + timedelta(minutes=2)) == "nothing due"


def test_an_outage_is_retried_then_recorded_as_failed(rt, stand_in) -> None:
    _, pid = carer_with(rt, ("sms", "07700900123"))
    with session(rt.engine) as s:
        notify_first(s, pid, "staff_reply", purpose="staff_reply", now=DAY, reach_settings=RULES,
                     settings=rt.notify_settings)
    stand_in.fail_next = 5
    assert send(rt, DAY) == {"sent": 0, "refused": 0, "retry": 1, "failed": 0, "cancelled": 0}
    (row,) = messages(rt)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.not_before.astimezone(UTC) == DAY + notify.retry_delay(1)  # type: ignore[union-attr]
    assert send(rt, DAY + timedelta(seconds=30))["retry"] == 0  # not before its time
    assert send(rt, DAY + timedelta(minutes=1))["failed"] == 1  # max_attempts=2
    (row,) = messages(rt)
    assert (row.status, row.attempts, row.error) == ("failed", 2, "Notify answered 500 (after 2 tries)")
    assert stand_in.sent == []


def test_an_outage_then_recovery_sends_it_once(rt, stand_in) -> None:
    _, pid = carer_with(rt, ("email", "carer@example.org"))
    with session(rt.engine) as s:
        notify_first(s, pid, "card_update", purpose="card_update", now=DAY, reach_settings=RULES,
                     settings=rt.notify_settings)
    stand_in.fail_next = 1
    send(rt, DAY)
    assert send(rt, DAY + timedelta(minutes=1))["sent"] == 1
    assert len(stand_in.sent) == 1 and messages(rt)[0].status == "sent"


def test_an_invalid_number_is_refused_with_a_clear_message(rt, stand_in) -> None:
    _, pid = carer_with(rt)
    with session(rt.engine) as s, pytest.raises(ValueError, match="not a UK mobile number"):
        add_contact(s, rt.keyring, pid, "sms", "01227 123456", now=DAY)
    with session(rt.engine) as s:  # a number stored before it was checked here: Notify's own refusal is recorded
        notify_store.add_contact(s, pid, "sms", rt.keyring.encrypt("0770090012"), now=DAY)
        notify_first(s, pid, "staff_reply", purpose="staff_reply", now=DAY, reach_settings=RULES,
                     settings=rt.notify_settings)
    assert send(rt, DAY)["refused"] == 1
    (row,) = messages(rt)
    assert (row.status, row.error) == ("refused", "phone_number Not a UK mobile number")
    assert send(rt, DAY + timedelta(hours=1))["refused"] == 0  # never tried again


def test_nothing_is_sent_in_quiet_hours_or_to_someone_who_paused(rt, stand_in) -> None:
    sender, pid = carer_with(rt, ("sms", "07700900123"))
    night = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    with session(rt.engine) as s:
        notify_first(s, pid, "card_update", purpose="card_update", now=night, reach_settings=RULES,
                     settings=rt.notify_settings)
    assert send(rt, night + timedelta(hours=1))["sent"] == 0  # held until quiet hours end
    morning = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert send(rt, morning)["sent"] == 1
    carer = Person(rt.dispatcher, sender, now=morning)
    carer.text("hello")
    carer.command("stop")
    with session(rt.engine) as s:
        queued = notify_first(s, pid, "card_update", purpose="card_update", now=morning, reach_settings=RULES,
                              settings=rt.notify_settings)
    assert queued.ids == () and queued.decision is not None and queued.decision.reason == "paused"
    assert len(stand_in.sent) == 1


def test_a_notice_queued_before_a_pause_or_a_removed_address_is_cancelled(rt, stand_in) -> None:
    sender, pid = carer_with(rt, ("sms", "07700900123"), ("email", "carer@example.org"))
    with session(rt.engine) as s:
        notify_first(s, pid, "card_update", purpose="card_update", now=DAY, reach_settings=RULES,
                     settings=rt.notify_settings)
        assert notify_store.remove_contacts(s, pid, "email") == 1  # removable at any time
    Person(rt.dispatcher, sender, now=DAY).command("stop")
    assert send(rt, DAY + timedelta(minutes=1)) == {"sent": 0, "refused": 0, "retry": 0, "failed": 0, "cancelled": 1}
    assert [r.status for r in messages(rt)] == ["cancelled", "cancelled"]
    assert stand_in.sent == []


TOKEN = "receipts-token-2026"


def test_delivery_receipts_by_callback_a_permanent_failure_stops_the_address_and_the_person_is_told(
    rt, stand_in
) -> None:
    from fastapi import FastAPI

    rt.notify_settings = rt.notify_settings.model_copy(update={"callback_token": TOKEN})
    rt.clock = lambda: DAY + timedelta(minutes=5)
    sender, pid = carer_with(rt, ("sms", "07700 900123"), ("email", "carer@example.org"))
    stand_in.outcomes = {"07700900123": "permanent-failure"}  # a number that no longer exists
    with session(rt.engine) as s:
        notify_first(s, pid, "card_update", purpose="card_update", now=DAY, reach_settings=RULES,
                     settings=rt.notify_settings)
    assert send(rt, DAY)["sent"] == 2
    app = FastAPI()
    app.include_router(notify_receipts.router(rt))
    with serve(app) as url:
        stand_in.callback_url, stand_in.callback_token = url + notify_receipts.RECEIPTS_PATH, TOKEN
        assert stand_in.send_receipts(token="not-the-token") == [401, 401]  # checked: nothing recorded
        assert {r.receipt for r in messages(rt)} == {None}
        assert stand_in.send_receipts() == [200, 200]
    assert sorted((r.kind, r.receipt) for r in messages(rt)) == [("email", "delivered"), ("sms", "permanent-failure")]
    with session(rt.engine) as s:
        sms = next(c for c in notify_store.contacts(s, pid) if c.kind == "sms")
        assert sms.not_working_at is not None and sms.told_at is not None
        told = [r.payload_json for r in s.execute(select(OutboxMessage)).scalars()]
    assert len(told) == 1 and "07*** ***123" in told[0] and "900123" not in told[0]
    carer = Person(rt.dispatcher, sender, now=DAY + timedelta(minutes=10))
    carer.text("hi")  # told the next time they open the chat, once
    assert "couldn't be delivered, so we've stopped using it" in carer.said
    carer.text("hello")
    assert "couldn't be delivered" not in carer.said
    carer.press("🔒")
    carer.press("📧 Email or text me")  # My stuff shows which one stopped
    assert "• Text messages: 07*** ***123 (not working: we've stopped using it)" in carer.said
    with session(rt.engine) as s:  # the next notice goes only to the address that works
        queued = notify_first(s, pid, "card_update", purpose="card_update", now=DAY + timedelta(hours=1),
                              reach_settings=RULES, settings=rt.notify_settings)
        assert [notify_store.contact(s, m.contact_point_id).kind for m in notify_store.due(  # type: ignore[union-attr,arg-type]
            s, now=DAY + timedelta(hours=1)) if m.id in queued.ids] == ["email"]


def test_the_receipts_endpoint_is_mounted_and_refuses_without_the_token(rt) -> None:
    from fastapi.testclient import TestClient

    from bot.runtime import build_app

    with TestClient(build_app(rt)) as client:
        assert client.post(notify_receipts.RECEIPTS_PATH, json={"id": "x", "status": "delivered"}).status_code == 401
        assert client.post(notify_receipts.RECEIPTS_PATH, json={"id": "x", "status": "delivered"},
                           headers={"Authorization": "Bearer "}).status_code == 401  # no token set: none accepted
