"""Events API, interactivity and slash-command payloads in, neutral Inbound out: pure.

Only ids cross over; message text, file names and names never reach a log."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.base import split_command
from bot.messages import Inbound

CHANNEL = "slack"
SLASH_COMMAND = "/ourvoice"
ACTION_PREFIX = "ov:"  # action_id of participant buttons: "ov:<n>", unique within a message
ACK_ACTION = "ov_alert_ack"  # the Acknowledge button on staff alerts
OPEN_ACTION = "ov_open_admin"  # link buttons (Slack still sends block_actions for them; nothing to do)

# Words after /ourvoice that are commands; anything else is taken as an invite code (/ourvoice AB12CD34).
SLASH_WORDS = frozenset({
    "start", "menu", "help", "back", "skip", "stop", "link", "privacy", "mystuff", "mydata",
    "delete", "pause"
})
# Message subtypes that are somebody else's doing (joins, topic changes, bots): nothing to answer.
_SYSTEM_SUBTYPES = frozenset({
    "bot_message", "message_deleted", "channel_join", "channel_leave", "channel_topic",
    "channel_purpose", "channel_name", "pinned_item", "unpinned_item", "ekm_access_denied",
    "message_replied", "assistant_app_thread", "group_join", "group_leave"
})
DM_ONLY_FALLBACK = "I only read direct messages. To talk to me, open a direct message with ourvoice."


# ------------------------------------------------------------------------------------------ translators


@dataclass(frozen=True)
class DmOnly:
    """A message or mention outside a direct message: tell that one person (ephemeral) where the bot works.

    `check` carries what they wrote, for the risk check alone (see Inbound.check_only)."""

    channel: str
    user: str
    check: Inbound | None = None


@dataclass(frozen=True)
class AlertAck:
    """A staff member pressed Acknowledge on a safeguarding alert in the staff channel."""

    alert_ref: str
    user: str
    channel: str
    message_ts: str


def _is_dm(channel: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" if channel_type else channel.startswith("D")


def _files_kind(files: Sequence[dict[str, Any]]) -> str:
    mimes = [str(f.get("mimetype") or "") for f in files if isinstance(f, dict)]
    return "image" if mimes and all(m.startswith("image/") for m in mimes) else "file"


def _words(ev: dict[str, Any]) -> str:
    """A message's text as typed (Slack escapes &, < and >)."""
    return html.unescape(str(ev.get("text") or ""))


def _dm_only(body: dict[str, Any], channel: str, user: str, words: str) -> DmOnly:
    """Where the bot does not take answers; the words still go to the risk check."""
    event_id = str(body.get("event_id") or "")
    if not words.strip() or not event_id:
        return DmOnly(channel, user)
    worry = Inbound(CHANNEL, user, event_id, "unsupported", unsupported="not_direct", said=words, check_only=True)
    return DmOnly(channel, user, check=worry)


def _from_message(body: dict[str, Any], ev: dict[str, Any]) -> Inbound | DmOnly | None:
    subtype = ev.get("subtype")
    edited = subtype == "message_changed"
    inner = ev.get("message") if edited else ev
    if (
        not isinstance(inner, dict)
        or ev.get("bot_id")
        or inner.get("bot_id")
        or inner.get("subtype") == "bot_message"
    ):
        return None
    if subtype in _SYSTEM_SUBTYPES:
        return None
    if edited and not inner.get("edited"):
        return None  # Slack adding a link preview to a message, not the person editing it
    user = str(inner.get("user") or "")
    channel = str(ev.get("channel") or "")
    if not user or not channel:
        return None
    if not _is_dm(channel, ev.get("channel_type")):
        return _dm_only(body, channel, user, _words(inner))
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "sender": user,
        "message_id": str(body.get("event_id") or ""),
        "address": channel,
    }
    if not base["message_id"]:
        return None
    if edited:  # the new words are read by the risk check only
        return Inbound(kind="unsupported", unsupported="edited_message", said=_words(inner), **base)
    files = ev.get("files")
    if files or subtype == "file_share":
        return Inbound(kind="unsupported", unsupported=_files_kind(files or []), said=_words(ev), **base)
    if subtype not in (None, "thread_broadcast", "me_message"):
        return None
    text = _words(ev)
    cmd = split_command(text.strip())
    if cmd is not None:
        return Inbound(kind="command", command=cmd[0], args=cmd[1], **base)
    return Inbound(kind="text", text=text, **base)


def _from_event(body: dict[str, Any]) -> Inbound | DmOnly | None:
    ev = body.get("event")
    if not isinstance(ev, dict):
        return None
    etype = ev.get("type")
    if etype == "message":
        return _from_message(body, ev)
    if etype == "app_mention" and ev.get("user") and ev.get("channel") and not ev.get("bot_id"):
        return _dm_only(body, str(ev["channel"]), str(ev["user"]), _words(ev))
    if etype == "reaction_added":
        item = ev.get("item") if isinstance(ev.get("item"), dict) else {}
        channel, user, mid = (
            str(item.get("channel") or ""),
            str(ev.get("user") or ""),
            str(body.get("event_id") or ""),
        )
        if user and mid and _is_dm(channel):
            return Inbound(CHANNEL, user, mid, "unsupported", unsupported="reaction", address=channel)
    return None


def _from_actions(body: dict[str, Any]) -> Inbound | AlertAck | None:
    actions = body.get("actions") or []
    user = str((body.get("user") or {}).get("id") or "")
    if not actions or not isinstance(actions[0], dict) or not user:
        return None
    act = actions[0]
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    action_id = str(act.get("action_id") or "")
    value = str(act.get("value") or "")
    if action_id == ACK_ACTION and value:
        return AlertAck(value, user, channel, str(container.get("message_ts") or ""))
    if not action_id.startswith(ACTION_PREFIX) or not value or not _is_dm(channel):
        return None
    # Each click has its own trigger_id: a redelivered click is a duplicate, a second click is not.
    mid = str(body.get("trigger_id") or act.get("action_ts") or "")
    if not mid:
        return None
    return Inbound(CHANNEL, user, f"a{mid}", "button", payload=value, address=channel)


def _from_command(form: dict[str, Any]) -> Inbound | None:
    user = str(form.get("user_id") or "")
    mid = str(form.get("trigger_id") or "")
    if not user or not mid:
        return None
    text = str(form.get("text") or "").strip()
    head, _, rest = text.partition(" ")
    word = head.lstrip("/").lower()
    if not text:
        command, args = "menu", ""
    elif word in SLASH_WORDS:
        command, args = word, rest.strip()
    else:
        command, args = "start", text  # /ourvoice AB12CD34: an invite code
    # The reply goes to the person's DM with the app, wherever they typed the command (a user id as the
    # channel of chat.postMessage means exactly that).
    return Inbound(CHANNEL, user, f"c{mid}", "command", command=command, args=args, address=user)


def to_inbound(body: dict[str, Any]) -> Inbound | DmOnly | AlertAck | None:
    """Translate one Slack request body (already parsed). None means nothing to do.

    Events: DM messages -> text or command (text starting with "/"), files/images, edits and reactions ->
    unsupported (no content copied); messages and mentions elsewhere -> DmOnly; bot and system messages ->
    None. The dedupe key is the event_id, so a retried event is a duplicate. block_actions -> button
    (payload = the button's value) or AlertAck; /ourvoice -> command ("menu", a named command, or "start"
    with an invite code).
    """
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    if kind == "event_callback":
        return _from_event(body)
    if kind == "block_actions":
        return _from_actions(body)
    if "command" in body and "user_id" in body:
        return _from_command(body)
    return None


