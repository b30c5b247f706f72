"""One delivery policy for every channel that sends through the outbox sender (Telegram, Slack).

After the dispatcher has handled an inbound message, what happens to its replies depends only on the outcome,
never on the channel, so it lives here once:

- **Storage down** (`result.unavailable`): nothing was committed. A flagged message's safe reply goes out at
  once, and only once per message however many times the channel redelivers it. If the channel will not deliver
  the message again (a Slack button or slash command), every reply goes now: the person must hear that nothing
  was saved. The caller then refuses the message so the channel retries it.
- **A duplicate** (a redelivery of something already stored): its replies are already outbox rows; the sender
  is nudged in case a restart left them pending.
- **Not stored** (someone not let in yet): nothing was written, so the replies go directly.
- **Stored**: the replies are committed outbox rows; they are queued in order, and a safe reply that already went
  out during the outage is marked delivered instead of being sent twice.

Channels only translate and transport; web chat answers in its HTTP response and does not use this.
"""

from __future__ import annotations

from typing import Protocol

from bot.channels.base import Sender
from bot.messages import Inbound, Outbound

SAFE_REPLY = "safe_reply"


class Result(Protocol):
    """The parts of the dispatcher's DispatchResult this policy reads."""

    replies: list[Outbound]
    duplicate: bool
    stored: bool
    flagged: bool
    outbox_ids: list[int]
    unavailable: bool


def is_outage(result: Result) -> bool:
    """True when the dispatcher could not commit because storage was down, so the message must come again.

    A refusal from onboarding (someone not invited) is also unstored, but it is a final answer, not an outage;
    the dispatcher says which it is.
    """
    return bool(result.unavailable)


def _safe(replies: list[Outbound]) -> list[Outbound]:
    return [r for r in replies if r.meta.get("kind") == SAFE_REPLY]


class Delivery:
    """Hands a handled message's replies to the outbox sender by the rules above; remembers safe replies sent."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self._safe_sent: set[str] = set()  # message ids whose safe reply went out while storage was down

    async def deliver(self, msg: Inbound, result: Result, *, redelivered: bool = True) -> bool:
        """Send or queue the replies; False when storage was down and the channel must redeliver the message.

        `redelivered`: whether the channel will deliver this message again if it is refused (Telegram updates
        and Slack events: yes; Slack buttons and slash commands: no).
        """
        address = msg.address or msg.sender
        if is_outage(result):
            if not redelivered:
                self.sender.send_now(address, result.replies)
            elif result.flagged and msg.message_id not in self._safe_sent:
                safe = _safe(result.replies)
                if safe:
                    self.sender.send_now(address, safe)
                    self._safe_sent.add(msg.message_id)
            return False
        already_safe = msg.message_id in self._safe_sent
        self._safe_sent.discard(msg.message_id)
        if result.duplicate:
            self.sender.kick()  # its replies may still be pending from before a restart
        elif not result.stored:
            replies = [r for r in result.replies if not (already_safe and r.meta.get("kind") == SAFE_REPLY)]
            if replies:
                self.sender.send_now(address, replies)
        else:
            ids = list(result.outbox_ids)
            if len(ids) != len(result.replies):
                self.sender.kick()  # rows exist but we cannot pair them: the sender's scan finds them
            else:
                items = list(zip(ids, result.replies, strict=True))
                if already_safe:
                    sent = [i for i, r in items if r.meta.get("kind") == SAFE_REPLY]
                    await self.sender.mark_delivered(sent)
                    items = [(i, r) for i, r in items if i not in sent]
                self.sender.enqueue(address, items)
        return True
