"""Slack channel: pure translators (Events API / interactivity / slash-command payloads -> Inbound,
Outbound -> Block Kit), a small async shell on the real slack-bolt AsyncApp (HTTP mode on the shared ASGI
app, Socket Mode), and the staff-notification route that posts safeguarding alerts with an Acknowledge button.

The only module that imports slack_bolt / slack_sdk. It never stores or logs message text, file names or
names (logs carry event ids and event names), and knows nothing of storage or the engine: the dispatcher,
the outbox sender and the alert-acknowledging function are handed in by the composition root
(bot/slack_service.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.alerts import AlertNotice, Recipient, StaffNotice
from bot.channels.base import DeliveryError, KeyedLocks, Sender, split_command
from bot.delivery import Delivery
from bot.messages import Choice, Inbound, Outbound

# The SDK is imported where it is used: its package import alone (slack_sdk.errors pulls in the whole WebClient
# and Block Kit models) is about 0.2 s of every start, Telegram and web-only included (issue 27).
if TYPE_CHECKING:  # the async half of the SDK pulls in aiohttp (~0.7 s): imported only when a shell is built
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("ourvoice.slack")

CHANNEL = "slack"
EVENTS_PATH = "/slack/events"
SLASH_COMMAND = "/ourvoice"
ACTION_PREFIX = "ov:"  # action_id of participant buttons: "ov:<n>", unique within a message
ACK_ACTION = "ov_alert_ack"  # the Acknowledge button on staff alerts
OPEN_ACTION = "ov_open_admin"  # link buttons (Slack still sends block_actions for them; nothing to do)
MAX_SIGNATURE_AGE = 300  # seconds: Slack's own rule, against replayed requests
MAX_BODY = 1_000_000
MAX_SECTION = 3000  # characters in one section block
MAX_BUTTON_LABEL = 75
MAX_BUTTONS_PER_BLOCK = 25
NAV_TOKENS = ("back", "skip")
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
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
DM_ONLY_FALLBACK = "I only read direct messages. To talk to me, open a direct message with ourvoice."


class SlackSettings(BaseSettings):
    """OURVOICE_SLACK_* settings; instantiated only in entry points and passed down."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_SLACK_", env_file=".env", extra="ignore")

    bot_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")  # xapp-... for Socket Mode
    api_base_url: str = Field(default="", description="Web API base URL, e.g. http://127.0.0.1:PORT/api/")
    staff_channel: str = Field(default="", description="channel id that receives staff notifications")
    staff_user_map: str = Field(
        default="", description="Slack user -> staff username, e.g. U123=jdoe,U456=asmith"
    )
    per_channel_interval: float = Field(
        default=1.0, ge=0, description="seconds between messages to one channel"
    )
    global_per_second: float = Field(default=8.0, gt=0, description="messages per second over all channels")

    @field_validator("api_base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if not v or v.endswith("/") else v + "/"

    @field_validator("staff_user_map")
    @classmethod
    def _map(cls, v: str) -> str:
        parse_user_map(v)
        return v

    @property
    def configured(self) -> bool:
        return bool(self.bot_token.get_secret_value())

    def staff_users(self) -> dict[str, str]:
        return parse_user_map(self.staff_user_map)

    def problems(self, *, socket_mode: bool) -> list[str]:
        """Reasons this configuration cannot start, as one line each."""
        out: list[str] = []
        if not self.configured:
            out.append(
                "OURVOICE_SLACK_BOT_TOKEN is not set: install the Slack app and copy its xoxb- token there"
            )
        if socket_mode and not self.app_token.get_secret_value():
            out.append(
                "OURVOICE_SLACK_APP_TOKEN is not set: Socket Mode needs an app-level xapp- token "
                "with the connections:write scope"
            )
        if not socket_mode and not self.signing_secret.get_secret_value():
            out.append(
                "OURVOICE_SLACK_SIGNING_SECRET is not set: copy it from the Slack app's Basic Information"
            )
        return out


def parse_user_map(raw: str) -> dict[str, str]:
    """'U123=jdoe, U456=asmith' -> {'U123': 'jdoe', 'U456': 'asmith'}; ValueError on a malformed pair."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        user, sep, name = (x.strip() for x in pair.partition("="))
        if not sep or not _USER_ID.match(user) or not name:
            raise ValueError(f"expected SLACKUSERID=staffusername pairs separated by commas, got {pair!r}")
        out[user] = name
    return out


# ------------------------------------------------------------------------------------------ signatures


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float,
    max_age: int = MAX_SIGNATURE_AGE,
) -> bool:
    """Slack's v0 scheme over the raw body, in constant time; stale (or far-future) timestamps fail."""
    if not secret or not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > max_age:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def well_formed(body: str, content_type: str) -> bool:
    """Whether a (signed) body is one Bolt can read: a JSON object, or a form whose `payload`, if any, is one.

    Mirrors Bolt's own choice of parser, so a malformed body gets a 400 here instead of an exception in Bolt.
    """
    if not body:
        return True
    try:
        if content_type.split(";")[0].strip() == "application/json" or body.startswith("{"):
            return isinstance(json.loads(body), dict)
        payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload") if "payload" in body else None
        return payload is None or isinstance(json.loads(payload), dict)
    except ValueError:
        return False


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


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _label(label: str) -> str:
    return label if len(label) <= MAX_BUTTON_LABEL else label[: MAX_BUTTON_LABEL - 1] + "…"


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split a long text on paragraph or line breaks so each part fits one section block."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return [p for p in parts if p] or ["⬇"]


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters, escaped for `text` fields."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(message: Outbound) -> dict[str, Any]:
    """Block Kit for one reply: the text in section blocks, then the choices as buttons.

    Each button's value is the engine's short token (never free text) and its action_id is unique in the
    message ("ov:<n>"). A scale is one actions block of its five points; Done, Back and Skip follow in
    their own block.
    """
    text = message.text or "⬇"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _plain(part)} for part in split_text(text)]
    numbered = list(enumerate(message.choices))
    main = [(i, c) for i, c in numbered if c.token not in NAV_TOKENS and c.token != "done"]
    tail = [(i, c) for i, c in numbered if c.token == "done"] + [
        (i, c) for i, c in numbered if c.token in NAV_TOKENS
    ]

    def button(i: int, c: Choice) -> dict[str, Any]:
        b: dict[str, Any] = {
            "type": "button",
            "text": _plain(_label(c.label)),
            "action_id": f"{ACTION_PREFIX}{i}",
            "value": c.token,
        }
        if c.token == "done":
            b["style"] = "primary"
        return b

    size = 5 if message.layout == "scale" else MAX_BUTTONS_PER_BLOCK
    for start in range(0, len(main), size):
        blocks.append({"type": "actions", "elements": [button(i, c) for i, c in main[start : start + size]]})
    if tail:
        blocks.append({"type": "actions", "elements": [button(i, c) for i, c in tail]})
    return {"text": mrkdwn_escape(text[:3000]), "blocks": blocks}


