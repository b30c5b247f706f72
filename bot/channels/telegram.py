"""Telegram channel: pure translators (update -> Inbound, Outbound -> text + inline keyboard) and a small
async shell on the real python-telegram-bot Application (polling loop, webhook route, per-chat order).

The only module that imports python-telegram-bot (with its stock httpx request class). It never stores or
logs names, usernames, media or message text (logs carry update ids and event names), and knows nothing of
storage or the engine: the dispatcher and the outbox sender are handed in by bot/telegram_service.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import os
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Request, Response
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder

from bot.channels.base import DeliveryError, KeyedLocks, Sender, split_command
from bot.delivery import Delivery
from bot.messages import Choice, Inbound, Outbound

log = logging.getLogger("ourvoice.telegram")

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # Telegram's limit for one message
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for callback_data
MAX_WEBHOOK_BODY = 1_000_000
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member", "channel_post")
NAV_TOKENS = ("back", "skip")
SHORT_LABEL = 16  # labels up to this length sit two to a row

# The command menu Telegram shows next to the text box; plain words for a 12-year-old.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start, or carry on where you left off"),
    ("menu", "Show the main menu"),
    ("help", "How this chat works"),
    ("back", "Go back and change your last answer"),
    ("skip", "Skip this question"),
    ("stop", "Have a break (I'll keep your place)"),
)

# Message kinds the bot cannot read. Order matters: an animation also carries a document, a venue a location.
UNSUPPORTED_KINDS: tuple[str, ...] = (
    "sticker", "photo", "voice", "video_note", "video", "audio", "animation", "document", "venue",
    "location", "contact", "poll", "dice", "game", "story", "paid_media", "invoice", "checklist", "giveaway",
)

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramSettings(BaseSettings):
    """OURVOICE_TELEGRAM_* settings; instantiated only in entry points and passed down."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_TELEGRAM_", env_file=".env", extra="ignore")

    token: SecretStr = SecretStr("")
    api_base_url: str = Field(default="", description="PTB base_url, e.g. http://127.0.0.1:8081/bot")
    webhook_url: str = Field(default="", description="public https URL for /telegram/webhook; empty: polling")
    webhook_secret: SecretStr = SecretStr("")
    bot_username: str = Field(default="", description="checked against getMe at start; used for t.me links")
    per_chat_interval: float = Field(default=1.0, ge=0, description="seconds between messages to one chat")
    global_per_second: float = Field(default=30.0, gt=0, description="messages per second over all chats")
    poll_timeout: int = Field(default=25, ge=0, le=50, description="getUpdates long-poll seconds")
    webhook_max_connections: int = Field(default=8, ge=1, le=100)
    dispatch_workers: int = Field(default=0, ge=0, le=32, description="0: 1 on SQLite, 4 on PostgreSQL")
    send_concurrency: int = Field(default=8, ge=1, le=64, description="sends in flight at once")

    @field_validator("api_base_url", "webhook_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("api_base_url")
    @classmethod
    def _bot_path(cls, v: str) -> str:
        # PTB appends the token to base_url: "http://host:8081" and "http://host:8081/bot/" mean ".../bot".
        v = v.rstrip("/")
        return v if not v or v.endswith("/bot") or "{token}" in v else v + "/bot"

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if raw and not _SECRET_RE.match(raw):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return v

    @property
    def configured(self) -> bool:
        return bool(self.token.get_secret_value())

    def webhook_target(self) -> str:
        """The URL given to setWebhook: the configured URL, with /telegram/webhook added if it has no path."""
        parts = urlsplit(self.webhook_url)
        if parts.path in ("", "/"):
            parts = parts._replace(path=WEBHOOK_PATH)
        return urlunsplit(parts)

    def problems(self) -> list[str]:
        """Reasons this configuration cannot start, as one line each."""
        out: list[str] = []
        if not self.configured:
            out.append("OURVOICE_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its token")
        if self.webhook_url and not self.webhook_secret.get_secret_value():
            out.append("OURVOICE_TELEGRAM_WEBHOOK_SECRET must be set when OURVOICE_TELEGRAM_WEBHOOK_URL is")
        return out


# ------------------------------------------------------------------------------------------ translators


@dataclass(frozen=True)
class PrivateOnly:
    """`to_inbound` result for a group, supergroup or channel: say it works in private chats, then leave.

    `check` carries what someone wrote there, for the risk check alone (see Inbound.check_only)."""

    chat_id: int
    check: Inbound | None = None


def as_update(update: Update | dict[str, Any]) -> Update:
    """Accept a PTB Update or the raw JSON dict Telegram sent."""
    if isinstance(update, Update):
        return update
    return Update.de_json(json.loads(json.dumps(update)), None)


def to_inbound(update: Update | dict[str, Any]) -> Inbound | PrivateOnly | None:
    """Translate one update. None means nothing to do (service messages, updates we don't subscribe to).

    Only ids cross over: the sender's user id, the chat id (the reply address) and the update id (the
    dedupe key, so a redelivered update is a duplicate). Media and names are never copied; captions,
    edits and group messages travel in `said`, for the risk check alone.
    """
    u = as_update(update)
    mid = f"u{u.update_id}"
    query = u.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return PrivateOnly(chat.id)
        if not query.data:
            return None
        address = str(chat.id if chat is not None else query.from_user.id)
        return Inbound(CHANNEL, str(query.from_user.id), mid, "button", payload=query.data, address=address)
    member = u.my_chat_member
    if member is not None:
        if member.chat.type != "private" and member.new_chat_member.status in ("member", "administrator"):
            return PrivateOnly(member.chat.id)
        return None
    msg = u.message or u.edited_message or u.channel_post or u.edited_channel_post
    if msg is None:
        return None
    words = msg.text or msg.caption or ""  # read by the risk check only, unless it is a private text
    sender = msg.from_user
    if msg.chat.type != "private":
        if not words or sender is None or sender.is_bot:
            return PrivateOnly(msg.chat.id)
        # Someone may still tell us something worrying here: checked, and if flagged answered privately.
        worry = Inbound(
            CHANNEL, str(sender.id), mid, "unsupported", unsupported="group_chat", address=str(sender.id),
            said=words, check_only=True,
        )
        return PrivateOnly(msg.chat.id, check=worry)
    if sender is None or sender.is_bot:
        return None
    base = {"channel": CHANNEL, "sender": str(sender.id), "message_id": mid, "address": str(msg.chat.id)}
    if u.edited_message is not None:
        return Inbound(kind="unsupported", unsupported="edited_message", said=words, **base)  # type: ignore[arg-type]
    if msg.text is not None:
        cmd = split_command(msg.text.strip())
        if cmd is not None:
            return Inbound(kind="command", command=cmd[0], args=cmd[1], **base)  # type: ignore[arg-type]
        return Inbound(kind="text", text=msg.text, **base)  # type: ignore[arg-type]
    for kind in UNSUPPORTED_KINDS:
        if getattr(msg, kind, None):
            return Inbound(kind="unsupported", unsupported=kind, said=words, **base)  # type: ignore[arg-type]
    return None


def chat_key(update: Update) -> str:
    """The ordering key: updates with the same key are handled strictly one after another."""
    for msg in (update.message, update.edited_message, update.channel_post, update.edited_channel_post):
        if msg is not None:
            return str(msg.chat.id)
    query = update.callback_query
    if query is not None:
        if query.message is not None:
            return str(query.message.chat.id)
        return str(query.from_user.id)
    if update.my_chat_member is not None:
        return str(update.my_chat_member.chat.id)
    return f"u{update.update_id}"


def _button(choice: Choice) -> InlineKeyboardButton:
    if len(choice.token.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"button token longer than {MAX_CALLBACK_DATA} bytes")
    return InlineKeyboardButton(choice.label, callback_data=choice.token)


def _grid(choices: Sequence[Choice]) -> list[list[InlineKeyboardButton]]:
    """One per row, or two per row when every label is short."""
    if not choices:
        return []
    per_row = 2 if len(choices) > 1 and all(len(c.label) <= SHORT_LABEL for c in choices) else 1
    return [[_button(c) for c in choices[i : i + per_row]] for i in range(0, len(choices), per_row)]


def render(message: Outbound) -> tuple[str, InlineKeyboardMarkup | None]:
    """Text plus an inline keyboard whose callback data is the engine's short token, never free text."""
    text = message.text or "⬇"
    if not message.choices:
        return text, None
    return text, keyboard(message.choices, message.layout)


def keyboard(choices: Sequence[Choice], layout: str) -> InlineKeyboardMarkup:
    """The inline keyboard for a set of choices: the main choices, then "done", then back/skip."""
    main = [c for c in choices if c.token not in NAV_TOKENS and c.token != "done"]
    done = [c for c in choices if c.token == "done"]
    nav = [c for c in choices if c.token in NAV_TOKENS]
    rows: list[list[InlineKeyboardButton]] = []
    if layout == "scale":
        rows.append([_button(c) for c in main[:5]])
        rows += [[_button(c)] for c in main[5:]]
    else:
        rows += _grid(main)
    rows += [[_button(c)] for c in done]
    rows += _grid(nav)
    return InlineKeyboardMarkup(rows)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long text on paragraph or line breaks so each part fits one Telegram message."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return [p for p in parts if p] or ["⬇"]


def retry_after_seconds(exc: tg_error.RetryAfter) -> float:
    """Seconds to wait, whether PTB hands back an int or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


# ------------------------------------------------------------------------------------------ the SDK shell


class TelegramChannel:
    """The Bot API side: builds the real PTB Application and turns SDK errors into DeliveryError."""

    name = CHANNEL
    merge_limit = MAX_TEXT  # the outbox sender may join queued messages for a chat up to this length

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        # Opt in to PTB's coming timedelta durations now: otherwise every 429 logs a deprecation warning.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        builder = ApplicationBuilder().token(settings.token.get_secret_value()).updater(None)
        if settings.api_base_url:
            builder = builder.base_url(settings.api_base_url)
        self.application: Application = builder.build()  # type: ignore[type-arg]

    @property
    def bot(self) -> Any:
        return self.application.bot

    def to_inbound(self, payload: Update | dict[str, Any]) -> Inbound | PrivateOnly | None:
        return to_inbound(payload)

    def render(self, message: Outbound) -> tuple[str, InlineKeyboardMarkup | None]:
        return render(message)

    async def start(self, *, webhook: bool) -> None:
        """Connect (getMe), register the command menu, then set or delete the webhook."""
        # httpx logs request URLs, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        await self.application.initialize()
        expected = self.settings.bot_username.lstrip("@").lower()
        if expected and (self.bot.username or "").lower() != expected:
            log.warning("telegram.unexpected_bot_username")  # the token belongs to another bot
        await self.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        if webhook:
            await self.bot.set_webhook(
                url=self.settings.webhook_target(),
                secret_token=self.settings.webhook_secret.get_secret_value(),
                allowed_updates=list(ALLOWED_UPDATES),
                max_connections=self.settings.webhook_max_connections,
            )
        else:
            await self.bot.delete_webhook(drop_pending_updates=False)
        log.info("telegram.started mode=%s", "webhook" if webhook else "polling")

    async def stop(self) -> None:
        await self.application.shutdown()

    async def send(self, address: str, message: Outbound) -> None:
        """Deliver one message; raises DeliveryError (retry_after on 429, permanent when unreachable)."""
        try:
            text, markup = render(message)
        except ValueError as exc:  # content that can never be a Telegram message (e.g. an oversized token)
            raise DeliveryError(f"unrenderable: {exc}"[:200], permanent=True) from None
        parts = split_text(text)
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                await self.bot.send_message(
                    chat_id=int(address), text=part, reply_markup=markup if last else None
                )
        except tg_error.RetryAfter as exc:
            raise DeliveryError("rate_limited", retry_after=retry_after_seconds(exc)) from None
        except (tg_error.Forbidden, tg_error.ChatMigrated) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc.message}"[:200], permanent=True) from None
        except tg_error.BadRequest as exc:
            # A malformed message or a chat that no longer exists: sending it again cannot help.
            raise DeliveryError(f"BadRequest: {exc.message}"[:200], permanent=True) from None
        except tg_error.TelegramError as exc:  # NetworkError, TimedOut, InvalidToken, server errors
            raise DeliveryError(type(exc).__name__) from None

    async def answer_button(self, query_id: str) -> None:
        """Stop the button's spinner; an old or repeated query is refused by Telegram, which is harmless."""
        with suppress(tg_error.TelegramError):
            await self.bot.answer_callback_query(query_id)

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off a message that was answered so they can't be pressed twice."""
        with suppress(tg_error.TelegramError):  # "message is not modified" on a repeat is fine
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )

    async def leave(self, chat_id: int) -> None:
        with suppress(tg_error.TelegramError):
            await self.bot.leave_chat(chat_id)

    async def get_updates(self, offset: int | None, poll_seconds: int, limit: int = 100) -> tuple[Any, ...]:
        """One getUpdates call; `offset` confirms every update before it (commit before acknowledge)."""
        return await self.bot.get_updates(
            offset=offset, timeout=poll_seconds, limit=limit, allowed_updates=list(ALLOWED_UPDATES)
        )


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
