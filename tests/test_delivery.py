"""One delivery policy for every outbox channel (bot/delivery.py), checked on its own with a recording sender:
a safe reply goes once however often an outage makes the channel redeliver, a message the channel will not
redeliver gets every reply at once, and the stored step's copy of an already-sent safe reply is not sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.delivery import Delivery
from bot.dispatcher import DispatchResult
from bot.messages import Inbound, Outbound

SAFE = Outbound("Thank you for telling me.", meta={"kind": "safe_reply"})
NEXT = Outbound("Next question")
MSG = Inbound("telegram", "u1", "m1", "text", text="...", address="c1")


class Recording:
    """The Sender interface (bot/channels/base.py), writing down what it was asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def enqueue(self, address: str, items: Sequence[tuple[int, Outbound]]) -> None:
        self.calls.append(("enqueue", [(i, m.text) for i, m in items]))

    def send_now(self, address: str, messages: Sequence[Outbound]) -> asyncio.Future[bool]:
        self.calls.append(("send_now", [m.text for m in messages]))
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        done.set_result(True)
        return done

    async def mark_delivered(self, ids: Sequence[int]) -> None:
        self.calls.append(("mark_delivered", list(ids)))

    async def pace(self) -> None:
        return None

    def call(self, method: str, *args: Any) -> None:
        self.calls.append(("call", method))

    def kick(self) -> None:
        self.calls.append(("kick", None))


def down(*replies: Outbound, flagged: bool = True) -> DispatchResult:
    return DispatchResult(replies=list(replies), stored=False, flagged=flagged, unavailable=True)


async def test_an_outage_sends_the_safe_reply_once_then_the_stored_copy_is_marked_not_resent() -> None:
    sender = Recording()
    d = Delivery(sender)
    assert await d.deliver(MSG, down(SAFE, Outbound("Couldn't save"))) is False
    assert await d.deliver(MSG, down(SAFE, Outbound("Couldn't save"))) is False  # redelivered, still down
    stored = DispatchResult(replies=[SAFE, NEXT], stored=True, flagged=True, outbox_ids=[7, 8])
    assert await d.deliver(MSG, stored) is True
    assert sender.calls == [
        ("send_now", [SAFE.text]),
        ("mark_delivered", [7]),
        ("enqueue", [(8, NEXT.text)]),
    ]


async def test_a_message_the_channel_will_not_redeliver_gets_every_reply_now() -> None:
    sender = Recording()
    assert await Delivery(sender).deliver(MSG, down(Outbound("Couldn't save"), flagged=False), redelivered=False) is False
    assert sender.calls == [("send_now", ["Couldn't save"])]


async def test_duplicates_nudge_the_sender_and_unstored_refusals_go_directly() -> None:
    sender = Recording()
    d = Delivery(sender)
    assert await d.deliver(MSG, DispatchResult(replies=[NEXT], duplicate=True)) is True
    assert await d.deliver(MSG, DispatchResult(replies=[Outbound("Send your code")], stored=False)) is True
    assert await d.deliver(MSG, DispatchResult(replies=[NEXT], outbox_ids=[])) is True  # rows it cannot pair
    assert sender.calls == [("kick", None), ("send_now", ["Send your code"]), ("kick", None)]