def answered_blocks(blocks: Sequence[dict[str, Any]], label: str, *, text: str = "") -> list[dict[str, Any]]:
    """The message after a button press: the same text, buttons gone, a small line saying what was chosen."""
    kept = [b for b in blocks if isinstance(b, dict) and b.get("type") != "actions"]
    if not kept and text:
        kept = [{"type": "section", "text": _plain(html.unescape(text)[:MAX_SECTION])}]
    return [*kept, {"type": "context", "elements": [_plain(f"✔ {label}"[:MAX_SECTION])]}]


# ------------------------------------------------------------------------------------------ staff notices


_ALERT_TITLES = {
    "new": "🚨 Safeguarding alert",
    "reminder": "⏰ Reminder: alert not acknowledged yet",
    "escalation": "🔺 ESCALATED: alert not acknowledged",
    "test": "Test notice (no action needed)",
}
_NOTICE_ICONS = {"card": "🗂", "digest": "📊", "report": "📄"}


def _link_button(url: str, label: str) -> dict[str, Any]:
    return {"type": "button", "text": _plain(label), "url": url, "action_id": OPEN_ACTION}


def render_notice(notice: AlertNotice | StaffNotice) -> dict[str, Any]:
    """Block Kit for the staff channel. Alerts show the alert reference, case reference and time only
    (never the child's words, nor the categories) with an Acknowledge button; other notices their lines."""
    if isinstance(notice, StaffNotice):
        title = f"{_NOTICE_ICONS.get(notice.kind, '🔔')} {notice.title}"
        blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(title[:150])}]
        if notice.lines:
            blocks.append({"type": "section", "text": _plain("\n".join(notice.lines)[:MAX_SECTION])})
        if notice.link:
            blocks.append({"type": "actions", "elements": [_link_button(notice.link, "Open in the admin")]})
        return {"text": mrkdwn_escape(title), "blocks": blocks}
    title = _ALERT_TITLES.get(notice.kind, _ALERT_TITLES["new"])
    facts = [
        ("Alert", notice.alert_ref),
        ("Case", notice.case_ref or "on the alert page"),
        ("Raised", notice.at),
        ("Escalation level", str(notice.level)),
    ]
    blocks = [
        {"type": "header", "text": _plain(title)},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{mrkdwn_escape(v)}"} for k, v in facts],
        },
    ]
    if notice.kind == "escalation":
        blocks.append(
            {"type": "section", "text": _plain(f"Not acknowledged after {notice.overdue_minutes} minutes.")}
        )
    if notice.kind != "test":
        blocks.append(
            {
                "type": "context",
                "elements": [
                    _plain(
                        "A young person's message suggested a risk of harm. They have been given help "
                        "numbers. Read the message and record what you did in the ourvoice admin "
                        "(reading it is audited)."
                    )
                ],
            }
        )
    buttons: list[dict[str, Any]] = []
    if notice.kind != "test":
        buttons.append(
            {
                "type": "button",
                "text": _plain("Acknowledge"),
                "style": "primary",
                "action_id": ACK_ACTION,
                "value": notice.alert_ref,
            }
        )
    if notice.admin_url:
        buttons.append(_link_button(notice.admin_url, "Open in the admin"))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": f"{title}: {notice.alert_ref}", "blocks": blocks}


