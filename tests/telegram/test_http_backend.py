"""bot.channels.telegram_http: PTB's Bot over our aiohttp backend, against real loopback servers.

PTB keeps the error mapping (status codes to RetryAfter, Forbidden and so on); these tests check the part
that is ours: timeouts, transport failures, the long poll's longer read timeout, JSON and multipart bodies.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram import error as tg_error

from bot.channels.telegram import retry_after_seconds
from bot.channels.telegram_http import AiohttpRequest
from tests.fakes.telegram_api import BOT_USER, FakeBotAPI


async def _bot(base_url: str, token: str, **request: float) -> Bot:
    bot = Bot(token, base_url=base_url, request=AiohttpRequest(**request),
              get_updates_request=AiohttpRequest(connection_pool_size=1, **request))
    await bot.initialize()
    return bot


@pytest.fixture
async def stalling_server() -> AsyncIterator[str]:
    """A Bot API URL whose every request is answered only after 3 seconds."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


async def test_send_goes_as_json_and_comes_back_as_a_message(tg: FakeBotAPI) -> None:
    bot = await _bot(tg.bot_base_url, tg.token)
    try:
        assert bot.username == BOT_USER["username"]  # getMe went through at initialize
        sent = await bot.send_message(chat_id=55, text="Hi 🌟 with an emoji\u200b")
    finally:
        await bot.shutdown()
    assert sent.text == "Hi 🌟 with an emoji\u200b"
    assert sent.chat.id == 55
    assert tg.sent_messages(55)[0]["text"] == "Hi 🌟 with an emoji\u200b"


async def test_api_errors_keep_ptbs_meaning(tg: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # as TelegramChannel sets it: retry_after as a timedelta
    bot = await _bot(tg.bot_base_url, tg.token)
    try:
        tg.rate_limit(1, retry_after=7)
        with pytest.raises(tg_error.RetryAfter) as limited:
            await bot.send_message(chat_id=56, text="one")
        tg.block_chat(57)
        with pytest.raises(tg_error.Forbidden):
            await bot.send_message(chat_id=57, text="two")
    finally:
        await bot.shutdown()
    assert retry_after_seconds(limited.value) == 7


async def test_a_stalled_server_is_a_timeout_not_a_hang(stalling_server: str) -> None:
    async with AiohttpRequest(read_timeout=0.3) as request:
        bot = Bot("1:x", base_url=stalling_server, request=request)
        started = time.monotonic()
        with pytest.raises(tg_error.TimedOut):
            await bot.get_me()
        assert time.monotonic() - started < 2.5  # gave up well before the server's 3 s answer


async def test_nothing_listening_is_a_network_error() -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AiohttpRequest(connect_timeout=1.0) as request:
        bot = Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot", request=request)
        with pytest.raises(tg_error.NetworkError) as failed:
            await bot.get_me()
    assert not isinstance(failed.value, tg_error.TimedOut)
    assert "aiohttp." in str(failed.value)


async def test_a_long_poll_may_outlast_the_read_timeout(tg: FakeBotAPI) -> None:
    # PTB adds the poll's own seconds to the read timeout for getUpdates; ours must honour the sum.
    bot = await _bot(tg.bot_base_url, tg.token, read_timeout=0.2)
    try:
        started = time.monotonic()
        updates = await bot.get_updates(timeout=1)
        waited = time.monotonic() - started
    finally:
        await bot.shutdown()
    assert updates == ()
    assert waited >= 0.5  # the fake held the poll open past 0.2 s and we did not give up


async def test_files_go_as_multipart(tg: FakeBotAPI) -> None:
    bot = await _bot(tg.bot_base_url, tg.token)
    try:
        with pytest.raises(tg_error.TelegramError):  # the fake has no sendDocument; it records the call
            await bot.send_document(chat_id=58, document=b"a,b\n1,2\n", filename="report.csv")
    finally:
        await bot.shutdown()
    call = tg.calls_to("sendDocument")[0]
    assert call.params["chat_id"] == 58
    assert call.params["document"]["filename"] == "report.csv"
    assert call.params["document"]["data"] == b"a,b\n1,2\n"


async def test_uninitialised_request_says_so() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/bot1:x/getMe", "POST")
