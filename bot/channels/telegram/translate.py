"""Telegram updates in, neutral Inbound messages out: pure, tested with recorded payloads.

Only ids cross over; names, usernames, media and message text never reach a log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from telegram import Update

from bot.channels.base import split_command
from bot.messages import Inbound

CHANNEL = "telegram"

# Message kinds the bot cannot read. Order matters: an animation also carries a document, a venue a location.
UNSUPPORTED_KINDS: tuple[str, ...] = (
    "sticker", "photo", "voice", "video_note", "video", "audio", "animation", "document", "venue",
    "location", "contact", "poll", "dice", "game", "story", "paid_media", "invoice", "checklist", "giveaway",
)




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


