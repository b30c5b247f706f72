"""The outbox sender joins replies queued together for one chat into one message, when the channel allows.

Driven through the real OutboxSender and a real SQLite outbox; the channel is a recording stand-in
that implements the Channel protocol (name, merge_limit, send).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.channels.base import DeliveryError
from bot.crypto import Keyring
from bot.messages import Choice, Outbound
from bot.outbox import MAX_MERGED, OutboxSender, mergeable, merged
from storage import outbox
from storage.db import make_engine, session
from storage.migrate import create_missing_tables, upgrade
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
QUESTION = Outbound("How was school today?", (Choice("a.1", "Good"), Choice("a.2", "Not good")), "buttons")
SAFE = Outbound("You did the right thing telling us.", meta={"kind": "safe_reply"})


class RecordingChannel:
    """Records every send; `refuse` makes every send fail for good (as a blocked bot does)."""

    name = "telegram"

    def __init__(self, merge_limit: int | None = 4096, *, refuse: bool = False) -> None:
        if merge_limit is not None:
            self.merge_limit = merge_limit
        self.refuse = refuse
        self.sent: list[tuple[str, Outbound]] = []

    async def send(self, address: str, message: Outbound) -> None:
        if self.refuse:
            raise DeliveryError("Forbidden: bot was blocked by the user", permanent=True)
        self.sent.append((address, message))


@pytest.fixture
def engine(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    upgrade(url)
    create_missing_tables(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def add_rows(engine, messages: list[Outbound]) -> list[int]:
    with session(engine) as s:
        return [
            outbox.add(s, channel="telegram", payload_json=json.dumps(m.to_json()), now=NOW, kind=m.meta.get("kind", "reply"))
            for m in messages
        ]


def statuses(engine) -> list[str]:
    with session(engine) as s:
        return [r.status for r in s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()]  # type: ignore[arg-type]


async def deliver(engine, channel: RecordingChannel, messages: list[Outbound]) -> None:
    sender = OutboxSender(
        engine=engine, keyring=Keyring("k", [Keyring.new_fernet_key()]), channel=channel, clock=lambda: NOW,
        per_chat_interval=0.0, global_per_second=1000,
    )
    await sender.start()
    ids = add_rows(engine, messages)
    sender.enqueue("42", list(zip(ids, messages, strict=True)))
    await sender.wait_idle(5)
    await sender.stop()


def test_only_the_last_part_may_carry_buttons_and_a_safe_reply_stands_alone() -> None:
    thanks = Outbound("Thanks, that's saved.")
    assert mergeable(thanks, QUESTION, limit=4096)
    assert not mergeable(QUESTION, thanks, limit=4096)
    assert not mergeable(SAFE, thanks, limit=4096)
    assert not mergeable(thanks, SAFE, limit=4096)
    assert not mergeable(thanks, QUESTION, limit=len(thanks.text) + len(QUESTION.text) + 1)
    joined = merged(thanks, QUESTION)
    assert joined.text == "Thanks, that's saved.\n\nHow was school today?"
    assert joined.choices == QUESTION.choices
    assert joined.layout == "buttons"
    assert merged(Outbound(""), QUESTION).text == QUESTION.text


def test_a_joined_message_keeps_every_field_of_the_last_part() -> None:
    """Every field of the neutral message but its text comes from the part that asks (issue 23 item 4: the old
    merge rebuilt the message from four fields and dropped progress, free text and lasting). Each field is
    given a value other than its default, so a field added later that the merge drops fails here too."""
    asks = Outbound(
        "What should change?", (Choice("f.3.0", "Back", pressed=None), Choice("f.3.1", "Skip", pressed=False)),
        "multi", meta={"kind": "reply"}, progress=(3, 5), free_text=True, lasting=True,
    )
    defaults = Outbound("")
    for f in fields(Outbound):
        if f.name not in ("text", "update"):
            assert getattr(asks, f.name) != getattr(defaults, f.name), f"give {f.name} a non-default value here"
    joined = merged(Outbound("Thanks, that's saved."), asks)
    assert joined.text == "Thanks, that's saved.\n\nWhat should change?"
    for f in fields(Outbound):
        if f.name != "text":
            assert getattr(joined, f.name) == getattr(asks, f.name), f.name
    assert Outbound.from_json(joined.to_json()) == joined  # and it survives the outbox row


def test_an_update_is_never_joined_onto_other_text() -> None:
    """An update restates the message before it in place: joined onto other text it would overwrite that
    message with words it never had."""
    toggled = Outbound("Picked so far: They listen.", QUESTION.choices, "multi", update=True)
    assert not mergeable(Outbound("Thanks!"), toggled, limit=4096)


async def test_hints_reach_the_channel_when_queued_replies_are_joined(engine) -> None:
    channel = RecordingChannel()
    asks = Outbound("What should change?", (Choice("skip", "Skip"),), "buttons", progress=(4, 6), free_text=True)
    await deliver(engine, channel, [Outbound("Thanks!"), asks])
    ((_, sent),) = channel.sent
    assert (sent.progress, sent.free_text) == ((4, 6), True)


async def test_replies_queued_together_go_as_one_message_and_every_row_is_marked_sent(engine) -> None:
    channel = RecordingChannel()
    await deliver(engine, channel, [Outbound("Thanks!"), Outbound("Next one."), QUESTION])
    assert [m.text for _, m in channel.sent] == ["Thanks!\n\nNext one.\n\nHow was school today?"]
    assert channel.sent[0][1].choices == QUESTION.choices
    assert statuses(engine) == ["sent", "sent", "sent"]


async def test_a_safe_reply_is_sent_on_its_own_first(engine) -> None:
    channel = RecordingChannel()
    await deliver(engine, channel, [SAFE, Outbound("Thanks!"), QUESTION])
    assert [m.text for _, m in channel.sent] == [SAFE.text, "Thanks!\n\nHow was school today?"]
    assert statuses(engine) == ["sent", "sent", "sent"]


async def test_a_channel_without_a_merge_limit_gets_every_reply_separately(engine) -> None:
    channel = RecordingChannel(merge_limit=None)
    await deliver(engine, channel, [Outbound("Thanks!"), QUESTION])
    assert [m.text for _, m in channel.sent] == ["Thanks!", QUESTION.text]


async def test_at_most_a_few_replies_share_one_message(engine) -> None:
    channel = RecordingChannel()
    texts = [f"line {i}" for i in range(MAX_MERGED + 2)]
    await deliver(engine, channel, [Outbound(t) for t in texts])
    assert [m.text for _, m in channel.sent] == ["\n\n".join(texts[:MAX_MERGED]), "\n\n".join(texts[MAX_MERGED:])]
    assert statuses(engine) == ["sent"] * len(texts)


async def test_a_joined_message_that_can_never_be_delivered_marks_every_row_dead(engine) -> None:
    channel = RecordingChannel(refuse=True)
    await deliver(engine, channel, [Outbound("Thanks!"), QUESTION])
    assert channel.sent == []
    assert statuses(engine) == ["dead", "dead"]


async def test_a_direct_reply_waiter_learns_each_part_was_sent() -> None:
    channel = RecordingChannel()
    sender = OutboxSender(
        engine=None, keyring=Keyring("k", [Keyring.new_fernet_key()]), channel=channel, clock=lambda: NOW,
        per_chat_interval=0.0, global_per_second=1000,
    )
    done = sender.send_now("7", [Outbound("Hi!"), QUESTION])
    assert await asyncio.wait_for(done, 5) is True
    assert [m.text for _, m in channel.sent] == ["Hi!\n\nHow was school today?"]
