"""Replies go through the outbox sender within Slack's limits: 429 storms wait out Retry-After and drop
nothing; one channel gets at most one message per interval; old buttons disappear even under 429s."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.channels.slack import SlackSettings
from bot.runtime import Runtime
from storage import outbox
from storage.db import session
from tests.fakes.slack_api import dm_message_event, event_callback
from tests.slack.conftest import SlackFake, SlackUser, post_event, running

PEOPLE = 20


def pending(rt: Runtime) -> int:
    with session(rt.engine) as s:
        return outbox.pending_count(s, "slack")


async def test_a_429_storm_drops_nothing(rt: Runtime, fake: SlackFake) -> None:
    fake.rate_limit(12, retry_after=1)
    async with running(rt, fake) as (client, service):
        users = [f"U0STORM{i:03d}" for i in range(PEOPLE)]
        resps = await asyncio.gather(*(post_event(client, event_callback(dm_message_event(u, "hello"))) for u in users))
        assert [r.status_code for r in resps] == [200] * PEOPLE
        await service.wait_idle(timeout=30)
        limited = [c for c in fake.calls_to("chat.postMessage") if c.status == 429]
        assert len(limited) == 12
        by_channel: dict[str, list[str]] = defaultdict(list)
        for m in fake.posted_messages():
            by_channel[m["channel"]].append(m["text"])
        # Every person got both replies, once each, in order.
        assert set(by_channel) == {f"D{u}" for u in users}
        first = by_channel[f"D{users[0]}"]
        assert len(first) == 2 and first[0].startswith("Hi, and welcome")
        assert all(texts == first for texts in by_channel.values())
        assert pending(rt) == 0
        # After a 429 nothing more was sent until Retry-After had passed.
        calls = fake.calls_to("chat.postMessage")
        last_429 = max(c.at for c in limited)
        first_429 = min(c.at for c in limited)
        ok_after = [c.at for c in calls if c.status == 200 and c.at > first_429]
        assert ok_after and min(ok_after) - first_429 >= 0.95
        assert max(c.at for c in calls) >= last_429


async def test_one_channel_gets_at_most_one_message_per_interval(rt: Runtime, fake: SlackFake) -> None:
    assert SlackSettings(_env_file=None).per_channel_interval == 1.0  # type: ignore[call-arg]  # Slack: ~1/s
    async with running(rt, fake, per_channel_interval=0.25) as (client, service):
        carer = SlackUser(client, service, fake, "U0PACE001")
        await carer.say("hello")
        await carer.press("I'm a foster carer")
        await carer.press("Quick check-in")
        times = [c.at for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == "DU0PACE001"]
        assert len(times) >= 5
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 0.24


async def test_buttons_are_removed_even_when_slack_says_slow_down(rt: Runtime, fake: SlackFake) -> None:
    fake.rate_limit(2, retry_after=1, methods=("chat.update",))
    async with running(rt, fake) as (client, service):
        carer = SlackUser(client, service, fake, "U0SLOW001")
        await carer.say("hello")
        await carer.press("I'm a foster carer")
        updates = fake.calls_to("chat.update")
        assert [c.status for c in updates] == [429, 429, 200]
        assert updates[-1].params["ts"] == updates[0].params["ts"]
