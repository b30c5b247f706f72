"""What every channel provides: pure translators plus a small async shell."""

from __future__ import annotations

from typing import Any, Protocol

from bot.messages import Inbound, Outbound


class DeliveryError(Exception):
    """Sending failed; `retry_after` says when to try again, `permanent` says never to."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Channel(Protocol):
    """A channel turns its own payloads into `Inbound` values and `Outbound` values into its own.

    `to_inbound` and `render` are pure, so they are tested with recorded payloads. `send` delivers
    one rendered message to an address and raises DeliveryError on failure (with `retry_after` on
    a rate limit, `permanent=True` when the person can never be reached, e.g. they blocked the bot).
    """

    name: str

    def to_inbound(self, payload: Any) -> Inbound | None: ...

    def render(self, message: Outbound) -> Any: ...

    async def send(self, address: str, message: Outbound) -> None: ...


def split_command(text: str) -> tuple[str, str] | None:
    """'/start ABC' -> ('start', 'ABC'); also accepts '/start@botname'. None for non-commands."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name.isascii() or not name.replace("_", "").isalnum():
        return None
    return name, args.strip()
