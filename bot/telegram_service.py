"""Wires the Telegram channel to the Services: outbox sender, update runner, webhook route, start and stop
inside the ASGI app's lifespan, all in this one process. Composition only (mounted by bot.runtime.build_app):
the SDK stays in bot/channels/telegram.py, storage access in bot/outbox.py and the dispatcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from bot.channels.base import wait_until
from bot.channels.telegram import TelegramChannel, TelegramRunner, TelegramSettings
from bot.dispatcher import DispatchResult
from bot.messages import Inbound
from bot.outbox import OutboxSender
from bot.polling_lease import PollingLease
from bot.services import Services, SetupError
from content.schema import text_for

PRIVATE_ONLY_FALLBACK = "Hi! I only work in private chats, so I'm leaving this group."


class TelegramService:
    """The running Telegram channel: polling or webhook, plus its outbox sender."""

    def __init__(
        self, rt: Services, settings: TelegramSettings, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        problems = settings.problems()
        if problems:
            raise SetupError(problems[0])
        self.rt = rt
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.channel = TelegramChannel(settings)
        self.sender = OutboxSender(
            engine=rt.engine,
            keyring=rt.keyring,
            channel=self.channel,
            clock=self.clock,
            per_chat_interval=settings.per_chat_interval,
            global_per_second=settings.global_per_second,
            max_in_flight=settings.send_concurrency,
            claim_ttl=settings.claim_ttl,
            claim_renew=settings.claim_ttl / 3,
            budget_jitter=settings.rate_jitter,
        )
        library = rt.library
        private_only = (
            text_for(library.string("private_chat_only"), "default")
            if "private_chat_only" in library.strings.messages
            else PRIVATE_ONLY_FALLBACK
        )
        dispatcher = rt.dispatcher

        def handle(msg: Inbound, now: datetime) -> DispatchResult:
            return dispatcher.handle(msg, now=now)

        # The dispatcher is synchronous; SQLite takes one writer at a time, PostgreSQL several.
        workers = settings.dispatch_workers or (1 if rt.settings.database_url.startswith("sqlite") else 4)
        self.runner = TelegramRunner(
            self.channel,
            handle=handle,
            sender=self.sender,
            clock=self.clock,
            private_only_text=private_only,
            dispatch_workers=workers,
        )
        self.sender.executor = self.runner.executor  # one queue of database work (see OutboxSender)
        # Long polling: one process per bot token at a time, the others take over when it stops or dies.
        self.lease = PollingLease(
            rt.engine, "telegram", start=self.runner.start_polling, stop=self.runner.stop_polling,
            ttl=settings.claim_ttl, executor=self.runner.executor,
        )
        self._lease_task: asyncio.Task[None] | None = None
        self.started = False

    @property
    def webhook(self) -> bool:
        return bool(self.settings.webhook_url)

    async def start(self) -> None:
        """Connect to the Bot API, register commands, set or delete the webhook, start sending and polling."""
        await self.prepare()
        self.open()

    async def prepare(self) -> None:
        """Everything `start` does before taking updates: Bot API connected, sender running."""
        await self.channel.start(webhook=self.webhook)
        await self.sender.start()
        self.started = True

    def open(self) -> None:
        """Start taking updates: the webhook route answers (in every process), or the polling loop starts once
        this process holds the polling lease."""
        self.runner.ready = True
        if not self.webhook:
            self._lease_task = asyncio.get_running_loop().create_task(self.lease.begin())

    async def stop(self) -> None:
        """Stop taking updates, let queued replies go out (briefly), then disconnect."""
        self.runner.ready = False
        if self._lease_task is not None:
            with suppress(asyncio.CancelledError):
                await self._lease_task
            self._lease_task = None
            await self.lease.close()
        await self.runner.stop_polling()
        await self.runner.drain(10)  # webhook requests still being handled
        await self.sender.stop()
        await self.channel.stop()
        self.runner.close()
        self.started = False

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a plain bounded wait
        """Wait until no update is being handled and no reply is waiting to be sent (tests and the bench)."""
        await wait_until(lambda: not self.runner.in_flight and self.sender.idle, timeout, "telegram channel")


def mount(app: FastAPI, rt: Services) -> None:
    """Add the Telegram channel to the ASGI app when `ourvoice run --channel telegram` asked for it, with the
    settings its entry point read (rt.telegram_settings). The webhook route exists only in webhook mode;
    polling runs as a task in the app's event loop."""
    settings = rt.telegram_settings
    if rt.channel != "telegram" or settings is None or not settings.configured:
        return
    service = TelegramService(rt, settings, clock=rt.clock)
    rt.running["telegram"] = service
    if service.webhook:
        app.include_router(service.runner.webhook_router(settings.webhook_secret.get_secret_value()))
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