def acknowledged_blocks(blocks: Sequence[dict[str, Any]], line: str) -> list[dict[str, Any]]:
    """The alert message after an acknowledgement: the Acknowledge button gone, who and when added."""
    out: list[dict[str, Any]] = []
    for b in blocks:
        if not isinstance(b, dict):
            continue
        if b.get("type") == "actions":
            rest = [e for e in b.get("elements", []) if e.get("action_id") != ACK_ACTION]
            if rest:
                out.append({**b, "elements": rest})
            continue
        out.append(b)
    return [*out, {"type": "context", "elements": [_plain(line)]}]


@dataclass(frozen=True)
class AckOutcome:
    """What happened when a staff member pressed Acknowledge.

    status: acknowledged | already | unknown_alert | not_staff | not_allowed | unavailable.
    """

    status: str
    by: str = ""
    at: str = ""  # local time, for the line under the alert


ACK_EXPLAINED = {
    "unmapped": "Your Slack account isn't linked to an ourvoice staff account, so I can't record an "
    "acknowledgement from you. Ask the participation lead to add you to OURVOICE_SLACK_STAFF_USER_MAP, "
    "or acknowledge in the ourvoice admin.",
    "not_staff": "The ourvoice staff account linked to your Slack account doesn't exist or is switched off. "
    "Acknowledge in the ourvoice admin, or ask the participation lead.",
    "not_allowed": "Your ourvoice role can't acknowledge safeguarding alerts (or not this one). "
    "Please tell the safeguarding lead or the duty manager straight away.",
    "unknown_alert": "I can't find that alert in ourvoice yet (it may still be on its way while the "
    "database is busy). Try again in a minute, or use the ourvoice admin.",
    "unavailable": "The ourvoice database isn't reachable just now, so the acknowledgement wasn't recorded. "
    "Try again in a minute, or use `ourvoice alerts ack` once it's back.",
    "wrong_channel": "Alerts can only be acknowledged from the staff channel.",
}


