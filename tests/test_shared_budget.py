"""The global send rate shared through the database (issue 26 item 2): two senders, as two processes, on one
PostgreSQL outbox stay together within the limit in every one-second window, and a 429 one of them meets is
stored, so no process books a slot before it."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest

from bot.channels.base import DeliveryError
from bot.crypto import Keyring
from bot.messages import Outbound
from bot.outbox import OutboxSender
from storage import outbox, send_budget
from storage.db import make_engine, session
from tests.support.clock import Clock

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)

KEYRING = Keyring("k", [Keyring.new_fernet_key()])
LIMIT = 20


class TimedChannel:
    name = "slack"

    def __init__(self, log: list[float], refuse_once: bool = False) -> None:
        self.log = log
        self.refuse_once = refuse_once

    async def send(self, address: str, message: Outbound) -> None:
        if self.refuse_once:
            self.refuse_once = False
            raise DeliveryError("429", retry_after=1.0)
        self.log.append(time.time())


def test_two_senders_share_one_limit_and_one_429(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the shared budget is PostgreSQL's (SQLite runs one process, paced in memory)")
    engine = make_engine(db_url)
    with session(engine) as s:
        for n in range(50):
            outbox.add(s, channel="slack", payload_json=json.dumps(Outbound(f"m{n}").to_json()), now=NOW,
                       address_enc=KEYRING.encrypt(f"D{n}"))
    sent: list[float] = []

    async def scenario() -> None:
        senders = [
            OutboxSender(engine=engine, keyring=KEYRING, channel=TimedChannel(sent, refuse_once=(i == 0)),
                         clock=Clock(NOW), per_chat_interval=0.0, global_per_second=LIMIT, scan_interval=0.05,
                         batch=5)
            for i in range(2)
        ]
        assert all(s.budget is not None for s in senders)
        for s in senders:
            await s.start()
        deadline = time.monotonic() + 60  # a guard against a hang, not a speed target
        while len(sent) < 50 and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the senders' work
            await asyncio.sleep(0.05)
        for s in senders:
            await s.stop()

    try:
        asyncio.run(scenario())
        with session(engine) as s:
            assert outbox.pending_count(s, "slack") == 0
            blocked = send_budget.blocked_until(s, "slack")
    finally:
        engine.dispose()
    assert len(sent) == 50
    most = max(sum(1 for t in sent if a <= t < a + 1.0) for a in sent)
    assert most <= LIMIT
    assert blocked > 0  # the 429 is stored for every process (slots already booked elsewhere still go)
