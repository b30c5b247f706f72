"""A disclosure while another connection holds the SQLite write lock (BEGIN EXCLUSIVE): on web chat, Telegram
(real python-telegram-bot + the loopback fake Bot API) and Slack (real slack-bolt, signed requests), the safe
reply reaches the person long before the busy timeout, the alert email goes out, and once the lock is released
the alert record is written exactly once.

Times are asserted against the configured busy timeout (the wait a write would otherwise sit through), by the
test's own clock: never against how fast this machine is.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.db import session
from storage.models import Alert, InboundEvent
from tests.alerts.conftest import DUTY, Clock, WebChat, recipients
from tests.conftest import fixed_now
from tests.fakes.slack_api import dm_message_event, event_callback
from tests.slack.conftest import SlackUser, fake, post_event, running  # noqa: F401 - the fake Slack fixture
from tests.support.wait import wait_until
from tests.telegram.conftest import TgUser, services, settle, tg  # noqa: F401 - fixtures used below

BUSY = 6.0  # seconds a write waits for the lock before giving up: the bound the safe reply must beat
WORRY = "zqxsentinel42 my dad hits me with a belt"


@contextmanager
def locked(url: str) -> Iterator[None]:
    """Another connection holds BEGIN EXCLUSIVE on the database file until the block ends."""
    conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, timeout=BUSY)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("COMMIT")
        conn.close()


def alert_rows(rt: Runtime) -> int:
    with session(rt.engine) as s:
        return int(s.execute(select(func.count()).select_from(Alert)).scalar_one())


def flagged_ledger_rows(rt: Runtime) -> int:
    with session(rt.engine) as s:
        q = select(func.count()).select_from(InboundEvent).where(InboundEvent.outcome == "flagged")
        return int(s.execute(q).scalar_one())


def written_once(rt: Runtime) -> None:
    """After the lock is gone: the step's record lands (once), and draining the spool adds nothing."""
    wait_until(lambda: alert_rows(rt) >= 1, timeout=BUSY * 2)
    rt.dispatcher.drain_spool(now=fixed_now())
    assert alert_rows(rt) == 1
    assert flagged_ledger_rows(rt) == 1


@pytest.fixture
def locked_rt(make_rt: Callable[..., Runtime], sqlite_url: str) -> Runtime:
    return make_rt(sqlite_url, db_busy_timeout=BUSY)


def test_web_chat_safe_reply_while_the_database_is_locked(
    locked_rt: Runtime, sqlite_url: str, sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = locked_rt
    chat = WebChat(rt, Clock(fixed_now()), monkeypatch)
    chat.text("hello")
    chat.press("I'm 11 to 16")
    with locked(sqlite_url):
        started = time.monotonic()
        data = chat.text(WORRY)
        elapsed = time.monotonic() - started
        assert elapsed < BUSY / 2, elapsed
        assert [r["text"] for r in data["replies"]] == [rt.dispatcher.safe_reply("teen", fixed_now()).text]
        assert data["retry"] is False  # the page does not send the disclosure again
        sink.wait_for(1)
        assert recipients(sink) == [DUTY]
        assert "zqxsentinel42" not in sink.messages[0].as_string()
    written_once(rt)
    # The step was stored when the database came back, and said nothing more to that message (issue 23 item 4):
    # nothing is waiting for the page's next request, and the conversation carries on when they write again.
    later = chat.command("help")
    again = chat.command("help")
    assert later["replies"] == again["replies"]
    assert chat.text("ok")["replies"]


async def test_telegram_safe_reply_while_the_database_is_locked(
    tg: Any, locked_rt: Runtime, sqlite_url: str, services: Any, sink: Any  # noqa: F811
) -> None:
    rt = locked_rt
    svc = services(rt)
    await svc.start()
    u = TgUser(tg, 6161)
    u.say("/start")
    await settle(tg, svc)
    u.press("I'm 11 to 16")
    await settle(tg, svc)
    before = len(u.texts())
    with locked(sqlite_url):
        started = time.monotonic()
        u.say(WORRY)
        await tg.wait_for(lambda: len(u.texts()) > before, timeout=BUSY)
        elapsed = time.monotonic() - started
        assert elapsed < BUSY / 2, elapsed
        assert u.texts()[before] == rt.dispatcher.safe_reply("teen", fixed_now()).text
        await sink.wait_for_async(1)
        assert recipients(sink) == [DUTY]
    await asyncio.to_thread(written_once, rt)
    await settle(tg, svc, timeout=BUSY * 2)
    safe = rt.dispatcher.safe_reply("teen", fixed_now()).text
    assert [t for t in u.texts() if safe in t] != [] and sum(t.count(safe) for t in u.texts()) == 1
    assert all("zqxsentinel42" not in t for t in u.texts())


async def test_slack_safe_reply_while_the_database_is_locked(
    locked_rt: Runtime, sqlite_url: str, fake: Any, sink: Any  # noqa: F811
) -> None:
    rt = locked_rt
    async with running(rt, fake) as (client, service):
        user = SlackUser(client, service, fake, "ULOCK1")
        await user.say("hello")
        await user.press("I'm 11 to 16")
        before = len(user.texts())
        envelope = event_callback(dm_message_event("ULOCK1", WORRY))
        with locked(sqlite_url):
            started = time.monotonic()
            first = await post_event(client, envelope)
            deadline = started + BUSY
            while len(user.texts()) <= before and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the fake
                await asyncio.sleep(0.02)
            elapsed = time.monotonic() - started
            assert elapsed < BUSY / 2, elapsed
            assert user.texts()[before] == rt.dispatcher.safe_reply("teen", fixed_now()).text
            assert first.status_code >= 500  # not stored yet: Slack will deliver it again
            await sink.wait_for_async(1)
            assert recipients(sink) == [DUTY]
        await asyncio.to_thread(written_once, rt)
        retry = await post_event(client, envelope, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
        await service.wait_idle()
        assert retry.status_code == 200
        # Nothing more is said to that message; the conversation carries on when they write again. On a busy
        # machine the sender may need a moment, so wait for that reply (bounded) rather than read once.
        await user.say("ok")
        deadline = time.monotonic() + 30
        while len(user.texts()) <= before + 1 and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the fake
            await asyncio.sleep(0.05)
    safe = rt.dispatcher.safe_reply("teen", fixed_now()).text
    assert sum(t.count(safe) for t in user.texts()) == 1
    assert len(user.texts()) > before + 1  # the conversation went on once the database was back

