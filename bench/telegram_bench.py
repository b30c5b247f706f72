"""Updates/s end to end through python-telegram-bot and the loopback fake Bot API: ourvoice (durable commits,
per-chat order, outbox delivery) next to a bare python-telegram-bot echo bot measured in the same run.

Both get the same updates (typed answers through onboarding and the sample topic, chats interleaved) from
the same fake server; the clock starts when the bot starts polling and stops when every update has been
acknowledged and every reply delivered. Rate limits are lifted for ourvoice here (Telegram's real limits
would cap any bot at 30 messages/s); the database is SQLite on disk with synchronous=FULL (one fsync per
commit), or PostgreSQL when OURVOICE_BENCH_POSTGRES_URL is set.

The headline ratio is against stock python-telegram-bot (its httpx backend). ourvoice's Telegram channel
runs PTB on its own aiohttp backend (bot.channels.telegram_http), so the echo bot is also measured on that
backend in every round, and that ratio is printed beside the headline.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.fake_telegram_process import FakeBotAPIProcess
from bot.channels.telegram import TelegramSettings
from bot.channels.telegram_http import AiohttpRequest
from bot.messages import Inbound
from bot.runtime import build_runtime
from bot.settings import BotSettings
from bot.telegram_service import TelegramService
from storage import outbox
from storage.db import session
from storage.migrate import create_missing_tables, upgrade
from tests.fakes.telegram_api import FakeBotAPI

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def chat_script(c: int) -> list[str]:
    """One person's 20 messages: onboarding, the sample topic by typed answers, then a few commands."""
    return ["/start", "3", "1", str(c % 5 + 1), "1", "2", "3", "done", "1", "2", "3", "4", "done",
            str(c % 4 + 1), f"words from chat number {c}", "yes", "/help", "/menu", "hello", "/stop"]


def _plan(n_updates: int, n_chats: int) -> list[tuple[int, str]]:
    """(chat id, text) in arrival order: every chat's script in turn, chats interleaved."""
    chats = [700_000 + c for c in range(n_chats)]
    out: list[tuple[int, str]] = []
    step = 0
    while len(out) < n_updates:
        for c in chats:
            if len(out) >= n_updates:
                break
            script = chat_script(c)
            out.append((c, script[step % len(script)]))
        step += 1
    return out


def _push_all(tg: FakeBotAPI, n_updates: int, n_chats: int) -> None:
    for chat, text in _plan(n_updates, n_chats):
        if text.startswith("/"):
            tg.push_update(tg.command_update(chat, text))
        else:
            tg.push_update(tg.text_update(chat, text))


async def _wait(predicate: Any, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish")
        await asyncio.sleep(0.005)


def _echo_app(token: str, base_url: str, *, aiohttp: bool = False) -> Any:
    """A plain python-telegram-bot echo bot: Updater polling, one handler, PTB's default sequential processing.

    Stock PTB (httpx) by default; with `aiohttp`, on the same network backend ourvoice uses, so the ratio
    can also be read like for like.
    """
    builder = ApplicationBuilder().token(token).base_url(base_url)
    if aiohttp:
        builder = builder.request(AiohttpRequest(connection_pool_size=8))
        builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=1))
    app = builder.build()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def _time_echo(token: str, base_url: str, finished: Any, *, aiohttp: bool = False) -> float:
    """Seconds from starting the echo bot until `finished()` (an awaitable check) says all is answered."""
    app = _echo_app(token, base_url, aiohttp=aiohttp)
    async with app:
        assert app.updater is not None
        start = time.perf_counter()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        await finished()
        elapsed = time.perf_counter() - start
        await app.updater.stop()
        await app.stop()
    return elapsed


async def _bare(n_updates: int, n_chats: int) -> float:
    """The echo bot against the fake served from the bot's own event loop."""
    async with FakeBotAPI() as tg:
        _push_all(tg, n_updates, n_chats)
        return await _time_echo(
            tg.token, tg.bot_base_url,
            lambda: _wait(lambda: tg.delivered >= n_updates and not tg.pending_updates(), 300),
        )


