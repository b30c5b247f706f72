"""Neutral Outbound messages in, Telegram text and inline keyboards out: pure."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Choice, Outbound

MAX_TEXT = 4096  # Telegram's limit for one message
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for callback_data
NAV_TOKENS = ("back", "skip")
SHORT_LABEL = 16  # labels up to this length sit two to a row


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


