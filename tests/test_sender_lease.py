"""One sender at a time delivers a channel's stored rows, however many processes run it.

Real OutboxSenders on one real SQLite outbox; the channels are recording stand-ins. Two senders on one
database stand in for two `ourvoice run` processes (each would have its own engine; here they share one).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
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
        global_per_second=1000, scan_interval=0.05, lease_renew=0.05, **kw,
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
    """Two senders for one channel, as two processes would run them; the first to start holds the lease."""
    clock = Clock(NOW)
    pairs = []
    for _ in range(2):
        channel = RecordingChannel()
        sender = make_sender(engine, channel, clock)
        await sender.start()
        pairs.append((channel, sender))
    return pairs


def test_two_senders_deliver_each_row_once(engine) -> None:
    async def scenario() -> tuple[RecordingChannel, RecordingChannel, OutboxSender, OutboxSender]:
        (first_channel, first), (second_channel, second) = await two_started(engine)
        texts = [f"message {n}" for n in range(40)]
        ids = add_rows(engine, texts)
        # Each process queues what its own dispatcher committed; the standby leaves its share pending.
        second.enqueue("D0", [(ids[0], Outbound(texts[0]))])
        first.kick()
        second.kick()
        await until(lambda: pending(engine) == 0)
        await first.wait_idle(5)
        await asyncio.sleep(0.2)  # several scans and renewals of both
        await first.stop()
        await second.stop()
        return first_channel, second_channel, first, second

    first_channel, second_channel, first, second = asyncio.run(scenario())
    assert (first.active, second.active) == (False, False)  # both stopped
    counts = Counter(text for _, text in first_channel.sent)
    assert second_channel.sent == []
    assert len(counts) == 40
    assert set(counts.values()) == {1}


def test_standby_takes_over_when_the_holder_stops(engine) -> None:
    async def scenario() -> tuple[RecordingChannel, RecordingChannel]:
        (first_channel, first), (second_channel, second) = await two_started(engine)
        assert (first.active, second.active) == (True, False)
        await first.stop()  # a clean stop gives the lease up at once
        add_rows(engine, ["after the first stopped"])
        await until(lambda: pending(engine) == 0)
        await second.stop()
        return first_channel, second_channel

    first_channel, second_channel = asyncio.run(scenario())
    assert first_channel.sent == []
    assert [text for _, text in second_channel.sent] == ["after the first stopped"]


def test_a_dead_holders_lease_runs_out(engine) -> None:
    with session(engine) as s:  # a process that died without giving its lease up
        assert leases.acquire(s, "slack", "gone:1", now=NOW, ttl=timedelta(seconds=30))
    add_rows(engine, ["waiting for a sender"])

    async def scenario(clock: Clock) -> RecordingChannel:
        channel = RecordingChannel()
        sender = make_sender(engine, channel, clock)
        await sender.start()
        await asyncio.sleep(0.3)
        assert channel.sent == [] and not sender.active  # the lease is still good
        clock.now = NOW + timedelta(seconds=31)
        await until(lambda: pending(engine) == 0)
        await sender.stop()
        return channel

    channel = asyncio.run(scenario(Clock(NOW)))
    assert [text for _, text in channel.sent] == ["waiting for a sender"]


def test_a_restarted_process_takes_over_from_a_killed_holder_at_once(engine, tmp_path: Path) -> None:
    """A real process takes the lease and is killed (kill -9, no release): its successor on this machine
    does not wait the 30 s for the lease to run out, because the holder's process id provably no longer runs."""
    url = str(engine.url)
    code = (
        "import sys, time\n"
        "from datetime import UTC, datetime, timedelta\n"
        "from bot.outbox import new_holder\n"
        "from storage import leases\n"
        "from storage.db import make_engine, session\n"
        "with session(make_engine(sys.argv[1])) as s:\n"
        "    assert leases.acquire(s, 'slack', new_holder(), now=datetime.now(UTC), ttl=timedelta(seconds=30))\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", code, url], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    finally:
        proc.kill()
        proc.wait()
    add_rows(engine, ["left by the killed process"])
    with session(engine) as s:
        dead = leases.holder(s, "slack", now=datetime.now(UTC))
    assert dead is not None and dead.split(":")[1] == str(proc.pid)

    async def scenario() -> tuple[RecordingChannel, bool]:
        channel = RecordingChannel()
        clock = Clock(NOW)
        clock.now = datetime.now(UTC)  # well within the killed holder's 30 s
        sender = make_sender(engine, channel, clock)
        await sender.start()
        active_at_start = sender.active
        await until(lambda: pending(engine) == 0)
        await sender.stop()
        return channel, active_at_start

    channel, active_at_start = asyncio.run(scenario())
    assert active_at_start  # taken over in start(), not after the lease ran out
    assert [text for _, text in channel.sent] == ["left by the killed process"]


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