async def _bare_remote(server: FakeBotAPIProcess, n_updates: int, *, aiohttp: bool = False) -> float:
    """The echo bot against the fake in its own process (as Telegram is on other machines)."""
    return await _time_echo(
        server.token, server.bot_base_url, lambda: server.wait_done(delivered=n_updates), aiohttp=aiohttp
    )


def _runtime(work: Path, name: str) -> Any:
    url = os.environ.get("OURVOICE_BENCH_POSTGRES_URL") or f"sqlite:///{work / name}"
    upgrade(url)
    create_missing_tables(url)
    settings = BotSettings(
        _env_file=None, database_url=url, id_hash_key="bench", encryption_keys=Fernet.generate_key().decode(),
        alert_spool_dir=str(work / "spool"), invite_only=False,
    )  # type: ignore[call-arg]
    return build_runtime(settings)


def _dispatch_only(n_updates: int, n_chats: int, work: Path) -> float:
    """The same messages straight into the dispatcher, no Telegram at all: the ceiling for any channel."""
    rt = _runtime(work, "dispatch_only.db")
    msgs = []
    for i, (chat, text) in enumerate(_plan(n_updates, n_chats)):
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            msgs.append(Inbound("telegram", str(chat), f"u{i}", "command", command=command, args=args,
                                address=str(chat)))
        else:
            msgs.append(Inbound("telegram", str(chat), f"u{i}", "text", text=text, address=str(chat)))
    start = time.perf_counter()
    for msg in msgs:
        rt.dispatcher.handle(msg, now=NOW)
    elapsed = time.perf_counter() - start
    rt.engine.dispose()
    return elapsed


def _service(rt: Any, token: str, base_url: str) -> TelegramService:
    tg_settings = TelegramSettings(
        _env_file=None, token=token, api_base_url=base_url, per_chat_interval=0.0,
        global_per_second=1_000_000, poll_timeout=1,
    )  # type: ignore[call-arg]
    return TelegramService(rt, tg_settings, clock=lambda: NOW)


async def _ours(n_updates: int, n_chats: int, work: Path) -> tuple[float, int]:
    """ourvoice against the fake served from the bot's own event loop."""
    rt = _runtime(work, "telegram.db")
    async with FakeBotAPI() as tg:
        _push_all(tg, n_updates, n_chats)
        svc = _service(rt, tg.token, tg.bot_base_url)
        await svc.prepare()  # like the echo bot's initialize(): outside the clock
        start = time.perf_counter()
        svc.open()
        await _wait(lambda: not tg.pending_updates() and svc.runner.in_flight == 0 and svc.sender.idle, 600)
        elapsed = time.perf_counter() - start
        sent = tg.delivered
        await svc.stop()
    rt.engine.dispose()
    return elapsed, sent


async def _ours_remote(server: FakeBotAPIProcess, work: Path) -> dict[str, Any]:
    """ourvoice against the fake in its own process: seconds, messages Telegram got, replies committed."""
    rt = _runtime(work, "telegram_remote.db")
    svc = _service(rt, server.token, server.bot_base_url)
    await svc.prepare()  # worker processes, getMe, setMyCommands: outside the clock, as for the echo bot
    start = time.perf_counter()
    svc.open()
    await server.wait_done()  # every update confirmed, so every step committed
    await _wait(lambda: svc.runner.in_flight == 0 and svc.sender.idle, 600)  # and every reply sent
    elapsed = time.perf_counter() - start
    finished = await server.wait_done(timeout=0)
    batches = svc.runner.batcher.batches
    await svc.stop()
    with session(rt.engine) as s:
        replies = outbox.sent_count(s, "telegram")
    rt.engine.dispose()
    return {"seconds": elapsed, "messages": finished["delivered"], "replies": replies, "batches": batches}