def retry_after_of(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait (HTTP 429), or None when it was not a rate limit."""
    resp = exc.response
    status = getattr(resp, "status_code", 0)
    error = resp.get("error") if hasattr(resp, "get") else None
    if status != 429 and error != "ratelimited":
        return None
    headers = getattr(resp, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
    try:
        return max(0.0, float(raw))
    except ValueError:
        return 1.0


# Answers that mean this message can never be delivered to this address.
_PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "user_not_found",
    "cannot_dm_bot", "user_disabled", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
    "no_text", "restricted_action", "too_many_attachments", "messages_tab_disabled"
})


def delivery_error(exc: SlackApiError) -> DeliveryError:
    """Turn a Web API error into the outbox sender's terms."""
    wait = retry_after_of(exc)
    if wait is not None:
        return DeliveryError("rate_limited", retry_after=wait)
    error = str(exc.response.get("error") or "unknown") if hasattr(exc.response, "get") else "unknown"
    return DeliveryError(error[:100], permanent=error in _PERMANENT)


class SlackNoticeRoute:
    """Posts staff notifications to a Slack channel (a NoticeRoute for bot.alerts.AlertNotifier).

    Runs on the notifier's thread with only the notice in hand: the sync WebClient, no database. A 429 is
    waited out here (Retry-After, a few times); any other failure raises so the notifier retries later.
    """

    name = "slack"
    TRIES = 4
    MAX_WAIT = 60.0

    def __init__(self, settings: SlackSettings, *, timeout: int = 10) -> None:
        kwargs: dict[str, Any] = {"token": settings.bot_token.get_secret_value(), "timeout": timeout}
        if settings.api_base_url:
            kwargs["base_url"] = settings.api_base_url
        from slack_sdk.web import WebClient

        self.client = WebClient(**kwargs)

    def send(self, notice: AlertNotice | StaffNotice, recipient: str) -> None:
        from slack_sdk.errors import SlackApiError

        message = render_notice(notice)
        for attempt in range(self.TRIES):
            try:
                self.client.chat_postMessage(
                    channel=recipient,
                    text=message["text"],
                    blocks=message["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                )
                return
            except SlackApiError as exc:
                wait = retry_after_of(exc)
                if wait is None or attempt == self.TRIES - 1:
                    raise
                log.warning("slack.notice_rate_limited ref=%s retry_after=%.1f", notice.alert_ref, wait)
                time.sleep(min(wait, self.MAX_WAIT))


def staff_recipients(settings: SlackSettings | None = None) -> list[Recipient]:
    """The Slack staff channel as an alert recipient (and the one place staff notices go) when
    OURVOICE_SLACK_STAFF_CHANNEL and a token are set."""
    settings = settings or SlackSettings()
    if not settings.staff_channel or not settings.configured:
        return []
    return [Recipient(SlackNoticeRoute(settings), settings.staff_channel, level=0, staff_notices=True)]


# ------------------------------------------------------------------------------------------ the SDK shell


def _async_client(settings: SlackSettings) -> AsyncWebClient:
    from slack_sdk.web.async_client import AsyncWebClient

    kwargs: dict[str, Any] = {"token": settings.bot_token.get_secret_value(), "timeout": 15}
    if settings.api_base_url:
        kwargs["base_url"] = settings.api_base_url
    return AsyncWebClient(**kwargs)


class SlackChannel:
    """The Web API side: sends Block Kit replies and turns SDK errors into DeliveryError."""

    name = CHANNEL
    UPDATE_TRIES = 4

    def __init__(self, settings: SlackSettings) -> None:
        self.settings = settings
        self.client = _async_client(settings)

    async def open(self) -> None:
        """One HTTP connection pool for the channel's life (the SDK opens one per call otherwise)."""
        import aiohttp  # the async SDK's own transport

        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession()

    async def close(self) -> None:
        session, self.client.session = self.client.session, None
        if session is not None and not session.closed:
            await session.close()

    def to_inbound(self, payload: dict[str, Any]) -> Inbound | DmOnly | AlertAck | None:
        return to_inbound(payload)

    def render(self, message: Outbound) -> dict[str, Any]:
        return render(message)

    async def send(self, address: str, message: Outbound) -> None:
        """Deliver one message; raises DeliveryError (retry_after on 429, permanent when unreachable)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        payload = render(message)
        try:
            await self.client.chat_postMessage(
                channel=address,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise delivery_error(exc) from None
        except (SlackClientError, OSError, TimeoutError) as exc:  # network trouble: try again later
            raise DeliveryError(type(exc).__name__) from None

    async def update(self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]]) -> bool:
        """Replace a message's blocks (waiting out 429s); False if Slack refused (e.g. it is gone)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        for attempt in range(self.UPDATE_TRIES):
            try:
                await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
                return True
            except SlackApiError as exc:
                wait = retry_after_of(exc)
                if wait is None or attempt == self.UPDATE_TRIES - 1:
                    log.warning("slack.update_failed error=%s", delivery_error(exc))
                    return False
                await asyncio.sleep(min(wait, 60.0))
            except (SlackClientError, OSError, TimeoutError) as exc:
                log.warning("slack.update_failed error=%s", type(exc).__name__)
                return False
        return False

    async def ephemeral(self, channel: str, user: str, text: str) -> None:
        """A message only `user` sees, in `channel`; failures are logged and dropped (it stores nothing)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=mrkdwn_escape(text))
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
            log.warning("slack.ephemeral_failed error=%s", type(exc).__name__)


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
