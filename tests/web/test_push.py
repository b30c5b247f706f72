"""Web Push for the web chat over HTTP (issue 25 item 1), against the loopback push service stand-in: opting in
needs a joined person and keeps the subscription encrypted; a card update makes one neutral ping (decrypted by
the stand-in: exactly "You have a new message from ourvoice", nothing of the message); unsubscribing, 404/410,
/pause, quiet hours, 429 and a message already read in the chat are each honoured. Runs the real push_send job
(pywebpush signing with a VAPID key from settings)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlmodel import col
from typer.testing import CliRunner

from admin.cli import app as cli
from admin.jobs.push import send as push_job
from bot.features.young_people import queue_notice
from bot.push import BODY, PushSettings, new_vapid_key, public_key_of
from bot.runtime import build_app, build_runtime
from storage import outbox
from storage.db import session
from storage.models import Participant, PushMessage, PushSubscription
from tests.conftest import make_settings
from tests.fakes.push_service import PushStandIn

DAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday morning, outside quiet hours (21:00-08:00)
SECRET = "Your card 'More bus passes' was read by the panel"  # a card update's words: never in a ping


@pytest.fixture(scope="module")
def push() -> Iterator[PushStandIn]:
    with PushStandIn() as p:
        yield p


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """One database and app for the module (each test is a new person in a new browser)."""
    from storage.migrate import create_missing_tables, upgrade

    tmp = tmp_path_factory.mktemp("push")
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = build_runtime(make_settings(url, tmp))
    rt.push_settings = PushSettings(_env_file=None, vapid_private_key=new_vapid_key(),  # type: ignore[call-arg]
                                    vapid_subject="mailto:participation@example.org")
    yield rt, build_app(rt)
    rt.engine.dispose()


@pytest.fixture
def chat(app: tuple[Any, Any]) -> Iterator[TestClient]:
    rt, asgi = app
    with TestClient(asgi) as c:
        c.rt = rt
        yield c
    with session(rt.engine) as s:  # the next test starts with nobody subscribed
        s.execute(delete(PushMessage))
        s.execute(delete(PushSubscription))


def post(c: TestClient, **body: str) -> dict[str, Any]:
    body.setdefault("message_id", uuid.uuid4().hex)
    r = c.post("/api/chat", json=body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def join(c: TestClient) -> int:
    """A young person joins the web chat (picks an age band); their participant id."""
    with session(c.rt.engine) as s:
        before = set(s.execute(select(col(Participant.id))).scalars())
    c.get("/")
    data = post(c, text="hi")
    band = {ch["label"]: ch["token"] for r in data["replies"] for ch in r["choices"]}["I'm 11 to 16"]
    post(c, payload=band)
    with session(c.rt.engine) as s:
        (pid,) = set(s.execute(select(col(Participant.id))).scalars()) - before
    return int(pid)


def subscribed(c: TestClient, push: PushStandIn) -> dict[str, Any]:
    sub = push.subscription(c.rt.push_settings.public_key)
    r = c.post("/api/push/subscribe", json=sub)
    assert r.status_code == 200, r.text
    return sub


def card_update(c: TestClient, pid: int, *, now: datetime = DAY) -> int:
    with session(c.rt.engine) as s:
        row = queue_notice(s, pid, SECRET, now=now, reach=c.rt.reach_settings)
    assert row is not None
    return row


def run(c: TestClient, now: datetime) -> str:
    return push_job(c.rt, now=now)


def subscriptions(c: TestClient) -> list[PushSubscription]:
    with session(c.rt.engine) as s:
        return list(s.execute(select(PushSubscription)).scalars())


def test_pings_need_a_joined_person_and_the_subscription_is_kept_encrypted(chat: TestClient,
                                                                           push: PushStandIn) -> None:
    sub = push.subscription(chat.rt.push_settings.public_key)
    chat.get("/")
    refused = chat.post("/api/push/subscribe", json=sub)
    assert refused.status_code == 403 and "Start chatting" in refused.json()["error"]
    join(chat)
    bad = chat.post("/api/push/subscribe", json={"endpoint": "http://push.example.com/x", "keys": sub["keys"]})
    assert bad.status_code == 422  # not https (plain http only to this machine)
    ok = chat.post("/api/push/subscribe", json=sub)
    assert ok.status_code == 200 and "You have a new message from ourvoice" in ok.json()["message"]
    (row,) = subscriptions(chat)
    assert sub["endpoint"].encode() not in row.data_enc and sub["keys"]["auth"].encode() not in row.data_enc
    assert row.endpoint_hash != sub["endpoint"]
    assert json.loads(chat.rt.keyring.decrypt(row.data_enc)) == sub
    assert chat.get("/api/push/key").json() == {"enabled": True, "key": chat.rt.push_settings.public_key}


def test_a_card_update_makes_one_neutral_ping_and_unsubscribing_stops_them(chat: TestClient,
                                                                           push: PushStandIn) -> None:
    pid = join(chat)
    sub = subscribed(chat, push)
    card_update(chat, pid)
    card_update(chat, pid, now=DAY + timedelta(minutes=1))
    before = len(push.received)
    assert run(chat, DAY + timedelta(minutes=2)) == "sent=1"  # two waiting messages, one ping
    (got,) = push.received[before:]
    assert got.body == BODY == "You have a new message from ourvoice"
    assert "bus" not in got.body and got.claims["sub"] == "mailto:participation@example.org"
    assert run(chat, DAY + timedelta(minutes=3)) == "nothing due"  # not pinged again for the same messages
    off = chat.post("/api/push/unsubscribe", json={"endpoint": sub["endpoint"]})
    assert off.status_code == 200 and subscriptions(chat) == []
    card_update(chat, pid, now=DAY + timedelta(minutes=4))
    asked = push.requests
    assert run(chat, DAY + timedelta(minutes=5)) == "nothing due"
    assert push.requests == asked


def test_a_410_deletes_the_subscription(chat: TestClient, push: PushStandIn) -> None:
    pid = join(chat)
    subscribed(chat, push)
    card_update(chat, pid)
    push.answer_next(410)
    assert run(chat, DAY + timedelta(minutes=1)) == "gone=1"
    assert subscriptions(chat) == []
    with session(chat.rt.engine) as s:
        assert list(s.execute(select(PushMessage)).scalars()) == []


def test_an_expired_subscription_404_is_deleted_too(chat: TestClient, push: PushStandIn) -> None:
    pid = join(chat)
    push.expire(subscribed(chat, push)["endpoint"])
    card_update(chat, pid)
    assert run(chat, DAY + timedelta(minutes=1)) == "gone=1" and subscriptions(chat) == []


def test_taking_a_break_holds_pings(chat: TestClient, push: PushStandIn) -> None:
    pid = join(chat)
    subscribed(chat, push)
    post(chat, text="/stop")  # "Take a break"
    with session(chat.rt.engine) as s:
        # The one rule sends nothing first now ...
        assert queue_notice(s, pid, SECRET, now=DAY, reach=chat.rt.reach_settings) is None
        # ... and a notice queued before the break (or an urgent one) is not pinged either.
        outbox.add(s, channel="web", payload_json=json.dumps({"text": SECRET, "layout": "none", "choices": []}),
                   now=DAY, participant_id=pid, kind="notice")
    asked = push.requests
    assert run(chat, DAY + timedelta(minutes=1)) == "cancelled=1"
    assert push.requests == asked


def test_quiet_hours_hold_the_ping_until_morning(chat: TestClient, push: PushStandIn) -> None:
    pid = join(chat)
    subscribed(chat, push)
    card_update(chat, pid, now=DAY + timedelta(hours=10, minutes=50))  # 20:50, just before quiet hours
    asked = push.requests
    assert run(chat, DAY + timedelta(hours=11, minutes=30)) == "held=1"  # 21:30: quiet
    assert run(chat, DAY + timedelta(hours=21, minutes=59)) == "nothing due"  # 07:59 next day
    assert push.requests == asked
    assert run(chat, DAY + timedelta(hours=22)) == "sent=1"  # 08:00


def test_a_busy_push_service_is_tried_again_later(chat: TestClient, push: PushStandIn) -> None:
    pid = join(chat)
    subscribed(chat, push)
    card_update(chat, pid)
    push.answer_next(429, "300")
    assert run(chat, DAY) == "retry=1"
    assert run(chat, DAY + timedelta(minutes=4)) == "nothing due"  # it asked for five minutes
    push.answer_next(503)
    assert run(chat, DAY + timedelta(minutes=5)) == "retry=1"
    assert run(chat, DAY + timedelta(minutes=8)) == "sent=1"  # two minutes after the second try


def test_a_message_read_in_the_chat_first_is_not_pinged(chat: TestClient, push: PushStandIn) -> None:
    pid = join(chat)
    subscribed(chat, push)
    card_update(chat, pid)
    post(chat, text="/menu")  # the person is in the chat: the update is shown with the reply
    asked = push.requests
    assert run(chat, DAY + timedelta(minutes=1)) == "nothing due"
    assert push.requests == asked


def test_installable_app_files_and_their_headers(chat: TestClient) -> None:
    manifest = chat.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    m = manifest.json()
    assert (m["start_url"], m["scope"], m["display"]) == ("/", "/", "standalone")
    for icon in m["icons"]:
        png = chat.get(icon["src"])
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    worker = chat.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["x-content-type-options"] == "nosniff"
    assert worker.headers["content-security-policy"] == "default-src 'self'"
    assert "addEventListener(\"fetch\"" not in worker.text  # it never stands between the browser and a page
    page = chat.get("/")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self';")  # unchanged, still strict


def test_without_a_vapid_key_pings_are_off(sqlite_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    rt.push_settings = PushSettings(_env_file=None)  # type: ignore[call-arg]
    with TestClient(build_app(rt)) as c:
        assert c.get("/api/push/key").json() == {"enabled": False, "key": ""}
        assert c.post("/api/push/subscribe", json={}).status_code == 404
    assert push_job(rt, now=DAY) == "not_configured"


def test_init_writes_a_vapid_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    assert CliRunner().invoke(cli, ["init", "--env-file", str(env)]).exit_code == 0
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    key = values["OURVOICE_PUSH_VAPID_PRIVATE_KEY"]
    assert PushSettings(_env_file=None, vapid_private_key=key).enabled  # type: ignore[call-arg]
    assert len(public_key_of(key)) == 87  # 65 bytes, base64url: what a browser's applicationServerKey takes
