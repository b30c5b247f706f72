"""The Bot API side: the real python-telegram-bot Application, its errors turned into DeliveryError."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from contextlib import suppress
from typing import Any

from telegram import BotCommand, InlineKeyboardMarkup, Update
from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder

from bot.channels.base import DeliveryError
from bot.channels.telegram.render import MAX_TEXT, render, split_text
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.translate import CHANNEL, PrivateOnly, to_inbound
from bot.messages import Inbound, Outbound

log = logging.getLogger("ourvoice.telegram")

ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member", "channel_post")
# The command menu Telegram shows next to the text box; plain words for a 12-year-old.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start, or carry on where you left off"),
    ("menu", "Show the main menu"),
    ("help", "How this chat works"),
    ("back", "Go back and change your last answer"),
    ("skip", "Skip this question"),
    ("stop", "Have a break (I'll keep your place)"),
)


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


