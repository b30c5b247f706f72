"""Conversation walks several test files share: where a person must be before the part a test is about."""

from __future__ import annotations

from typing import Any


def raise_card(
    p: Any,
    text: str = "Every young person in care should be able to see their brothers and sisters",
    council: str = "Not sure",
    who: str = "Children and young people in care",
) -> None:
    p.press("✊")
    p.feel("🙂")
    p.text(text)
    p.text("Because family matters to all of us")
    p.press(who)
    p.press("Done")
    p.press(council)
    assert "Here's your challenge card" in p.said
    p.press("✅ Send it")


def back_first_card(p: Any) -> str:
    p.press("🃏")
    p.feel("😐")
    p.press("👍")
    listing = p.said
    if "1" in p.buttons:  # a numbered button only for each card listed (none when there is nothing to back)
        p.press("1")
    return listing


def walk_to_free_text(p: Any) -> None:
    p.text("hello")
    p.press("I'm 11 to 16")
    p.press("🗣")
    p.feel("🙂")
    p.press("They listen")
    p.press("Done")
    p.press("Whether they have pets")
    p.press("Done")
    p.press("A meal I like")
