"""Run the real email sender (bot/email_service.py) over a runtime's outbox until nothing due is left, as
`ourvoice run` does in the background; `now` is the time the sender sees (for back-off)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from bot.channels.email import CHANNEL
from bot.email_service import EmailService
from bot.services import Services
from storage import outbox
from storage.db import session


def send_queued_email(rt: Services, *, now: datetime | None = None, timeout: float = 5.0) -> None:
    """Deliver every due email row once (a failed one is put back with a later time, as in production)."""
    at = now or datetime.now(UTC)

    def due() -> bool:
        with session(rt.engine) as s:
            return bool(outbox.due_ids(s, CHANNEL, now=at, limit=1))

    async def run() -> None:
        service = EmailService(rt, clock=lambda: at, scan_interval=0.02, transient_tries=1, hold_seconds=0.02)
        await service.start()
        try:
            deadline = time.monotonic() + timeout
            while due():
                assert time.monotonic() < deadline, "email rows still due"
                await asyncio.sleep(0.02)
            await service.wait_idle(timeout)
        finally:
            await service.stop()

    asyncio.run(run())
