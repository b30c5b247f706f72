"""Feeds Slack requests through the real Bolt AsyncApp to the dispatcher: store, then acknowledge."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from bot.channels.base import KeyedLocks, Sender
from bot.channels.slack.channel import SlackChannel
from bot.channels.slack.notices import ACK_EXPLAINED, AckOutcome, acknowledged_blocks
from bot.channels.slack.render import answered_blocks
from bot.channels.slack.translate import AlertAck, DmOnly, to_inbound
from bot.channels.slack.verify import MAX_BODY, verify_signature, well_formed
from bot.delivery import Delivery
from bot.messages import Inbound

# The SDK is imported where it is used: its package import alone (slack_sdk.errors pulls in the whole WebClient
# and Block Kit models) is about 0.2 s of every start, Telegram and web-only included (issue 27).
if TYPE_CHECKING:  # the async half of the SDK pulls in aiohttp (~0.7 s): imported only when a shell is built
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp


log = logging.getLogger("ourvoice.slack")

EVENTS_PATH = "/slack/events"


class NotCommitted(Exception):
    """The event could not be stored (storage down): Bolt answers 500, so Slack delivers it again."""


Acknowledge = Callable[[str, str, str, datetime], AckOutcome]  # (username, alert_ref, slack_user, now)


class SlackRunner:
    """Feeds Slack requests through the real Bolt AsyncApp to the dispatcher: store, then acknowledge.

    Bolt runs with process_before_response=True, so its listeners finish (the event is committed) before
    the HTTP 200 / Socket Mode ack goes back; sending replies, removing answered buttons and ephemeral
    notes run afterwards as tasks. `handle(inbound, now)` is the synchronous dispatcher (run in a thread);
    When storage was down (bot/delivery.py) an event must be redelivered (500, no ack).
    """

    def __init__(
        self,
        channel: SlackChannel,
        *,
        handle: Callable[[Inbound, datetime], Any],
        acknowledge: Acknowledge,
        sender: Sender,
        clock: Callable[[], datetime],
        dm_only_text: str,
        dispatch_workers: int = 1,
        wall: Callable[[], float] = time.time,
        socket_mode: bool = False,
    ) -> None:
        from slack_bolt.async_app import AsyncApp

        self.channel = channel
        self.settings = channel.settings
        self.handle = handle
        self.acknowledge = acknowledge
        self.sender = sender
        self.clock = clock
        self.dm_only_text = dm_only_text
        self.delivery = Delivery(sender)
        self.wall = wall
        self.socket_mode = socket_mode
        self.locks = KeyedLocks()
        # The dispatcher is synchronous; SQLite takes one writer at a time, so one thread there.
        self._executor = ThreadPoolExecutor(max_workers=dispatch_workers, thread_name_prefix="slack-dispatch")
        self._tasks: set[asyncio.Task[Any]] = set()
        self.in_flight = 0
        self.ready = False
        self.handled = 0
        self.socket_handler: AsyncSocketModeHandler | None = None
        self.app: AsyncApp = AsyncApp(
            client=channel.client,
            signing_secret=self.settings.signing_secret.get_secret_value(),
            # Socket Mode requests are not signed; Bolt skips the check for them anyway.
            request_verification_enabled=not socket_mode,
            process_before_response=True,
            logger=logging.getLogger("ourvoice.slack.bolt"),
            name="ourvoice",
        )
        self.app.event(re.compile(r".+"))(self._on_event)
        self.app.action(re.compile(r".+"))(self._on_action)
        self.app.command(re.compile(r"^/.+"))(self._on_command)
        self.app.error(self._on_error)

    # -- listeners (Bolt injects arguments by name) ---------------------------------------------------
    async def _on_event(self, body: dict[str, Any]) -> None:
        res = self._translate(body)
        if res is None or isinstance(res, AlertAck):
            return
        if isinstance(res, DmOnly):
            if res.channel != self.settings.staff_channel:
                self._later(self._dm_only(res))
            return
        if not await self.process(res, retried_by_slack=True):
            raise NotCommitted(res.message_id)

    async def _dm_only(self, res: DmOnly) -> None:
        """Tell the person (only they see it) that the bot works in direct messages; if what they wrote
        worried the risk check, they get the safe reply there instead, and the alert is raised."""
        text = self.dm_only_text
        if res.check is not None:
            loop = asyncio.get_running_loop()
            try:
                result = await loop.run_in_executor(self._executor, self.handle, res.check, self.clock())
            except Exception as exc:
                log.error("slack.check_failed event=%s error=%s", res.check.message_id, type(exc).__name__)
            else:
                if result.flagged and result.replies:
                    text = "\n\n".join(r.text for r in result.replies)
        await self.channel.ephemeral(res.channel, res.user, text)

    async def _on_action(self, body: dict[str, Any], ack: Callable[..., Awaitable[Any]]) -> None:
        res = self._translate(body)
        if isinstance(res, AlertAck):
            outcome = await self._acknowledge(res)
            await ack()
            self._later(self._after_ack(res, outcome, body))
            return
        if not isinstance(res, Inbound):
            await ack()
            return
        committed = await self.process(res, retried_by_slack=False)
        await ack()
        if committed:
            self._later(self._close_buttons(body))

    async def _on_command(self, body: dict[str, Any], ack: Callable[..., Awaitable[Any]]) -> None:
        res = self._translate(body)
        if not isinstance(res, Inbound):
            await ack()
            return
        await self.process(res, retried_by_slack=False)
        channel = str(body.get("channel_id") or "")
        if channel.startswith("D"):
            await ack()
        else:  # typed somewhere other than a DM: say where the answer went (only they see this)
            await ack(text="I've replied in our direct messages 💬")

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        # Exception text can quote input: log the type and ids only. Bolt answers 500.
        event_id = body.get("event_id", "") if isinstance(body, dict) else ""
        log.warning("slack.listener_error error=%s event=%s", type(error).__name__, event_id)

    def _translate(self, body: dict[str, Any]) -> Inbound | DmOnly | AlertAck | None:
        try:
            return to_inbound(body)
        except Exception as exc:
            log.error("slack.bad_payload error=%s", type(exc).__name__)
            return None

    # -- one inbound ---------------------------------------------------------------------------------
    async def process(self, msg: Inbound, *, retried_by_slack: bool) -> bool:
        """Dispatch one inbound in its person's turn; True once committed (or nothing needs committing).

        Replies are handed to the outbox sender (their rows are already committed), so they go out after
        Slack has its acknowledgement. When storage is down: a flagged message still gets its safe reply at
        once; events return False (Slack redelivers them); buttons and commands, which Slack never
        redelivers, get the "couldn't save" reply instead.
        """
        self.in_flight += 1
        try:
            async with self.locks.hold(msg.sender):
                return await self._process(msg, retried_by_slack)
        finally:
            self.in_flight -= 1

    async def _process(self, msg: Inbound, retried_by_slack: bool) -> bool:
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, self.handle, msg, self.clock())
        except Exception as exc:
            log.error("slack.dispatch_error message=%s error=%s", msg.message_id, type(exc).__name__)
            return False
        # bot/delivery.py: the same rules as every channel (safe reply once during an outage, and so on).
        if not await self.delivery.deliver(msg, result, redelivered=retried_by_slack):
            log.warning("slack.not_committed message=%s", msg.message_id)
            return False
        if result.duplicate:
            log.info("slack.duplicate message=%s", msg.message_id)
        self.handled += 1
        log.info("slack.handled message=%s kind=%s", msg.message_id, msg.kind)
        return True

    async def _close_buttons(self, body: dict[str, Any]) -> None:
        """Take the buttons off the message that was answered, so they cannot be pressed twice."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel, ts = str(container.get("channel_id") or ""), str(container.get("message_ts") or "")
        act = (body.get("actions") or [{}])[0]
        label = str((act.get("text") or {}).get("text") or "")
        if not channel or not ts:
            return
        blocks = answered_blocks(message.get("blocks") or [], label, text=str(message.get("text") or ""))
        await self.sender.pace()
        await self.channel.update(channel, ts, text=str(message.get("text") or label), blocks=blocks)

    # -- staff acknowledgements ------------------------------------------------------------------------
    async def _acknowledge(self, req: AlertAck) -> AckOutcome:
        if self.settings.staff_channel and req.channel != self.settings.staff_channel:
            return AckOutcome("wrong_channel")
        username = self.settings.staff_users().get(req.user)
        if not username:
            log.warning("slack.ack_unmapped_user ref=%s", req.alert_ref)
            return AckOutcome("unmapped")
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, self.acknowledge, username, req.alert_ref, req.user, self.clock()
            )
        except Exception as exc:
            log.error("slack.ack_failed ref=%s error=%s", req.alert_ref, type(exc).__name__)
            return AckOutcome("unavailable")

    async def _after_ack(self, req: AlertAck, outcome: AckOutcome, body: dict[str, Any]) -> None:
        if outcome.status in ("acknowledged", "already"):
            line = (
                f"✅ Acknowledged by {outcome.by} at {outcome.at} (from Slack)"
                if outcome.status == "acknowledged"
                else f"✅ Already picked up by {outcome.by or 'a colleague'}"
            )
            message = body.get("message") or {}
            if req.message_ts:
                await self.sender.pace()
                await self.channel.update(
                    req.channel,
                    req.message_ts,
                    text=str(message.get("text") or req.alert_ref),
                    blocks=acknowledged_blocks(message.get("blocks") or [], line),
                )
            return
        await self.channel.ephemeral(
            req.channel, req.user, ACK_EXPLAINED.get(outcome.status, ACK_EXPLAINED["unavailable"])
        )

    # -- after the acknowledgement -------------------------------------------------------------------
    def _later(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> bool:
        return bool(self.in_flight or self._tasks)

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a plain bounded wait
        """Let events in hand and follow-up tasks (button removal, notes) finish, then cancel what is left."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:  # noqa: ASYNC110 - a counter, polled briefly at stop
            await asyncio.sleep(0.01)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- HTTP mode -------------------------------------------------------------------------------------
    def router(self) -> APIRouter:
        """POST /slack/events: the signature is checked over the raw body before anything is parsed."""
        from slack_bolt.request.async_request import AsyncBoltRequest

        router = APIRouter()
        secret = self.settings.signing_secret.get_secret_value()

        @router.post(EVENTS_PATH, include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            if int(request.headers.get("content-length") or 0) > MAX_BODY:
                return Response(status_code=413)
            # Content-Length does not bound a chunked body: read it in pieces and stop at the cap.
            buf = bytearray()
            async for chunk in request.stream():
                buf += chunk
                if len(buf) > MAX_BODY:
                    log.warning("slack.too_large")
                    return Response(status_code=413)
            raw = bytes(buf)
            if not verify_signature(
                secret,
                raw,
                request.headers.get("x-slack-request-timestamp"),
                request.headers.get("x-slack-signature"),
                now=self.wall(),
            ):
                log.warning("slack.bad_signature")
                return Response(status_code=401)
            if not self.ready:
                return Response(status_code=503)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                log.warning("slack.bad_body reason=encoding")
                return Response(status_code=400)
            if not well_formed(text, request.headers.get("content-type", "")):
                log.warning("slack.bad_body reason=parse")
                return Response(status_code=400)
            retry = request.headers.get("x-slack-retry-num")
            if retry:
                log.info(
                    "slack.retry num=%s reason=%s",
                    retry[:4],
                    request.headers.get("x-slack-retry-reason", "")[:40],
                )
            bolt_req = AsyncBoltRequest(body=text, query=request.url.query, headers=dict(request.headers))
            resp = await self.app.async_dispatch(bolt_req)
            headers = {k: v[0] for k, v in resp.headers.items() if k.lower() != "content-length" and v}
            return Response(status_code=resp.status, content=resp.body or b"", headers=headers)

        return router

    # -- Socket Mode -----------------------------------------------------------------------------------
    def socket_mode_handler(self) -> AsyncSocketModeHandler:
        """Bolt's aiohttp Socket Mode handler on this app (connects with the xapp- app token)."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        if self.socket_handler is None:
            self.socket_handler = AsyncSocketModeHandler(
                self.app, app_token=self.settings.app_token.get_secret_value(), web_client=self.channel.client
            )
        return self.socket_handler

    async def start_socket_mode(self) -> None:
        """Open the Socket Mode connection (returns once connected; events then arrive on it)."""
        await self.socket_mode_handler().connect_async()
        log.info("slack.started mode=socket")

    async def stop_socket_mode(self) -> None:
        if self.socket_handler is not None:
            with suppress(Exception):
                await self.socket_handler.close_async()
            self.socket_handler = None
