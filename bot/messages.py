"""Channel-neutral message values shared by the engine, the dispatcher and every channel.

Nothing here knows about any SDK; channels translate to and from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InboundKind = Literal["text", "button", "command", "unsupported"]
Layout = Literal["buttons", "scale", "multi", "menu", "none"]


@dataclass(frozen=True)
class ChannelRef:
    """Where a participant can be reached: a channel name and its own address for them."""

    channel: str
    address: str


@dataclass(frozen=True)
class Inbound:
    """One event from a participant, already translated by a channel.

    `sender` is the channel's stable user id (hashed before storage); `address` is where a
    reply goes (a chat id), needed only to message the person later and stored encrypted.
    `said` holds words the bot will not store or act on (a photo's caption, an edited message, a group
    message): only the risk check reads them. `check_only` events (from a group chat) do nothing
    unless that check flags them; then they raise an alert and get the safe reply, nothing else.
    """

    channel: str
    sender: str
    message_id: str
    kind: InboundKind
    text: str = ""
    payload: str = ""
    command: str = ""
    args: str = ""
    unsupported: str = ""
    address: str = ""
    said: str = ""
    check_only: bool = False

    @property
    def ref(self) -> ChannelRef:
        return ChannelRef(self.channel, self.address or self.sender)


@dataclass(frozen=True)
class Choice:
    """A button: a short opaque token the engine understands and a label people read."""

    token: str
    label: str


@dataclass(frozen=True)
class Outbound:
    """A reply in neutral form; channels render it as text plus buttons."""

    text: str
    choices: tuple[Choice, ...] = ()
    layout: Layout = "none"
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "layout": self.layout,
            "choices": [{"token": c.token, "label": c.label} for c in self.choices],
        }

    @classmethod
    def from_json(cls, data: dict) -> Outbound:
        return cls(
            text=data["text"],
            layout=data.get("layout", "none"),
            choices=tuple(Choice(c["token"], c["label"]) for c in data.get("choices", [])),
        )
