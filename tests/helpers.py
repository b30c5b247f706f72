"""Small helpers for driving the dispatcher like a channel would."""

from __future__ import annotations

import itertools
from datetime import datetime

from bot.dispatcher import Dispatcher, DispatchResult
from bot.messages import Inbound, Outbound

_ids = itertools.count(1)
MOOD_FACES = ("😢", "🙁", "😐", "🙂", "😀")


class Person:
    """A participant on one channel, sending events through a dispatcher and keeping the last reply."""

    def __init__(self, dispatcher: Dispatcher, sender: str, *, channel: str = "web", now: datetime) -> None:
        self.d = dispatcher
        self.sender = sender
        self.channel = channel
        self.now = now
        self.last: list[Outbound] = []

    def _send(self, msg: Inbound) -> DispatchResult:
        result = self.d.handle(msg, now=self.now)
        self.last = result.replies
        return result

    def text(self, text: str, message_id: str | None = None) -> DispatchResult:
        mid = message_id or f"m{next(_ids)}"
        return self._send(Inbound(self.channel, self.sender, mid, "text", text=text, address=self.sender))

    def command(self, name: str, args: str = "") -> DispatchResult:
        return self._send(
            Inbound(self.channel, self.sender, f"m{next(_ids)}", "command", command=name, args=args, address=self.sender)
        )

    def press(self, label_start: str) -> DispatchResult:
        """Press the button whose label starts with `label_start` in the last reply that has buttons."""
        for reply in reversed(self.last):
            for c in reply.choices:
                if c.label.lstrip("✅ ").startswith(label_start) or c.label.startswith(label_start):
                    return self.token(c.token)
        labels = [c.label for r in self.last for c in r.choices]
        raise AssertionError(f"no button starting {label_start!r}; have {labels}")

    def feel(self, face: str) -> DispatchResult | None:
        """Answer the mood check-in with the point this face stands for (😢 1 ... 😀 5), if it is being asked:
        it is asked at most once a session, and 16-25s and carers see words, not faces."""
        for reply in reversed(self.last):
            if reply.layout == "scale" and reply.text.startswith("How are you feeling today?"):
                return self.token(reply.choices[MOOD_FACES.index(face)].token)
        return None

    def token(self, token: str) -> DispatchResult:
        return self._send(
            Inbound(self.channel, self.sender, f"m{next(_ids)}", "button", payload=token, address=self.sender)
        )

    def unsupported(self, kind: str) -> DispatchResult:
        return self._send(
            Inbound(self.channel, self.sender, f"m{next(_ids)}", "unsupported", unsupported=kind, address=self.sender)
        )

    @property
    def said(self) -> str:
        return "\n".join(r.text for r in self.last)

    @property
    def buttons(self) -> list[str]:
        return [c.label for r in self.last for c in r.choices]