def _commit_floor(n: int, work: Path) -> float:
    """The same number of one-row SQLite transactions with the same pragmas: the durability ceiling."""
    conn = sqlite3.connect(work / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (f"u{i}",))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run(n_updates: int = 2000, n_chats: int = 100, rounds: int = 5) -> dict[str, Any]:
    """Measure both bots on the same machine in the same run; returns updates/s and the ratio.

    The headline pair runs `rounds` times, alternating echo bot and ourvoice, and reports medians: on a
    shared 2-core machine one run of either can be a third off.
    """
    with tempfile.TemporaryDirectory(dir=os.environ.get("OURVOICE_BENCH_DIR")) as tmp:
        work = Path(tmp)
        plan = _plan(n_updates, n_chats)
        bare_runs: list[float] = []
        bare_aiohttp_runs: list[float] = []
        ours_runs: list[dict[str, Any]] = []
        for r in range(rounds):
            with FakeBotAPIProcess(plan) as server:
                bare_runs.append(asyncio.run(_bare_remote(server, n_updates)))
            round_dir = work / f"round{r}"
            round_dir.mkdir()
            with FakeBotAPIProcess(plan) as server:
                ours_runs.append(asyncio.run(_ours_remote(server, round_dir)))
            with FakeBotAPIProcess(plan) as server:
                bare_aiohttp_runs.append(asyncio.run(_bare_remote(server, n_updates, aiohttp=True)))
        bare_s = asyncio.run(_bare(n_updates, n_chats))
        ours_s, replies = asyncio.run(_ours(n_updates, n_chats, work))
        dispatch_s = _dispatch_only(n_updates, n_chats, work)
        floor_s = _commit_floor(n_updates, work)
    bare_rates = sorted(n_updates / b for b in bare_runs)
    ours_rates = sorted(n_updates / o["seconds"] for o in ours_runs)
    bare_aiohttp_rates = sorted(n_updates / b for b in bare_aiohttp_runs)
    bare_aiohttp_rate = statistics.median(bare_aiohttp_rates)
    bare_remote_rate = statistics.median(bare_rates)
    ours_remote_rate = statistics.median(ours_rates)
    last = ours_runs[-1]
    bare_rate = n_updates / bare_s
    ours_rate = n_updates / ours_s
    return {
        "updates": n_updates,
        "chats": n_chats,
        "rounds": rounds,
        # Headline: the fake Bot API in its own process, as Telegram is; medians over the rounds.
        "ourvoice_updates_per_s": round(ours_remote_rate, 1),
        "ourvoice_runs": [round(x) for x in ours_rates],
        "bare_ptb_echo_updates_per_s": round(bare_remote_rate, 1),
        "bare_runs": [round(x) for x in bare_rates],
        "ratio_ourvoice_to_bare": round(ours_remote_rate / bare_remote_rate, 3),
        # Like for like: the echo bot on the aiohttp backend ourvoice's Telegram channel uses by default.
        "bare_ptb_echo_on_aiohttp_updates_per_s": round(bare_aiohttp_rate, 1),
        "bare_on_aiohttp_runs": [round(x) for x in bare_aiohttp_rates],
        "ratio_ourvoice_to_bare_on_aiohttp": round(ours_remote_rate / bare_aiohttp_rate, 3),
        # Replies committed to the outbox, and the Telegram messages that carried them (replies queued
        # together for one chat share a message).
        "ourvoice_replies_committed": last["replies"],
        "ourvoice_messages_sent": last["messages"],
        "ourvoice_mean_step_batch": round(n_updates / max(1, last["batches"]), 1),
        # The same with the fake served from the bot's own event loop (its work is charged to the bot).
        "same_process_server_ourvoice_updates_per_s": round(ours_rate, 1),
        "same_process_server_messages_sent": replies,
        "same_process_server_bare_updates_per_s": round(bare_rate, 1),
        "same_process_server_ratio": round(ours_rate / bare_rate, 3),
        "dispatcher_alone_updates_per_s": round(n_updates / dispatch_s, 1),
        "sqlite_one_row_commits_per_s": round(n_updates / floor_s, 1),
    }


if __name__ == "__main__":
    import json
    import logging
    import sys

    logging.disable(logging.WARNING)
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(run(*args)))
