"""Neutral Outbound messages in, Block Kit out: pure."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from bot.channels.slack.translate import ACTION_PREFIX
from bot.messages import Choice, Outbound

MAX_SECTION = 3000  # characters in one section block
MAX_BUTTON_LABEL = 75
MAX_BUTTONS_PER_BLOCK = 25
NAV_TOKENS = ("back", "skip")


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


