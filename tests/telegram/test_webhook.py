"""Webhook mode: the route on the shared ASGI app, secret checked before the body, 200 only after commit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.runtime import Runtime, build_app
from bot.telegram_service import TelegramService
from storage import inbound
from storage.db import make_engine, session
from tests.conftest import fixed_now
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import answers, tg_settings

SECRET = "s3cret-Token_for-tests"
URL = "/telegram/webhook"


@pytest.fixture
async def hook(tg: FakeBotAPI, rt: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, TelegramService]]:
    rt.channel, rt.clock = "telegram", fixed_now
    rt.telegram_settings = tg_settings(tg, webhook_url="https://bot.example.org", webhook_secret=SECRET)
    app = build_app(rt)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, rt.running["telegram"]


def count_inbound(rt: Runtime) -> int:
    with session(rt.engine) as s:
        return inbound.count(s)


async def post(client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    resp = await client.post(URL, content=json.dumps(update), headers=headers)
    return resp.status_code


async def test_start_sets_the_webhook_with_its_secret(tg: FakeBotAPI, hook: Any) -> None:
    (call,) = tg.calls_to("setWebhook")
    assert call.params["url"] == "https://bot.example.org/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert "callback_query" in call.params["allowed_updates"]
    assert tg.webhook_url == "https://bot.example.org/telegram/webhook"
    assert not tg.calls_to("getUpdates")  # no polling in webhook mode


async def test_missing_wrong_and_right_secret(tg: FakeBotAPI, rt: Runtime, hook: Any) -> None:
    client, svc = hook
    update = tg.command_update(2020, "start")
    assert await post(client, update, secret=None) == 403
    assert await post(client, update, secret="wrong") == 403
    assert await post(client, update, secret=SECRET[:-1]) == 403
    assert count_inbound(rt) == 0  # nothing written for a forged request
    assert await post(client, update) == 200
    assert count_inbound(rt) == 1  # committed before the 200
    await svc.wait_idle()
    assert [m["text"] for m in tg.sent_messages(2020)][-1].endswith("Which of these is you?")


async def test_secret_is_checked_before_the_body_is_read(rt: Runtime, hook: Any) -> None:
    client, _ = hook
    read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield b'{"update_id": 1}'

    resp = await client.post(URL, content=body(), headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
    assert resp.status_code == 403
    assert not read


async def test_redelivery_is_stored_and_answered_once(tg: FakeBotAPI, rt: Runtime, hook: Any) -> None:
    client, svc = hook
    update = tg.command_update(2121, "start")
    assert await post(client, update) == 200
    await svc.wait_idle()
    sent = len(tg.sent_messages(2121))
    assert sent == 1  # welcome and first question in one message
    assert await post(client, update) == 200  # Telegram did not see our 200 and sends it again
    await svc.wait_idle()
    assert len(tg.sent_messages(2121)) == sent
    assert count_inbound(rt) == 1


async def test_failed_commit_answers_503_so_telegram_redelivers(
    tg: FakeBotAPI, rt: Runtime, hook: Any, db_dir: Path
) -> None:
    client, svc = hook
    real = rt.dispatcher.engine
    rt.dispatcher.engine = make_engine(f"sqlite:///{db_dir / 'no_tables.db'}")
    update = tg.command_update(2222, "start")
    assert await post(client, update) == 503
    assert tg.sent_messages(2222) == []
    rt.dispatcher.engine = real
    assert await post(client, update) == 200
    await svc.wait_idle()
    assert len(tg.sent_messages(2222)) == 1  # welcome and first question in one message


async def test_journey_over_the_webhook_with_buttons(tg: FakeBotAPI, rt: Runtime, hook: Any) -> None:
    client, svc = hook
    chat = 2323

    async def press(label: str) -> None:
        message = next(m for m in reversed(tg.bot_messages(chat)) if m.get("reply_markup"))
        button = next(b for row in message["reply_markup"]["inline_keyboard"] for b in row
                      if b["text"].startswith(label))
        assert await post(client, tg.callback_update(chat, button["callback_data"],
                                                     message_id=message["message_id"])) == 200
        await svc.wait_idle()

    assert await post(client, tg.command_update(chat, "start")) == 200
    await svc.wait_idle()
    for label in ("I'm 11 to 16", "🗣", "😀"):
        await press(label)
    assert answers(rt, chat, "good_foster_carer") == {"feeling": 5}
    assert len(tg.calls_to("answerCallbackQuery")) == 3


async def test_bad_body_with_the_right_secret_is_400(rt: Runtime, hook: Any) -> None:
    client, _ = hook
    resp = await client.post(URL, content=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert resp.status_code == 400
    assert count_inbound(rt) == 0


@pytest.mark.parametrize("body", [b"[1, 2, 3]", b'"just a string"', b"42", b"null", b"{}"])
async def test_json_that_is_not_an_update_is_400_and_logged_without_the_body(
    rt: Runtime, hook: Any, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = hook
    caplog.set_level("WARNING", logger="ourvoice.telegram")
    resp = await client.post(URL, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert resp.status_code == 400
    assert count_inbound(rt) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "ourvoice.telegram"]
    assert lines == ["telegram.webhook_bad_body"]  # an event name; the body is not in the log


async def test_chunked_body_is_capped_while_it_is_read(tg: FakeBotAPI, rt: Runtime, hook: Any) -> None:
    from bot.channels.telegram import MAX_WEBHOOK_BODY

    client, _ = hook
    update = tg.command_update(2424, "start")
    head = json.dumps(update)[:-1].encode() + b', "pad": "'
    chunk = b"x" * 65_536
    chunks = 10_000_000 // len(chunk)
    sent = 0

    async def body() -> AsyncIterator[bytes]:  # no Content-Length: httpx sends it chunked
        nonlocal sent
        sent += len(head)
        yield head
        for _ in range(chunks):
            sent += len(chunk)
            yield chunk
        yield b'"}'

    resp = await client.post(URL, content=body(), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert resp.status_code == 413
    assert count_inbound(rt) == 0
    assert sent <= MAX_WEBHOOK_BODY + 2 * len(chunk)  # reading stopped at the cap, not at 10 MB
