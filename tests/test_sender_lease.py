"""Every process sends a channel's stored rows, each chat claimed by one of them at a time (issue 26).

Real OutboxSenders on one real SQLite outbox; the channels are recording stand-ins. Two senders on one
database stand in for two `ourvoice run` processes (each would have its own engine; here they share one).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.crypto import Keyring
from bot.messages import Outbound
from bot.outbox import OutboxSender, holder_gone, new_holder
from storage import leases, outbox
from storage.db import make_engine, session
from storage.migrate import upgrade
from tests.support.clock import Clock

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
KEYRING = Keyring("k", [Keyring.new_fernet_key()])


class RecordingChannel:
    name = "slack"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, address: str, message: Outbound) -> None:
        self.sent.append((address, message.text))


@pytest.fixture
def engine(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'lease.db'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def add_rows(engine, texts: list[str], *, chats: int = 4) -> list[int]:
    with session(engine) as s:
        return [
            outbox.add(
                s, channel="slack", payload_json=json.dumps(Outbound(t).to_json()), now=NOW,
                address_enc=KEYRING.encrypt(f"D{i % chats}"),
            )
            for i, t in enumerate(texts)
        ]


def make_sender(engine, channel: RecordingChannel, clock: Clock, **kw) -> OutboxSender:
    return OutboxSender(
        engine=engine, keyring=KEYRING, channel=channel, clock=clock, per_chat_interval=0.0,
        global_per_second=1000, scan_interval=0.05, claim_renew=0.05, **kw,
    )


async def until(check, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def pending(engine) -> int:
    with session(engine) as s:
        return outbox.pending_count(s, "slack")


async def two_started(engine) -> list[tuple[RecordingChannel, OutboxSender]]:
    """Two senders for one channel, as two processes would run them."""
    clock = Clock(NOW)
    pairs = []
    for _ in range(2):
        channel = RecordingChannel()
        sender = make_sender(engine, channel, clock)
        await sender.start()
        pairs.append((channel, sender))
    return pairs


def test_two_senders_both_send_and_deliver_each_row_once(engine) -> None:
    async def scenario() -> tuple[RecordingChannel, RecordingChannel]:
        (first_channel, first), (second_channel, second) = await two_started(engine)
        texts = [f"message {n}" for n in range(40)]
        ids = add_rows(engine, texts)
        second.enqueue("D0", [(ids[0], Outbound(texts[0]))])  # what its own dispatcher committed: claimed at once
        first.kick()
        second.kick()
        await until(lambda: pending(engine) == 0)
        await first.wait_idle(5)
        await second.wait_idle(5)
        await first.stop()
        await second.stop()
        return first_channel, second_channel

    first_channel, second_channel = asyncio.run(scenario())
    counts = Counter(text for _, text in first_channel.sent + second_channel.sent)
    assert len(counts) == 40
    assert set(counts.values()) == {1}


def test_a_chats_later_rows_go_with_its_head_to_one_sender(engine) -> None:
    """Rows of one participant's chat are claimed together by one process, oldest first."""
    with session(engine) as s:
        ids = [outbox.add(s, channel="slack", payload_json=json.dumps(Outbound(f"m{n}").to_json()), now=NOW,
                          participant_id=None, address_enc=KEYRING.encrypt("D9")) for n in range(3)]
        got = outbox.claim(s, "slack", "a", now=NOW, until=NOW + timedelta(seconds=30))
        assert [r[0] for r in got] == ids  # no participant: each row a chat of its own, all free
        assert outbox.claim(s, "slack", "b", now=NOW, until=NOW + timedelta(seconds=30)) == []  # held by a
        later = NOW + timedelta(seconds=31)
        assert [r[0] for r in outbox.claim(s, "slack", "b", now=later, until=later + timedelta(seconds=30))] == ids
        assert outbox.renew(s, "a", now=later, until=later + timedelta(seconds=30)) == []  # a's ran out: not renewed
        outbox.mark_sending(s, [ids[0]], at=later)
        assert [r[4] for r in outbox.claim(s, "slack", "c", now=later, until=later, gone=("b",))] == [True, False, False]


def test_a_dead_senders_claims_run_out(engine) -> None:
    ids = add_rows(engine, ["waiting for a sender"])
    with session(engine) as s:  # a process that died holding its claim (on another host: not provably gone)
        assert outbox.claim(s, "slack", "elsewhere:1:x", now=NOW, until=NOW + timedelta(seconds=30))

    async def scenario(clock: Clock) -> RecordingChannel:
        channel = RecordingChannel()
        sender = make_sender(engine, channel, clock)
        await sender.start()
        sender.kick()
        await asyncio.sleep(0.3)
        assert channel.sent == []  # the claim is still good
        clock.now = NOW + timedelta(seconds=31)
        await until(lambda: pending(engine) == 0)
        await sender.stop()
        return channel

    channel = asyncio.run(scenario(Clock(NOW)))
    assert ids and [text for _, text in channel.sent] == ["waiting for a sender"]


def test_a_live_or_remote_holder_is_never_taken_over() -> None:
    me = new_holder()
    assert not holder_gone(me)  # this sender's own name: alive
    assert not holder_gone(f"{socket.gethostname()[:30]}:1:abc") or os.getpid() == 1  # pid 1 always runs
    assert not holder_gone(f"another-host:{os.getpid()}:abc")  # can't see other machines' processes
    assert holder_gone(f"{socket.gethostname()[:30]}:{os.getpid()}:not-ours")  # same id, not us: restarted


def test_lease_rules(engine) -> None:
    ttl = timedelta(seconds=30)
    with session(engine) as s:
        assert leases.acquire(s, "telegram", "a", now=NOW, ttl=ttl)
        assert not leases.acquire(s, "telegram", "b", now=NOW + timedelta(seconds=10), ttl=ttl)
        assert leases.acquire(s, "slack", "b", now=NOW, ttl=ttl)  # one lease per channel
        assert leases.acquire(s, "telegram", "a", now=NOW + timedelta(seconds=20), ttl=ttl)  # renewed
        assert not leases.acquire(s, "telegram", "b", now=NOW + timedelta(seconds=40), ttl=ttl)
        assert leases.holder(s, "telegram", now=NOW + timedelta(seconds=40)) == "a"
        assert leases.holder(s, "telegram", now=NOW + timedelta(seconds=51)) is None
        leases.release(s, "slack", "a")  # only the holder can give it up
        assert leases.holder(s, "slack", now=NOW) == "b"
        leases.release(s, "slack", "b")
        assert leases.holder(s, "slack", now=NOW) is None
        assert leases.acquire(s, "slack", "c", now=NOW, ttl=ttl)
