"""One process per bot token long-polls (Telegram refuses a second getUpdates); the others wait and take over.

The poller holds a lease in the database (storage.leases, named `poll:<channel>`) and renews it every third of its
time; the others try to take it at the same pace. When the poller stops it gives the lease up; when it dies its
lease runs out, or, on the same host, a successor that can prove it is gone (bot.process_role.holder_gone) takes
it over at once. A poller that cannot renew in time stops polling before its lease could pass to another process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.process_role import ROLE, holder_gone, new_holder
from storage import leases
from storage.db import session

log = logging.getLogger("ourvoice.polling")


class PollingLease:
    """Runs `start` while this process holds the polling lease and awaits `stop` when it loses or gives it up."""

    def __init__(
        self, engine: Any, channel: str, *, start: Callable[[], None], stop: Callable[[], Awaitable[None]],
        ttl: float = 30.0, executor: Executor | None = None, clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.name = f"poll:{channel}"[:20]
        self.holder = new_holder()
        self.ttl = ttl
        self.renew = ttl / 3
        self.executor = executor
        self.clock = clock or (lambda: datetime.now(UTC))
        self._start, self._stop = start, stop
        self.polling = False
        self._until = 0.0  # monotonic: our last renewal is good until then (less one renewal interval)
        self._task: asyncio.Task[None] | None = None
        ROLE.polling[channel] = False

    async def begin(self) -> None:
        """Try once now (a restarted process takes a dead poller's lease at once), then keep trying."""
        await self._round()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"polling-lease-{self.channel}")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.renew)
            await self._round()

    async def _round(self) -> None:
        asked = time.monotonic()
        try:
            held = await asyncio.get_running_loop().run_in_executor(self.executor, self._acquire)
        except Exception as exc:
            log.warning("polling.lease_failed channel=%s error=%s", self.channel, type(exc).__name__)
            held = self.polling and time.monotonic() < self._until
        else:
            if held:
                self._until = asked + self.ttl - self.renew
        if held and not self.polling:
            self.polling = True
            ROLE.polling[self.channel] = True
            log.info("polling.lease_taken channel=%s holder=%s", self.channel, self.holder)
            self._start()
        elif not held and self.polling:
            self.polling = False
            ROLE.polling[self.channel] = False
            log.warning("polling.lease_lost channel=%s holder=%s", self.channel, self.holder)
            await self._stop()

    def _acquire(self) -> bool:
        now, ttl = self.clock(), timedelta(seconds=self.ttl)
        with session(self.engine) as s:
            if leases.acquire(s, self.name, self.holder, now=now, ttl=ttl):
                return True
            current = leases.holder(s, self.name, now=now)
            if current is None or not holder_gone(current):
                return False
            taken = leases.take_over(s, self.name, current, self.holder, now=now, ttl=ttl)
            if taken:
                log.info("polling.lease_taken_over channel=%s", self.channel)  # from a process that died polling
            return taken

    async def close(self) -> None:
        """Stop trying; stop polling if we were, and give the lease up so another process polls at once."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        if self.polling:
            self.polling = False
            ROLE.polling[self.channel] = False
            await self._stop()
        try:
            await asyncio.get_running_loop().run_in_executor(self.executor, self._release)
        except Exception as exc:
            log.warning("polling.release_failed channel=%s error=%s", self.channel, type(exc).__name__)

    def _release(self) -> None:
        with session(self.engine) as s:
            leases.release(s, self.name, self.holder)
