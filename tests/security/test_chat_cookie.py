"""Issue 22 items 9 and 10 over HTTP: the chat cookie is issued and signed by the server (a made-up or altered one
is replaced and reaches nothing), code guesses are limited per address as well as per browser and never channel-wide,
the cookie lasts 30 days from its last use, and "forget this device" unlinks the browser (the person can come back
with their own code, to the same answers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.channels.web_cookie import LIFETIME
from bot.runtime import build_app, build_runtime
from bot.web_device import chat_cookie
from storage.db import session
from storage.models import AuditEntry, ChannelIdentity, Participant
from tests.conftest import make_settings
from tests.identity.util import invite

NOT_INVITED = "invited by the council's participation team"
TOO_MANY = "too many tries"


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path) -> Iterator[Any]:
    runtime = build_runtime(make_settings(sqlite_url, tmp_path, invite_only=True, public_url="https://chat.example"))
    runtime.app = build_app(runtime)
    yield runtime
    runtime.engine.dispose()


def browser(rt: Any, address: str = "192.0.2.1") -> TestClient:
    return TestClient(rt.app, base_url="https://chat.example", client=(address, 50000))


def say(c: TestClient, text: str, *, cookie: str | None = None) -> Any:
    headers = {"cookie": f"ov_chat={cookie}"} if cookie is not None else None
    if cookie is not None:
        c.cookies.clear()
    return c.post("/api/chat", json={"message_id": uuid.uuid4().hex, "text": text}, headers=headers)


def words(r: Any) -> str:
    return " ".join(rep["text"] for rep in r.json().get("replies", []))


def set_cookie(r: Any) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in r.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


def count(rt: Any, model: Any) -> int:
    with session(rt.engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def now() -> datetime:
    return datetime.now(UTC)


def test_500_wrong_guesses_from_made_up_cookies_then_a_valid_code_from_a_new_browser_joins(rt: Any) -> None:
    """The probe: 500 wrong codes, each from a made-up cookie, spread over 50 addresses (every address under its
    own limits). Nobody else is locked out: a new browser with a valid, unused code joins."""
    good = invite(rt, now())[0]
    signer = chat_cookie(rt.keyring)
    for a in range(50):
        c = browser(rt, f"198.51.100.{a}")
        for i in range(10):
            r = say(c, f"ZZZZ{a % 10}{i}ZZ", cookie=f"made-up-{a}-{i}")
            assert r.status_code == 200
            issued = set_cookie(r)["ov_chat"].value
            # Replaced by one the server signed, for a new id: the made-up value is never anyone's id.
            assert signer.check(issued, now=now()).sender not in (None, f"made-up-{a}-{i}")
        c.close()
    new = browser(rt, "203.0.113.7")
    assert new.get("/").status_code == 200
    joined = say(new, f"/start {good}")
    assert TOO_MANY not in words(joined)
    assert count(rt, Participant) == 1


def test_made_up_cookies_do_not_reset_the_count_at_one_address(rt: Any) -> None:
    c = browser(rt, "198.51.100.200")
    replies = [words(say(c, "ZZZZZZZZ", cookie=f"fresh-{i}")) for i in range(32)]
    assert TOO_MANY not in replies[0]
    assert all(TOO_MANY in w for w in replies[30:])  # 30 wrong codes an hour per address, whatever the cookie
    c.cookies.clear()
    c.get("/")  # even a real, server-issued cookie from that address waits
    assert TOO_MANY in words(say(c, "ZZZZZZZ2"))


def test_an_unsigned_or_altered_cookie_reaches_nobody_and_is_replaced(rt: Any) -> None:
    good = invite(rt, now())[0]
    c = browser(rt)
    c.get("/")
    say(c, f"/start {good}")
    assert count(rt, Participant) == 1
    cookie = c.cookies.get("ov_chat")
    assert cookie and cookie.count(".") == 2
    sender, stamp, sig = cookie.split(".")
    for forged in (sender, f"{sender}.{stamp}.{sig[:-2]}xx", f"{sender}.{int(stamp) + 99}.{sig}"):
        r = say(browser(rt, "192.0.2.99"), "menu", cookie=forged)
        assert NOT_INVITED in words(r), forged  # a stranger: not the person's conversation
        fresh = set_cookie(r)["ov_chat"].value
        assert fresh.split(".")[0] != sender
    assert count(rt, ChannelIdentity) == 1


def test_the_cookie_lasts_30_days_from_its_last_use_and_then_reaches_nothing(rt: Any) -> None:
    assert timedelta(days=30) == LIFETIME
    good = invite(rt, now())[0]
    c = browser(rt)
    page = set_cookie(c.get("/"))["ov_chat"]
    assert int(page["max-age"]) == 30 * 24 * 3600
    assert page["httponly"] and page["samesite"].lower() == "strict" and page["secure"]
    r = say(c, f"/start {good}")
    assert int(set_cookie(r)["ov_chat"]["max-age"]) == 30 * 24 * 3600  # renewed on every use
    sender = c.cookies.get("ov_chat").split(".")[0]  # type: ignore[union-attr]
    signer = chat_cookie(rt.keyring)
    nearly = signer.issue(sender, now=now() - LIFETIME + timedelta(hours=1))
    assert NOT_INVITED not in words(say(browser(rt), "menu", cookie=nearly))  # 29 days 23 hours: still theirs
    old = signer.issue(sender, now=now() - LIFETIME - timedelta(hours=1))
    r = say(browser(rt), "menu", cookie=old)
    assert NOT_INVITED in words(r)
    assert count(rt, ChannelIdentity) == 0  # and the run-out browser is unlinked on the server too
    assert count(rt, Participant) == 1


def test_forget_this_device_unlinks_it_and_the_person_comes_back_with_their_code(rt: Any) -> None:
    good = invite(rt, now())[0]
    c = browser(rt)
    c.get("/")
    say(c, f"/start {good}")
    copied = c.cookies.get("ov_chat")
    with session(rt.engine) as s:
        pid = s.execute(select(Participant.id)).scalar_one()
    # Someone else using the code while the person is still linked takes over nothing.
    other = browser(rt, "192.0.2.50")
    other.get("/")
    assert "already been used" in words(say(other, f"/start {good}"))

    r = c.post("/api/forget")
    assert r.status_code == 200 and "forgotten you" in r.json()["message"]
    assert set_cookie(r)["ov_chat"].value.split(".")[0] != copied.split(".")[0]  # type: ignore[union-attr]
    assert count(rt, ChannelIdentity) == 0 and count(rt, Participant) == 1
    with session(rt.engine) as s:
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "device.forget")).scalars().first()
    assert NOT_INVITED in words(say(browser(rt), "menu", cookie=copied))  # a copy of the old cookie: nobody

    back = browser(rt, "192.0.2.60")
    back.get("/")
    r = say(back, f"/start {good}")
    assert "Welcome back" in words(r)
    with session(rt.engine) as s:
        ident = s.execute(select(ChannelIdentity)).scalar_one()
        assert ident.participant_id == pid  # the same person, with everything they said before


def test_the_privacy_notice_says_how_long_the_cookie_lasts_in_every_band(rt: Any) -> None:
    details = rt.library.flows["privacy_notice"].index["details"].text
    days = f"{LIFETIME.days} days"
    for band in ("junior", "teen", "young_adult", "carer"):
        assert days in details[band] and "Forget this device" in details[band], band
