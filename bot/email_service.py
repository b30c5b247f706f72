"""Runs the email channel's outbox sender inside the ASGI app's lifespan (`ourvoice run`, any channel).

Composition only: the transport and row format are in bot/channels/email.py, sending, claims and retries in
bot/outbox.py. Every process that runs the app runs one; the outbox lease lets one at a time send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from bot.channels.email import EmailChannel
from bot.outbox import OutboxSender
from bot.services import Services


class EmailService:
    """The email sender for one Services: no inbound side, so start and stop are all there is."""

    def __init__(self, rt: Services, *, clock: Callable[[], datetime] | None = None, **sender: Any) -> None:
        settings = rt.email_settings
        self.channel = EmailChannel(
            rt.keyring, settings, host=rt.settings.smtp_host, port=rt.settings.smtp_port,
            mail_from=rt.settings.alert_email_from,
        )
        options: dict[str, Any] = {
            "per_chat_interval": 0.0,  # an address is not a chat: no per-address pacing
            "global_per_second": settings.per_second,
            "transient_tries": 3,  # 1 s, 2 s in process; then back in the database, tried again later
            "retry_pause": 0.5,
            **sender,
        }
        self.sender = OutboxSender(
            engine=rt.engine, keyring=rt.keyring, channel=self.channel,
            clock=clock or rt.clock or (lambda: datetime.now(UTC)), **options,
        )
        self.started = False

    async def start(self) -> None:
        await self.sender.start()
        self.started = True

    async def stop(self) -> None:
        await self.sender.stop()
        self.started = False

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a plain bounded wait
        await self.sender.wait_idle(timeout)


def mount(app: FastAPI, rt: Services) -> None:
    """Start the email sender with the app and stop it after (whatever channel `ourvoice run` serves)."""
    service = EmailService(rt)
    rt.running["email"] = service
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            await service.start()
            try:
                yield state
            finally:
                await service.stop()

    app.router.lifespan_context = lifespan
