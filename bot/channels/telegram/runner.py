"""Feeds updates to the dispatcher: polling loop and webhook route, chats in parallel, each in order."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Request, Response
from telegram import Update
from telegram import error as tg_error

from bot.channels.base import KeyedLocks, Sender
from bot.channels.telegram.channel import TelegramChannel, retry_after_seconds
from bot.channels.telegram.translate import PrivateOnly, chat_key, to_inbound
from bot.delivery import Delivery
from bot.messages import Inbound, Outbound

log = logging.getLogger("ourvoice.telegram")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 1_000_000


class TelegramRunner:
    """Feeds updates to the dispatcher: chats in parallel, each chat in order, commit before acknowledge.

    `handle(inbound, now)` is the synchronous dispatcher (one transaction per event), run on a small
    thread pool so the event loop keeps polling and sending meanwhile.
    When the step was not committed because storage is down (bot/delivery.py), the update is tried again
    (polling: the offset stays; webhook: 503 so Telegram redelivers).
    """

    MAX_FAILURES = 5  # an update that keeps raising (a bug, not an outage) is given up after this many tries
    MAX_BACKOFF = 30.0

    def __init__(
        self,
        channel: TelegramChannel,
        *,
        handle: Callable[[Inbound, dt.datetime], Any],
        sender: Sender,
        clock: Callable[[], dt.datetime],
        private_only_text: str,
        dispatch_workers: int = 1,
    ) -> None:
        self.channel = channel
        self.handle = handle
        self.sender = sender
        self.clock = clock
        self.private_only_text = private_only_text
        self.delivery = Delivery(sender)
        self.locks = KeyedLocks()
        # SQLite takes one writer at a time, so one thread there; more threads only pay off on PostgreSQL.
        self.executor = ThreadPoolExecutor(max_workers=dispatch_workers, thread_name_prefix="tg-dispatch")
        self.ready = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._failures: dict[int, int] = {}
        self._done: OrderedDict[int, None] = OrderedDict()  # update ids finished in this process
        self._stopping = False
        self._poll_task: asyncio.Task[None] | None = None
        self._in_long_poll = False
        self.offset: int | None = None

    # -- one update --------------------------------------------------------------------------------
    async def process_update(self, update: Update) -> bool:
        """Handle one update in its chat's turn; True once it is committed (or needs no commit)."""
        if update.update_id in self._done:
            return True
        self.in_flight += 1
        self._idle.clear()
        try:
            async with self.locks.hold(chat_key(update)):
                try:
                    ok = await self._process(update)
                except Exception as exc:
                    ok = self._failed(update.update_id, exc)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()
        if ok:
            self._failures.pop(update.update_id, None)
            self._done[update.update_id] = None
            while len(self._done) > 20_000:
                self._done.popitem(last=False)
        return ok

    def _failed(self, uid: int, exc: Exception) -> bool:
        """Count a failure that is not an outage (a bug): retried, then given up so the chat can move on."""
        tries = self._failures.get(uid, 0) + 1
        self._failures[uid] = tries
        # The exception's text may quote what the person wrote: log its type only.
        if tries >= self.MAX_FAILURES:
            log.error("telegram.update_gave_up update=%d error=%s", uid, type(exc).__name__)
            return True
        log.error("telegram.update_failed update=%d error=%s try=%d", uid, type(exc).__name__, tries)
        return False

    async def _process(self, update: Update) -> bool:
        uid = update.update_id
        query = update.callback_query
        try:
            res = to_inbound(update)
        except Exception as exc:
            log.error("telegram.bad_update update=%d error=%s", uid, type(exc).__name__)
            return True
        if res is None:
            if query is not None:
                await self.channel.answer_button(query.id)
            return True
        if isinstance(res, PrivateOnly):
            log.info("telegram.not_private update=%d", uid)
            if query is not None:
                await self.channel.answer_button(query.id)
            notice = self.sender.send_now(str(res.chat_id), [Outbound(self.private_only_text)])
            with suppress(TimeoutError):
                await asyncio.wait_for(notice, 30)
            await self.channel.leave(res.chat_id)
            if res.check is None:
                return True
            res = res.check  # nothing happens unless the risk check flags it; then the safe reply goes privately
        msg = res
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self.executor, self.handle, msg, self.clock())
        except Exception as exc:
            return self._failed(uid, exc)
        if not await self.delivery.deliver(msg, result):  # bot/delivery.py: the same rules as every channel
            log.warning("telegram.not_committed update=%d", uid)
            if query is not None:
                await self.channel.answer_button(query.id)
            return False
        if result.duplicate:
            log.info("telegram.duplicate update=%d", uid)
        log.info("telegram.handled update=%d kind=%s", uid, msg.kind)
        if query is not None:
            await self.channel.answer_button(query.id)
            if query.message is not None:  # within the sender's budget, in the background
                self.sender.call("remove_keyboard", query.message.chat.id, query.message.message_id)
        return True

    async def drain(self, seconds: float = 10.0) -> None:
        """Wait, at most `seconds`, until no update is being handled (webhook requests in progress)."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)

    def close(self) -> None:
        self.executor.shutdown(wait=False)

    # -- long polling ------------------------------------------------------------------------------
    async def process_batch(self, updates: Sequence[Update]) -> int | None:
        """Handle a batch, chats in parallel; the smallest update id that was not committed, or None."""
        by_chat: dict[str, list[Update]] = {}
        for u in updates:
            by_chat.setdefault(chat_key(u), []).append(u)

        async def run_chat(chain: list[Update]) -> int | None:
            for u in chain:
                if not await self.process_update(u):
                    return u.update_id  # later updates of this chat wait for it
            return None

        failed = [f for f in await asyncio.gather(*(run_chat(c) for c in by_chat.values())) if f is not None]
        return min(failed) if failed else None

    def start_polling(self) -> None:
        self._stopping = False
        self._poll_task = asyncio.get_running_loop().create_task(self._poll_loop(), name="telegram-polling")

    async def _poll_loop(self) -> None:
        backoff = 0.0
        timeout = self.channel.settings.poll_timeout
        while not self._stopping:
            try:
                updates = await self._interruptible(self.channel.get_updates(self.offset, timeout))
            except asyncio.CancelledError:
                if self._stopping:
                    break
                raise
            except tg_error.RetryAfter as exc:
                await self._pause(retry_after_seconds(exc))
                continue
            except Exception as exc:
                # or an update this PTB version cannot parse: keep the loop alive and say so in the log.
                backoff = min(self.MAX_BACKOFF, max(1.0, backoff * 2))
                log.warning("telegram.poll_error error=%s wait=%.0f", type(exc).__name__, backoff)
                await self._pause(backoff)
                continue
            if not updates:
                continue
            try:
                failed = await self.process_batch(updates)  # never interrupted: it ends with commits
            except Exception as exc:
                log.error("telegram.batch_failed error=%s", type(exc).__name__)
                failed = updates[0].update_id
            if failed is None:
                self.offset = updates[-1].update_id + 1
                backoff = 0.0
            else:
                # Commit before acknowledge: Telegram keeps everything from the first uncommitted update.
                self.offset = failed
                backoff = min(self.MAX_BACKOFF, max(0.5, backoff * 2))
                await self._pause(backoff)

    async def _interruptible(self, awaitable: Any) -> Any:
        """Await something stop_polling may cancel (a long poll or a pause), never a batch in progress."""
        self._in_long_poll = True
        try:
            return await awaitable
        finally:
            self._in_long_poll = False

    async def _pause(self, seconds: float) -> None:
        with suppress(asyncio.CancelledError):
            await self._interruptible(asyncio.sleep(seconds))
            return
        if not self._stopping:
            raise asyncio.CancelledError

    async def stop_polling(self) -> None:
        """Finish the batch in hand, then confirm the offset so Telegram drops what we committed."""
        self._stopping = True
        task, self._poll_task = self._poll_task, None
        if task is None:
            return
        if self._in_long_poll:
            task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        if self.offset is not None:
            with suppress(tg_error.TelegramError):
                await self.channel.get_updates(self.offset, 0, limit=1)

    # -- webhook -----------------------------------------------------------------------------------
    def webhook_router(self, secret: str) -> APIRouter:
        """POST /telegram/webhook: secret checked in constant time before the body is read."""
        router = APIRouter()
        expected = secret.encode()

        @router.post(WEBHOOK_PATH, include_in_schema=False)
        async def telegram_webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not expected or not hmac.compare_digest(given, expected):
                log.warning("telegram.webhook_forbidden")
                return Response(status_code=403)
            if not self.ready:
                return Response(status_code=503)
            if int(request.headers.get("content-length") or 0) > MAX_WEBHOOK_BODY:
                log.warning("telegram.webhook_too_large")
                return Response(status_code=413)
            # Content-Length does not bound a chunked body: read it in pieces and stop at the cap.
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_WEBHOOK_BODY:
                    log.warning("telegram.webhook_too_large")
                    return Response(status_code=413)
            try:
                data = json.loads(body)
                if not isinstance(data, dict):  # an array, string or number is not an Update
                    raise TypeError("not an object")
                update = Update.de_json(data, self.channel.bot)
            except (ValueError, TypeError, KeyError, AttributeError):
                log.warning("telegram.webhook_bad_body")  # the body itself is never logged
                return Response(status_code=400)
            committed = await self.process_update(update)
            return Response(status_code=200 if committed else 503)

        return router
