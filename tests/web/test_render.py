"""The web chat's JSON for a reply: the message model's hints survive the outbox and reach the page."""

from __future__ import annotations

import json

from bot.channels.web import WebChannel
from bot.messages import Choice, Outbound


def test_plain_messages_are_stored_exactly_as_before() -> None:
    """No hint set: the payload has the same three keys it always had (stored outbox rows stay readable)."""
    msg = Outbound("Hello", (Choice("1.2.0", "Yes"),), "buttons")
    assert msg.to_json() == {"text": "Hello", "layout": "buttons", "choices": [{"token": "1.2.0", "label": "Yes"}]}


def test_hints_round_trip_through_the_stored_json() -> None:
    msg = Outbound(
        "Pick any", (Choice("1.3.0", "Pets", pressed=True), Choice("1.3.1", "Age", pressed=False)), "multi",
        progress=(3, 5), free_text=False, lasting=True, update=True,
    )
    back = Outbound.from_json(json.loads(json.dumps(msg.to_json())))
    assert back == msg
    assert back.choices[0].pressed is True and back.choices[1].pressed is False
    assert Outbound.from_json({"text": "x"}) == Outbound("x")


def test_a_button_that_is_only_a_face_gets_words() -> None:
    data = WebChannel().render(Outbound("How are you?", (Choice("1.1.0", "😢"), Choice("1.1.3", "🙂 4"),
                                                          Choice("1.1.9", "👍🏽")), "scale"))
    names = [c.get("name") for c in data["choices"]]
    assert names == ["Very sad", None, "Thumbs up sign"]  # "🙂 4" already has words a screen reader says


def test_the_wait_message_names_a_code_that_could_exist_and_no_slash_command() -> None:
    import re

    from bot.channels.web import NOT_YET
    from bot.identity import normalise, well_formed

    example = re.search(r"[A-Z0-9]{8}", NOT_YET)
    assert example and well_formed(normalise(example.group(0)))
    assert "/" not in NOT_YET


def test_a_toggle_shows_its_state_not_a_tick_in_its_label() -> None:
    data = WebChannel().render(Outbound("Pick any", (Choice("1.3.0", "✅ Pets", pressed=True),
                                                      Choice("1.3.1", "Age", pressed=False),
                                                      Choice("1.4.0", "✅ Not a toggle")), "multi"))
    assert [(c["label"], c.get("pressed")) for c in data["choices"]] == [
        ("Pets", True), ("Age", False), ("✅ Not a toggle", None)
    ]
