"""Wires the Slack channel to the Services: outbox sender, Bolt runner, /slack/events route or Socket Mode,
start and stop inside the ASGI app's lifespan, and the audited alert acknowledgement behind the staff
channel's Acknowledge button. Composition only (mounted by bot.runtime.build_app): the SDK stays in
bot/channels/slack.py, queries in storage modules.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from bot.channels.base import wait_until
from bot.channels.slack import DM_ONLY_FALLBACK, AckOutcome, SlackChannel, SlackRunner, SlackSettings
from bot.outbox import OutboxSender
from bot.services import Services, SetupError
from content.schema import text_for
from storage import admin_views, audit
from storage import alerts as alert_store
from storage import staff as staff_store
from storage.db import session

# Who may acknowledge an alert: the same roles as the admin's alerts queue (admin/web/routes/alerts.py).
ACK_ROLES = frozenset({"safeguarding_lead", "participation_manager"})


def acknowledger(rt: Services) -> Callable[[str, str, str, datetime], AckOutcome]:
    """The Acknowledge button's work: one transaction that checks the staff account's role and district,
    acknowledges the alert, writes the audit row (alert.ack, like the admin and the CLI) and queues the
    young person's follow-up."""

    def acknowledge(username: str, alert_ref: str, slack_user: str, now: datetime) -> AckOutcome:
        from admin.jobs.alerts import queue_followups  # local: admin builds on bot, not the other way round

        local = now.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%H:%M on %d %b")
        ref = alert_ref.strip().upper()
        with session(rt.engine) as s:
            staff = staff_store.by_username(s, username)
            if staff is None or not staff.active:
                return AckOutcome("not_staff")
            if staff.role not in ACK_ROLES:
                return AckOutcome("not_allowed")
            district = admin_views.alert_district(s, ref)
            if district is admin_views.MISSING:
                return AckOutcome("unknown_alert")
            if staff.districts and not (isinstance(district, str) and district in staff.districts):
                return AckOutcome("not_allowed")
            alert = alert_store.get(s, ref)
            assert alert is not None  # alert_district found it in this transaction
            if not alert_store.acknowledge(s, alert, staff=staff.username, now=now):
                return AckOutcome("already", by=alert.acknowledged_by or alert.closed_by or "")
            audit.record(
                s,
                actor=staff.username,
                action="alert.ack",
                target=alert.alert_ref,
                detail=f"via=slack slack_user={slack_user}",
                now=now,
            )
            queue_followups(rt, s, now=now)
        return AckOutcome("acknowledged", by=staff.username, at=local)

    return acknowledge


class SlackService:
    """The running Slack channel for one Runtime: HTTP or Socket Mode, plus its outbox sender."""

    def __init__(
        self,
        rt: Services,
        settings: SlackSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        socket_mode: bool = False,
        wall: Callable[[], float] = time.time,
    ) -> None:
        problems = settings.problems(socket_mode=socket_mode)
        if problems:
            raise SetupError(problems[0])
        self.rt = rt
        self.settings = settings
        self.socket_mode = socket_mode
        self.clock = clock or (lambda: datetime.now(UTC))
        self.channel = SlackChannel(settings)
        self.sender = OutboxSender(
            engine=rt.engine,
            keyring=rt.keyring,
            channel=self.channel,
            clock=self.clock,
            per_chat_interval=settings.per_channel_interval,
            global_per_second=settings.global_per_second,
        )
        library = rt.library
        dm_only = (
            text_for(library.string("slack_dm_only"), "default")
            if "slack_dm_only" in library.strings.messages
            else DM_ONLY_FALLBACK
        )
        dispatcher = rt.dispatcher

        def handle(msg: Any, now: datetime) -> Any:
            return dispatcher.handle(msg, now=now)

        self.runner = SlackRunner(
            self.channel,
            handle=handle,
            acknowledge=acknowledger(rt),
            sender=self.sender,
            clock=self.clock,
            dm_only_text=dm_only,
            dispatch_workers=1 if rt.settings.database_url.startswith("sqlite") else 4,
            wall=wall,
            socket_mode=socket_mode,
        )
        self.started = False

    async def start(self) -> None:
        """Start sending; then take requests (HTTP) or open the Socket Mode connection."""
        await self.channel.open()
        await self.sender.start()
        self.runner.ready = True
        if self.socket_mode:
            await self.runner.start_socket_mode()
        self.started = True

    async def stop(self) -> None:
        """Stop taking events, let queued replies go out (briefly), then disconnect."""
        self.runner.ready = False
        await self.runner.stop_socket_mode()
        await self.runner.drain()
        await self.sender.stop()
        await self.channel.close()
        self.started = False

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a plain bounded wait
        """Wait until no event is being handled and nothing is waiting to be sent (tests and the bench)."""
        await wait_until(lambda: not self.runner.busy and self.sender.idle, timeout, "slack channel")


def mount(app: FastAPI, rt: Services) -> None:
    """Add Slack to the ASGI app for `ourvoice run --channel slack [--socket-mode]`.

    Settings are the ones the entry point read (rt.slack_settings). With another channel, Slack is still
    mounted when a staff channel is configured, so Acknowledge buttons work.
    HTTP mode adds POST /slack/events; Socket Mode connects in the app's lifespan instead.
    """
    settings = rt.slack_settings
    if settings is None:
        return
    socket_mode = rt.socket_mode
    staff_only = bool(settings.staff_channel and settings.configured) and not settings.problems(
        socket_mode=socket_mode
    )
    if rt.channel != "slack" and not staff_only:
        return
    service = SlackService(
        rt,
        settings,
        clock=rt.clock,
        socket_mode=socket_mode,
        wall=rt.wall_clock or time.time,
    )
    rt.running["slack"] = service
    if not socket_mode:
        app.include_router(service.runner.router())
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
