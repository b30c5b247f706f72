"""Proves the loopback fakes work with the real python-telegram-bot, slack-sdk/bolt and smtplib clients."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import smtplib
import time
import warnings
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import telegram
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.slack_api import (
    FakeSlackAPI,
    block_actions_payload,
    dm_message_event,
    event_callback,
    interactive_body,
    json_body,
    sign_slack_request,
    slash_command_form,
)
from tests.fakes.smtp_sink import SmtpSink
from tests.fakes.telegram_api import FakeBotAPI

# ============================================================================ Telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def bot(tg: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(tg.token, base_url=tg.bot_base_url, base_file_url=tg.file_base_url) as b:
        yield b


def _build_app(tg: FakeBotAPI) -> Application:  # type: ignore[type-arg]
    return (
        ApplicationBuilder().token(tg.token).base_url(tg.bot_base_url).base_file_url(tg.file_base_url).build()
    )


def _retry_after_seconds(exc: telegram.error.RetryAfter) -> float:
    # PTB 22.2+ warns on every access unless PTB_TIMEDELTA is set, and may hand back a timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def test_polling_application_echoes_text(tg: FakeBotAPI) -> None:
    app = _build_app(tg)

    async def echo(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        tg.push_update(tg.text_update(42, "hello"))
        await tg.wait_for(lambda: tg.sent_messages(42))
        await app.updater.stop()
        await app.stop()

    assert [m["text"] for m in tg.sent_messages(42)] == ["echo: hello"]
    assert tg.sent_messages(42)[0]["chat_id"] == 42
    assert tg.calls_to("getMe"), "Application.initialize() should call getMe"
    # The updater's shutdown confirms the consumed update with offset = last update_id + 1.
    assert tg.calls_to("getUpdates")[-1].params["offset"] == 2
    assert tg.pending_updates() == []


async def test_command_handler_and_callback_query_round_trip(tg: FakeBotAPI) -> None:
    app = _build_app(tg)

    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Yes", callback_data="yes")]]
        )
        await update.effective_message.reply_text(f"args={context.args}", reply_markup=keyboard)

    async def pressed(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"you said {query.data}")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        tg.push_update(tg.command_update(7, "start", "abc def"))
        await tg.wait_for(lambda: tg.sent_messages(7))
        sent = tg.sent_messages(7)[0]
        assert sent["text"] == "args=['abc', 'def']"
        # PTB form-encodes reply_markup as a JSON string; the fake decodes it back.
        assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}

        (bot_msg,) = tg.bot_messages(7)
        assert bot_msg["reply_markup"] == sent["reply_markup"]
        tg.push_update(tg.callback_update(7, "yes", message_id=bot_msg["message_id"]))
        await tg.wait_for(lambda: tg.calls_to("editMessageText"))
        await app.updater.stop()
        await app.stop()

    assert tg.calls_to("answerCallbackQuery")
    edited = tg.message(7, bot_msg["message_id"])
    assert edited is not None
    assert edited["text"] == "you said yes"
    assert "reply_markup" not in edited  # editMessageText without a markup drops the keyboard


# PTB 22.2+ builds RetryAfter's message by reading its deprecated int-valued attribute.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_raises_retry_after_once(tg: FakeBotAPI, bot: telegram.Bot) -> None:
    tg.rate_limit(1, retry_after=1)
    with pytest.raises(telegram.error.RetryAfter) as info:
        await bot.send_message(chat_id=5, text="first")
    assert _retry_after_seconds(info.value) == 1
    message = await bot.send_message(chat_id=5, text="second")
    assert message.text == "second"
    assert message.chat.id == 5
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 200]
    assert [m["text"] for m in tg.sent_messages(5)] == ["second"]


async def test_blocked_chat_is_forbidden(tg: FakeBotAPI, bot: telegram.Bot) -> None:
    tg.block_chat(13)
    with pytest.raises(telegram.error.Forbidden, match="blocked by the user"):
        await bot.send_message(chat_id=13, text="hi")
    await bot.send_message(chat_id=14, text="hi")
    assert tg.sent_messages(13) == []
    assert len(tg.sent_messages(14)) == 1


async def test_reply_keyboard_markup_is_not_echoed(bot: telegram.Bot) -> None:
    markup = telegram.ReplyKeyboardMarkup([["a", "b"]], one_time_keyboard=True)
    message = await bot.send_message(chat_id=3, text="pick", reply_markup=markup)
    assert message.reply_markup is None
    inline = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("go", callback_data="go")]])
    message = await bot.send_message(chat_id=3, text="press", reply_markup=inline)
    assert message.reply_markup == inline


async def test_get_updates_offset_limit_and_long_poll(tg: FakeBotAPI, bot: telegram.Bot) -> None:
    ids = [tg.push_update(tg.text_update(1, f"m{i}")) for i in range(3)]
    assert ids == sorted(ids)
    first_two = await bot.get_updates(limit=2)
    assert [u.update_id for u in first_two] == ids[:2]
    rest = await bot.get_updates(offset=ids[1] + 1)
    assert [u.update_id for u in rest] == ids[2:]
    assert [u["update_id"] for u in tg.pending_updates()] == ids[2:]

    # Nothing pending: the long poll waits (capped at max_long_poll) and returns [].
    tg.max_long_poll = 0.2
    started = time.monotonic()
    assert await bot.get_updates(offset=ids[2] + 1, timeout=5) == ()
    assert 0.15 <= time.monotonic() - started < 2

    # A push wakes a waiting long poll straight away.
    tg.max_long_poll = 1.0
    poll = asyncio.create_task(bot.get_updates(offset=ids[2] + 1, timeout=1))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    pushed = tg.push_update(tg.text_update(1, "late"))
    updates = await poll
    assert [u.update_id for u in updates] == [pushed]
    assert time.monotonic() - started < 0.5


async def test_webhook_commands_and_misc_methods(tg: FakeBotAPI, bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([telegram.BotCommand("start", "Start"), ("help", "Help")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(telegram.error.Conflict):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.leave_chat(-100)
    assert await bot.answer_callback_query("1", text="ok")
    me = await bot.get_me()
    assert me.username == "ourvoice_test_bot"
    assert me.id == 999


async def test_wire_formats_and_unknown_method(tg: FakeBotAPI) -> None:
    url = f"{tg.bot_base_url}{tg.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "x"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": 1, "text": "json", "reply_markup": markup}) as r:
            assert (await r.json())["result"]["reply_markup"] == markup
        form = {"chat_id": "2", "text": '{"not": "decoded"}', "reply_markup": json.dumps(markup)}
        async with session.post(url, data=form) as r:
            assert r.status == 200
        multipart = aiohttp.FormData()
        multipart.add_field("chat_id", "3")
        multipart.add_field("text", "multi")
        multipart.add_field("document", b"%PDF", filename="a.pdf", content_type="application/pdf")
        async with session.post(url, data=multipart) as r:
            assert r.status == 200
        async with session.post(f"{tg.bot_base_url}{tg.token}/noSuchMethod") as r:
            assert r.status == 404
            assert await r.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with session.post(f"{tg.bot_base_url}999:WRONG/getMe") as r:
            assert r.status == 401

    json_call, form_call, multi_call = tg.calls_to("sendMessage")
    assert json_call.params["reply_markup"] == markup
    assert form_call.params == {"chat_id": 2, "text": '{"not": "decoded"}', "reply_markup": markup}
    assert multi_call.params["document"]["data"] == b"%PDF"
    assert multi_call.params["chat_id"] == 3


async def test_wait_for_times_out_with_context(tg: FakeBotAPI) -> None:
    with pytest.raises(AssertionError, match="sent_messages"):
        await tg.wait_for(lambda: tg.sent_messages(1), timeout=0.05)


def _builders(tg: FakeBotAPI) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "text": lambda: tg.text_update(10, "hi"),
        "group_text": lambda: tg.text_update(-100123, "hi all", chat_type="supergroup", user_id=77),
        "command": lambda: tg.command_update(10, "/help", "me"),
        "callback_query": lambda: tg.callback_update(10, "opt:1", message_id=5),
        "sticker": lambda: tg.sticker_update(10),
        "photo": lambda: tg.photo_update(10, caption="look"),
        "voice": lambda: tg.voice_update(10),
        "document": lambda: tg.document_update(10),
        "location": lambda: tg.location_update(10),
        "contact": lambda: tg.contact_update(10),
        "edited_message": lambda: tg.edited_message_update(10, text="fixed"),
    }


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("text", lambda u: u.message.text == "hi" and u.effective_chat.type == "private"),
        ("group_text", lambda u: u.effective_chat.type == "supergroup" and u.effective_user.id == 77),
        ("command", lambda u: u.message.text == "/help me" and u.message.entities[0].type == "bot_command"),
        (
            "callback_query",
            lambda u: u.callback_query.data == "opt:1" and u.callback_query.message.message_id == 5,
        ),
        ("sticker", lambda u: u.message.sticker.emoji == "🙂"),
        ("photo", lambda u: len(u.message.photo) == 3 and u.message.caption == "look"),
        ("voice", lambda u: u.message.voice.duration in (3, dt.timedelta(seconds=3))),
        ("document", lambda u: u.message.document.file_name == "notes.pdf"),
        ("location", lambda u: u.message.location.latitude == pytest.approx(51.5072)),
        ("contact", lambda u: u.message.contact.user_id == 10),
        ("edited_message", lambda u: u.edited_message.text == "fixed" and u.edited_message.edit_date),
    ],
)
async def test_builders_deserialise_with_ptb(
    tg: FakeBotAPI, bot: telegram.Bot, kind: str, check: Callable[[telegram.Update], bool]
) -> None:
    raw = _builders(tg)[kind]()
    # Must survive a JSON round trip exactly as it would over the wire.
    update = telegram.Update.de_json(json.loads(json.dumps(raw)), bot)
    assert update is not None
    assert update.update_id == raw["update_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's int->timedelta deprecation on voice.duration
        assert check(update)


# ============================================================================ Slack

SIGNING_SECRET = "shhh-test-secret"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackAPI]:
    fake = FakeSlackAPI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]


async def test_slack_post_message_is_recorded(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    resp = await client.chat_postMessage(channel="D1", text="hi", blocks=BLOCKS)
    assert resp["ok"] is True
    assert resp["channel"] == "D1"
    assert resp["ts"].endswith(".000100")
    assert resp["message"]["blocks"] == BLOCKS
    (call,) = slack.calls_to("chat.postMessage")
    assert call.params == {"channel": "D1", "text": "hi", "blocks": BLOCKS}
    second = await client.chat_postMessage(channel="D1", text="again")
    assert float(second["ts"]) > float(resp["ts"])


async def test_slack_form_encoded_blocks_are_decoded(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    await client.api_call(
        "chat.postMessage", data={"channel": "D2", "text": "form", "blocks": json.dumps(BLOCKS)}
    )
    assert slack.posted_messages("D2")[0]["blocks"] == BLOCKS


async def test_slack_rate_limit_raises(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    slack.rate_limit(1, retry_after=3)
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="D1", text="hi")
    assert info.value.response.status_code == 429
    assert info.value.response["error"] == "ratelimited"
    assert info.value.response.headers["Retry-After"] == "3"
    await client.chat_postMessage(channel="D1", text="hi")
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]


async def test_slack_rate_limit_retried_by_handler(
    slack: FakeSlackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler sleeps Retry-After + random(); pin the jitter so the test stays fast.
    monkeypatch.setattr("slack_sdk.http_retry.builtin_async_handlers.random.random", lambda: 0.0)
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.rate_limit(1, retry_after=0)
    resp = await client.chat_postMessage(channel="D1", text="hi")
    assert resp["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]


async def test_slack_other_methods(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "B1", "T1")
    assert auth["url"]
    dm = await client.conversations_open(users="U123")
    assert dm["channel"]["id"] == "DU123"
    info = await client.users_info(user="U123")
    assert info["user"]["id"] == "U123"
    updated = await client.chat_update(channel="D1", ts="1.000100", text="new", blocks=BLOCKS)
    assert updated["ts"] == "1.000100"
    assert (await client.chat_postEphemeral(channel="C1", user="U1", text="psst"))["message_ts"]
    view = await client.views_open(trigger_id="1.1.t", view={"type": "modal", "blocks": []})
    assert view["view"]["id"].startswith("V")
    assert (await client.reactions_add(channel="D1", timestamp="1.000100", name="thumbsup"))["ok"]
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("nope.nothing")
    assert [c.method for c in slack.calls][:3] == ["auth.test", "conversations.open", "users.info"]


def test_sign_slack_request_verifies() -> None:
    body = b'{"type":"event_callback"}'
    headers = sign_slack_request(SIGNING_SECRET, body)
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid(
        body + b" ", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    fixed = sign_slack_request(SIGNING_SECRET, body, timestamp=1_700_000_000)
    assert fixed["X-Slack-Request-Timestamp"] == "1700000000"


async def test_bolt_app_handles_signed_payloads(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    app = AsyncApp(signing_secret=SIGNING_SECRET, client=client)  # token comes from the client
    seen: list[str] = []

    @app.event("message")
    async def on_dm(event: dict[str, Any], say: Any) -> None:
        seen.append(event["channel_type"])
        await say(text=f"got {event['text']}", blocks=BLOCKS)

    @app.action("choose")
    async def on_choose(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text=f"chose {body['actions'][0]['value']}", replace_original=True)

    @app.command("/ourvoice")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"command text={command['text']}")

    async def dispatch(body: bytes, content_type: str) -> Any:
        headers = {**sign_slack_request(SIGNING_SECRET, body), "Content-Type": content_type}
        return await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))

    resp = await dispatch(json_body(event_callback(dm_message_event("U9", "hello"))), "application/json")
    assert resp.status == 200
    await slack.wait_for(lambda: slack.posted_messages("DU9"))
    assert slack.posted_messages("DU9")[0]["text"] == "got hello"
    assert seen == ["im"]
    assert slack.calls_to("auth.test"), "bolt authorises via auth.test on the first request"

    payload = block_actions_payload(
        "U9", "choose", "b", channel="DU9", message_ts="1.000100", response_url=slack.response_url("r1")
    )
    resp = await dispatch(interactive_body(payload), "application/x-www-form-urlencoded")
    assert resp.status == 200
    await slack.wait_for(lambda: slack.response_url_posts("r1"))
    assert slack.response_url_posts("r1")[0]["text"] == "chose b"

    form = urlencode(slash_command_form("U9", text="feedback")).encode()
    resp = await dispatch(form, "application/x-www-form-urlencoded")
    assert resp.status == 200
    assert resp.body == "command text=feedback"  # ack(text=...) answers with a plain-text body

    bad = json_body(event_callback(dm_message_event("U9", "forged")))
    forged = await app.async_dispatch(
        AsyncBoltRequest(body=bad.decode(), headers=sign_slack_request("wrong-secret", bad))
    )
    assert forged.status == 401


# ============================================================================ SMTP


def _mail(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "bot@ourvoice.test"
    msg["To"] = "worker@council.test"
    msg["Subject"] = subject
    msg.set_content("Hello from the test suite.")
    return msg


def test_smtp_sink_receives_and_parses() -> None:
    with SmtpSink() as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
            smtp.send_message(_mail("Alert: new feedback"))
        (received,) = sink.wait_for(1)
        assert isinstance(received, EmailMessage)
        assert received["Subject"] == "Alert: new feedback"
        body = received.get_body(("plain",))
        assert body is not None
        assert "Hello from the test suite." in body.get_content()
        assert sink.deliveries[0].rcpt_tos == ("worker@council.test",)


def test_smtp_sink_can_be_down_then_back() -> None:
    with SmtpSink() as sink:
        port = sink.port
        sink.stop()
        with pytest.raises(ConnectionRefusedError), smtplib.SMTP(sink.host, sink.port, timeout=2) as smtp:
            smtp.send_message(_mail("lost"))
        sink.start()
        assert sink.port == port
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
            smtp.send_message(_mail("delivered"))
        assert [m["Subject"] for m in sink.wait_for(1)] == ["delivered"]
        with pytest.raises(AssertionError, match="expected 2"):
            sink.wait_for(2, timeout=0.05)
