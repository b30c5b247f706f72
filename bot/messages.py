"""Channel-neutral message values shared by the engine, the dispatcher and every channel.

Nothing here knows about any SDK; channels translate to and from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    `origin` is the network address a web request came from: used only to limit code guessing per address
    (as a keyed hash), never stored as it is.
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
    origin: str = ""

    @property
    def ref(self) -> ChannelRef:
        return ChannelRef(self.channel, self.address or self.sender)


@dataclass(frozen=True)
class Choice:
    """A button: a short opaque token the engine understands and a label people read.

    `pressed` is None for an ordinary button; True/False makes it a toggle (a multi-select choice) that
    channels show as selected or not (the web chat as `aria-pressed`), so the label needs no tick.
    """

    token: str
    label: str
    pressed: bool | None = None


@dataclass(frozen=True)
class Outbound:
    """A reply in neutral form; channels render it as text plus buttons.

    Optional hints (defaults change nothing): `progress` is (question number, questions in the flow);
    `free_text` says the message asks for typed words (the web chat then focuses its text box); `lasting`
    says its buttons stay valid after later messages (a survey invitation's Start), whereas by default a
    message's buttons are spent once a later reply brings buttons of its own; `update` says it restates the
    message just before it (a multi-select toggle), so a channel that can edit replaces that one in place.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    layout: Layout = "none"
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    progress: tuple[int, int] | None = None
    free_text: bool = False
    lasting: bool = False
    update: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "layout": self.layout,
            "choices": [_choice_json(c) for c in self.choices],
        }
        # Hints only when set, so stored payloads of plain messages stay as they were.
        if self.progress is not None:
            data["progress"] = list(self.progress)
        for key in ("free_text", "lasting", "update"):
            if getattr(self, key):
                data[key] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outbound:
        progress = data.get("progress")
        return cls(
            text=data["text"],
            layout=data.get("layout", "none"),
            choices=tuple(Choice(c["token"], c["label"], c.get("pressed")) for c in data.get("choices", [])),
            progress=(int(progress[0]), int(progress[1])) if progress else None,
            free_text=bool(data.get("free_text", False)),
            lasting=bool(data.get("lasting", False)),
            update=bool(data.get("update", False)),
        )


def _choice_json(c: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"token": c.token, "label": c.label}
    if c.pressed is not None:
        out["pressed"] = c.pressed
    return out
