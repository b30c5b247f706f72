"""The web chat over HTTP (FastAPI TestClient): cookies, replies, retries with the same id."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.runtime import build_app, build_runtime
from storage.db import session
from storage.models import Answer, InboundEvent
from tests.conftest import make_settings


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path):
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    with TestClient(build_app(rt)) as c:
        c.rt = rt  # type: ignore[attr-defined]
        yield c


def post(c: TestClient, **body: str) -> dict:
    body.setdefault("message_id", uuid.uuid4().hex)
    r = c.post("/api/chat", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def tokens(data: dict) -> dict[str, str]:
    return {ch["label"]: ch["token"] for rep in data["replies"] for ch in rep["choices"]}


def test_page_is_self_contained_and_sets_an_anonymous_cookie(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "ov_chat" in r.cookies
    assert "://" not in r.text  # no external CDN or hosts: everything is served by ourvoice itself
    assert "://" not in client.get("/static/chat/chat.js").text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/chat/chat.js").status_code == 200
    assert client.get("/static/chat/../../etc/passwd").status_code == 404


def test_chat_without_cookie_is_refused_politely(sqlite_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    c = TestClient(build_app(rt))
    r = c.post("/api/chat", json={"message_id": "x", "text": "hi"})
    assert r.status_code == 400 and "reload" in r.json()["error"]


def test_full_conversation_over_http(client: TestClient) -> None:
    client.get("/")
    data = post(client, text="/start")
    data = post(client, payload=tokens(data)["I'm 7 to 11"])
    data = post(client, payload=tokens(data)["🗣 Tell us what you think"])
    assert "Let's talk about foster carers" in data["replies"][0]["text"]
    data = post(client, payload=tokens(data)["😀 Great"])  # 7-11s: a face with a word beside it
    assert data["stored"] is True
    with session(client.rt.engine) as s:  # type: ignore[attr-defined]
        assert s.execute(select(func.count()).select_from(Answer)).scalar_one() == 2


def test_retry_with_same_id_is_processed_once(client: TestClient) -> None:
    client.get("/")
    post(client, text="/start")
    a = post(client, message_id="same-id", text="/help")
    b = post(client, message_id="same-id", text="/help")
    assert b["duplicate"] is True and a["replies"] == b["replies"]
    with session(client.rt.engine) as s:  # type: ignore[attr-defined]
        ledger = select(func.count()).select_from(InboundEvent)
        n = s.execute(ledger.where(InboundEvent.message_id.endswith(":same-id")))  # type: ignore[attr-defined]
        assert n.scalar_one() == 1


def test_a_very_long_message_is_checked_then_answered_too_long(client: TestClient) -> None:
    client.get("/")
    post(client, text="/start")
    data = post(client, message_id="big", text="x" * 200_000)  # at a question with buttons
    assert "tap one of the buttons" in data["replies"][0]["text"]
    assert "x" * 50 not in str(data)
    # Words that worry us are read whatever the length: the safe reply comes first.
    data = post(client, message_id="big-worry", text="y " * 60_000 + "my dad hits me with a belt")
    assert "0800 1111" in data["replies"][0]["text"]
    from storage.models import Alert

    with session(client.rt.engine) as s:  # type: ignore[attr-defined]
        assert s.execute(select(func.count()).select_from(Alert)).scalar_one() == 1


def test_bodies_we_cannot_read_get_a_kind_answer_and_are_never_echoed(client: TestClient) -> None:
    client.get("/")
    words = "zqxsentinel " * 200_000  # about 2.4 MB
    r = client.post("/api/chat", json={"message_id": "huge", "text": words})
    assert r.status_code == 413 and "shorter" in r.json()["error"] and "zqxsentinel" not in r.text
    for raw in (b'{"message_id": "m", "text": "zqxsentinel', b'{"text": "zqxsentinel"}', b"\xff\xfe zqxsentinel"):
        r = client.post("/api/chat", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "try sending it again" in r.json()["error"]
        assert "zqxsentinel" not in r.text
    with session(client.rt.engine) as s:  # type: ignore[attr-defined]
        assert s.execute(select(func.count()).select_from(InboundEvent)).scalar_one() == 0


def as_person(c: TestClient, cookie: str) -> None:
    """Be the browser whose (server-signed) chat cookie carries the id `cookie`."""
    from datetime import UTC, datetime

    from bot.web_device import chat_cookie

    c.cookies.clear()
    c.cookies.set("ov_chat", chat_cookie(c.rt.keyring).issue(cookie, now=datetime.now(UTC)))  # type: ignore[attr-defined]


def alerts(c: TestClient) -> int:
    from storage.models import Alert

    with session(c.rt.engine) as s:  # type: ignore[attr-defined]
        return int(s.execute(select(func.count()).select_from(Alert)).scalar_one())


def test_a_message_id_used_by_someone_else_is_not_a_repeat(client: TestClient) -> None:
    as_person(client, "person-a")
    post(client, text="/start")
    first = post(client, message_id="shared", text="/help")
    as_person(client, "person-b")
    post(client, text="/start", message_id="b-start")
    other = post(client, message_id="shared", text="/start")
    assert other["duplicate"] is False and other["replies"] != first["replies"]
    # A disclosure under an id someone else already used still gets the safe reply and an alert.
    as_person(client, "person-c")
    worry = post(client, message_id="shared", text="my dad hits me with a belt")
    assert worry["duplicate"] is False
    assert "0800 1111" in worry["replies"][0]["text"]
    assert alerts(client) == 1


def test_new_words_that_worry_us_under_an_old_id_of_the_same_person_get_the_safe_reply(client: TestClient) -> None:
    as_person(client, "person-a")
    post(client, text="/start")
    post(client, message_id="again", text="/help")
    worry = post(client, message_id="again", text="my dad hits me with a belt")
    assert worry["duplicate"] is True
    assert "0800 1111" in worry["replies"][0]["text"]
    assert alerts(client) == 1


def test_words_sent_with_a_button_press_are_risk_checked(client: TestClient) -> None:
    client.get("/")
    data = post(client, text="/start")
    token = tokens(data)["I'm 11 to 16"]
    data = post(client, payload=token, text="my dad hits me with a belt")
    assert "0800 1111" in data["replies"][0]["text"]
    assert alerts(client) == 1


# -- what one message and an unjoined sender may cost (issue 27 item 5) ---------------------------------------


def counting(rt) -> list[int]:
    """Count the messages that reach the dispatcher (the risk check runs there): a spy on the real one."""
    calls: list[int] = []
    real = rt.dispatcher.handle

    def handle(msg, *, now):
        if not msg.check_only:  # a refused message's bounded risk check is counted in test_refused_* below
            calls.append(len(msg.text or ""))
        return real(msg, now=now)

    rt.dispatcher.handle = handle
    return calls


def test_a_message_over_the_text_cap_is_refused_unread(client: TestClient) -> None:
    from bot.channels.web import MAX_TEXT_CHARS

    calls = counting(client.rt)  # type: ignore[attr-defined]
    client.get("/")
    post(client, text="/start")
    r = client.post("/api/chat", json={"message_id": "huge", "text": "z" * (MAX_TEXT_CHARS + 1)})
    assert r.status_code == 413 and "far longer" in r.json()["error"]
    assert len(calls) == 1  # only /start: the long one never reached the risk check or storage
    assert post(client, message_id="cap", text="z" * MAX_TEXT_CHARS)["replies"]  # at the cap it is read
    assert calls[-1] == MAX_TEXT_CHARS


@pytest.fixture
def invite_only(sqlite_url: str, tmp_path: Path):
    rt = build_runtime(make_settings(sqlite_url, tmp_path, invite_only=True))
    with TestClient(build_app(rt)) as c:
        c.rt = rt  # type: ignore[attr-defined]
        yield c


def test_refused_messages_are_still_risk_checked_first(client: TestClient, invite_only: TestClient) -> None:
    """Too long, or over the budget of someone not yet joined: refused, but a disclosure at the start of it still
    gets the safe reply (the check reads a bounded opening, so a refusal stays cheap)."""
    from bot.channels.web import MAX_TEXT_CHARS, REFUSED_READ
    from bot.channels.web_budget import PER_COOKIE

    client.get("/")
    post(client, text="/start")
    worrying = "he hits me every night and i am scared to go home. "
    r = client.post("/api/chat", json={"message_id": "long-worry", "text": worrying + "z" * MAX_TEXT_CHARS})
    assert r.status_code == 200 and r.json()["stored"] is False
    assert any("999" in reply["text"] for reply in r.json()["replies"])
    r = client.post("/api/chat", json={"message_id": "long-plain", "text": "z" * (MAX_TEXT_CHARS + 1)})
    assert r.status_code == 413

    invite_only.get("/")
    r = invite_only.post("/api/chat", json={"message_id": "over", "text": worrying + "q" * PER_COOKIE.chars})
    assert r.status_code == 200 and any("999" in reply["text"] for reply in r.json()["replies"])
    assert PER_COOKIE.chars >= REFUSED_READ


def test_someone_who_has_not_joined_gets_a_small_budget_per_cookie(invite_only: TestClient) -> None:
    from bot.channels.web_budget import PER_COOKIE

    calls = counting(invite_only.rt)  # type: ignore[attr-defined]
    invite_only.get("/")
    for _ in range(PER_COOKIE.messages):
        assert post(invite_only, text="hello")["replies"]  # answered (how to join), not refused
    r = invite_only.post("/api/chat", json={"message_id": "one-more", "text": "hello again"})
    assert r.status_code == 429 and "invite code" in r.json()["error"]
    assert "/start" not in r.json()["error"]  # no slash commands in the web chat's words (issue 23)
    assert len(calls) == PER_COOKIE.messages  # the refused one was never read


def test_unjoined_characters_are_budgeted_too(invite_only: TestClient) -> None:
    from bot.channels.web_budget import PER_COOKIE

    calls = counting(invite_only.rt)  # type: ignore[attr-defined]
    invite_only.get("/")
    r = invite_only.post("/api/chat", json={"message_id": "long", "text": "q" * (PER_COOKIE.chars + 1)})
    assert r.status_code == 429
    assert calls == []


def test_a_new_cookie_does_not_reset_the_address_budget(invite_only: TestClient) -> None:
    from bot.channels.web_budget import PER_ADDRESS, PER_COOKIE

    calls = counting(invite_only.rt)  # type: ignore[attr-defined]
    refused = 0
    for _ in range(PER_ADDRESS.messages // PER_COOKIE.messages + 2):
        invite_only.cookies.clear()
        invite_only.get("/")  # a fresh cookie each time, from the same address
        for i in range(PER_COOKIE.messages):
            r = invite_only.post("/api/chat", json={"message_id": f"m{i}", "text": "hi"})
            refused += r.status_code == 429
    assert len(calls) == PER_ADDRESS.messages
    assert refused > 0


def test_people_who_joined_are_not_limited_by_the_unjoined_budget(client: TestClient) -> None:
    from bot.channels.web_budget import PER_COOKIE

    client.get("/")
    post(client, text="/start")  # open onboarding here: this joins
    for i in range(PER_COOKIE.messages + 5):
        post(client, text=f"/menu {i}")  # each answered (post asserts 200)
