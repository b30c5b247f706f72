"""What every channel provides: pure translators plus a small async shell."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from bot.messages import Inbound, Outbound


async def wait_until(done: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Check `done()` every 10 ms until it holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} still busy")
        await asyncio.sleep(0.01)


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


class Sender(Protocol):
    """What a channel shell needs from the outbox sender (bot/outbox.py)."""

    def enqueue(self, address: str, items: Sequence[tuple[int, Outbound]]) -> None: ...

    def send_now(self, address: str, messages: Sequence[Outbound]) -> asyncio.Future[bool]: ...

    async def mark_delivered(self, ids: Sequence[int]) -> None: ...

    async def pace(self) -> None: ...

    def call(self, method: str, *args: Any) -> None: ...

    def kick(self) -> None: ...


class KeyedLocks:
    """One FIFO asyncio.Lock per key (a chat, a person), dropped when nobody holds or waits for it.

    Keeps each conversation strictly in order while different conversations run in parallel.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
