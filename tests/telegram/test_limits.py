"""Outbound within Telegram's limits: a 429 storm at Telegram's real limits, and the limiter on its own."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from bot.outbox import RateLimiter
from tests.fakes.telegram_api import Call, FakeBotAPI
from tests.support.cluster import max_per_window
from tests.telegram.conftest import Factory, TgUser, delivered, said, settle

JITTER = 0.05  # seconds of slack for HTTP timing between the client's pacing and the fake's clock
STORM = 8
ON_THE_WIRE = 0.3  # requests sent just before a 429 came back may still arrive this much later on a busy box


async def test_429_storm_delivers_everything_within_limits(
    tg: FakeBotAPI, rt, services: Factory
) -> None:
    svc = services(rt, per_chat_interval=1.0, global_per_second=30)  # real limits
    await svc.start()
    # Eight 429s in a row: each one pauses all sending for its retry_after before anything is sent again.
    tg.rate_limit(STORM, retry_after=1)
    users = [TgUser(tg, 30_000 + i) for i in range(40)]
    for u in users:
        u.say("/start")
    for u in users:  # a second step each, so every chat gets two sends to pace
        u.say("/help")
    await settle(tg, svc, timeout=60)

    sends: list[Call] = tg.calls_to("sendMessage")
    ok = [c for c in sends if c.status == 200]
    limited = [c for c in sends if c.status == 429]
    assert len(limited) == STORM
    # Nothing dropped: every reply arrived once, each chat's in order (replies queued together may share
    # one message, so compare the words: what was delivered is exactly what was committed).
    assert len(ok) == sum(len(u.texts()) for u in users)
    for u in users:
        assert u.texts()[0].startswith("Hi, and welcome")
        assert delivered(tg, u.chat_id) == said(rt, u.chat_id)
    # Never more than 30 in any second overall, nor more than one per second in a chat.
    assert max_per_window([c.at for c in ok], 1.0 - JITTER) <= 30
    by_chat: dict[int, list[float]] = defaultdict(list)
    for c in ok:
        by_chat[int(c.params["chat_id"])].append(c.at)
    assert all(max_per_window(times, 1.0 - JITTER) <= 1 for times in by_chat.values())
    # retry_after was honoured: after each 429 nothing was delivered for the rest of that second (bar
    # requests that were already on the wire when the 429 came back, which land within ON_THE_WIRE).
    for c in limited:
        assert not [o for o in ok if c.at + ON_THE_WIRE < o.at < c.at + 1.0 - JITTER]


async def test_limiter_spaces_one_chat_and_caps_the_total() -> None:
    limiter = RateLimiter(per_chat_interval=0.2, global_per_second=5)
    stamps: dict[str, list[float]] = defaultdict(list)

    async def chat(name: str, n: int) -> None:
        for _ in range(n):
            await limiter.wait_chat(name)
            await limiter.wait_global(name)
            stamps[name].append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(chat(f"c{i}", 3) for i in range(4)))
    every = [t for ts in stamps.values() for t in ts]
    assert len(every) == 12
    assert max_per_window(every, 1.0 - 0.01) <= 5
    for ts in stamps.values():
        assert all(b - a >= 0.2 - 0.01 for a, b in zip(ts, ts[1:], strict=False))
    assert time.monotonic() - started >= 2.0 - 0.05  # 12 sends at 5/s need at least two full windows


async def test_limiter_pause_holds_everyone() -> None:
    limiter = RateLimiter(per_chat_interval=0.0, global_per_second=100)
    limiter.pause(0.3)
    started = time.monotonic()
    await asyncio.gather(*(limiter.wait_global(f"c{i}") for i in range(3)))
    assert time.monotonic() - started >= 0.3 - 0.01
