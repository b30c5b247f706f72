"""Staff notices to Slack: safeguarding alerts with an Acknowledge button, card and digest notices, and what
an acknowledgement changes on the posted message."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.alerts import AlertNotice, Recipient, StaffNotice
from bot.channels.base import DeliveryError
from bot.channels.slack.render import MAX_SECTION, _plain, mrkdwn_escape
from bot.channels.slack.settings import SlackSettings
from bot.channels.slack.translate import ACK_ACTION, OPEN_ACTION

# The SDK is imported where it is used: its package import alone (slack_sdk.errors pulls in the whole WebClient
# and Block Kit models) is about 0.2 s of every start, Telegram and web-only included (issue 27).
if TYPE_CHECKING:  # the async half of the SDK pulls in aiohttp (~0.7 s): imported only when a shell is built
    from slack_sdk.errors import SlackApiError


log = logging.getLogger("ourvoice.slack")

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


