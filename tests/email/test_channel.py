"""Email as an outbox channel: rows written in a transaction, sent by the real OutboxSender over real SMTP to the
loopback sink, retried while the relay is down and sent exactly once when it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from bot import mail_queue
from bot.channels import email
from bot.crypto import Keyring
from bot.outbox import OutboxSender
from storage.db import make_engine, session
from storage.models import OutboxMessage
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY
from tests.fakes.smtp_sink import SmtpSink
from tests.support.clock import Clock

KEYRING = Keyring(TEST_HASH_KEY, [TEST_FERNET_KEY])
SETTINGS = email.EmailSettings(_env_file=None, mail_from="ourvoice@council.invalid")  # type: ignore[call-arg]


def row(engine, rid: int) -> OutboxMessage:
    with session(engine) as s:
        found = s.execute(select(OutboxMessage).where(OutboxMessage.id == rid)).scalar_one()
        s.expunge(found)
        return found


def sender_for(engine, sink: SmtpSink, clock: Clock) -> OutboxSender:
    channel = email.EmailChannel(KEYRING, SETTINGS, host=sink.host, port=sink.port, mail_from="x@localhost")
    return OutboxSender(
        engine=engine, keyring=KEYRING, channel=channel, clock=clock, per_chat_interval=0.0,
        scan_interval=0.05, transient_tries=2, retry_pause=0.01, hold_seconds=0.05,
    )


async def until(predicate, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a bounded wait
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def test_relay_down_rows_stay_queued_then_sent_once_when_it_is_back(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    clock = Clock()
    sink = SmtpSink()  # its port is chosen, but nothing listens yet: the relay is down
    with session(engine) as s:
        rid = mail_queue.queue(s, KEYRING, to="team@council.invalid", subject="New card #3", body="Council: OCYPC",
                          kind="staff_notice", now=clock())
    stored = row(engine, rid)
    assert b"team@council.invalid" not in (stored.address_enc or b"")
    assert "OCYPC" not in stored.payload_json  # subject and body are sealed in the row

    async def run() -> None:
        sender = sender_for(engine, sink, clock)
        await sender.start()
        try:
            await until(lambda: row(engine, rid).attempts >= 1)  # tried, failed, put back with a later time
            down = row(engine, rid)
            assert down.status == "pending" and down.not_before > clock()
            assert sink.messages == []
            sink.start()
            clock.advance(minutes=5)  # past the back-off
            sender.kick()
            await sink.wait_for_async(1)
            await until(lambda: row(engine, rid).status == "sent")
            for _ in range(5):  # later scans find nothing more to send
                clock.advance(minutes=5)
                sender.kick()
                await asyncio.sleep(0.06)
        finally:
            await sender.stop()

    try:
        asyncio.run(run())
    finally:
        sink.stop()
        engine.dispose()
    [msg] = sink.messages
    assert sink.deliveries[0].rcpt_tos == ("team@council.invalid",)
    assert msg["Subject"] == "New card #3" and msg["From"] == "ourvoice@council.invalid"
    assert msg.get_content().strip() == "Council: OCYPC"


def test_a_refused_recipient_is_given_up_and_the_others_still_go(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    clock = Clock()
    with SmtpSink(refuse=("gone@council.invalid",)) as sink:
        with session(engine) as s:
            gone = mail_queue.queue(s, KEYRING, to="gone@council.invalid", subject="a", body="b", kind="k", now=clock())
            fine = mail_queue.queue(s, KEYRING, to="fine@council.invalid", subject="a", body="b", kind="k", now=clock())

        async def run() -> None:
            sender = sender_for(engine, sink, clock)
            await sender.start()
            try:
                await until(lambda: row(engine, gone).status == "dead" and row(engine, fine).status == "sent")
            finally:
                await sender.stop()

        asyncio.run(run())
    assert [d.rcpt_tos for d in sink.deliveries] == [("fine@council.invalid",)]
    engine.dispose()


def test_team_addresses_and_address_check() -> None:
    s = email.EmailSettings(_env_file=None, participation_to=" a@x.invalid, b@x.invalid ")  # type: ignore[call-arg]
    assert s.team("participation") == ["a@x.invalid", "b@x.invalid"]
    assert s.team("fostering") == []
    assert email.valid_address("iro.smith@kent.gov.uk")
    for bad in ("", "iro", "iro@kent", "Iro <iro@kent.gov.uk>", "a b@kent.gov.uk"):
        assert not email.valid_address(bad), bad
