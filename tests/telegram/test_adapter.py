"""Pure translator tests on recorded Telegram updates (tests/payloads/telegram) and rendered keyboards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from telegram import Update

from bot.channels.telegram import (
    COMMANDS,
    PrivateOnly,
    TelegramSettings,
    chat_key,
    render,
    split_text,
    to_inbound,
)
from bot.delivery import is_outage
from bot.dispatcher import DispatchResult
from bot.messages import Choice, Inbound, Outbound

PAYLOADS = Path(__file__).parent.parent / "payloads" / "telegram"
USER = "5550001"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def all_strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [str(k), *all_strings(v)]]
    if isinstance(data, list):
        return [s for v in data for s in all_strings(v)]
    return [str(data)]


def test_every_payload_file_is_covered() -> None:
    covered = set(EXPECTED) | set(UNSUPPORTED) | set(GROUPS) | set(IGNORED)
    assert {p.stem for p in PAYLOADS.glob("*.json")} == covered


EXPECTED: dict[str, dict[str, str]] = {
    "text": {"kind": "text", "text": "I think carers should listen more"},
    "command_start": {"kind": "command", "command": "start", "args": ""},
    "command_start_payload": {"kind": "command", "command": "start", "args": "AB12CD34"},
    "command_with_botname": {"kind": "command", "command": "help", "args": ""},
    "callback_query": {"kind": "button", "payload": "4.1.3"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_text_commands_and_buttons(name: str) -> None:
    raw = load(name)
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert msg.channel == "telegram"
    assert msg.message_id == f"u{raw['update_id']}"  # the update id: a redelivery is a duplicate
    assert msg.sender == USER
    assert msg.address == USER
    for field, value in EXPECTED[name].items():
        assert getattr(msg, field) == value, field


UNSUPPORTED = {
    "sticker": "sticker",
    "photo_with_caption": "photo",
    "voice": "voice",
    "video_note": "video_note",
    "video": "video",
    "audio": "audio",
    "animation": "animation",
    "document": "document",
    "location": "location",
    "venue": "venue",
    "contact": "contact",
    "poll": "poll",
    "dice": "dice",
    "edited_message": "edited_message",
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_non_text_kinds_are_named_and_never_copied(name: str) -> None:
    raw = load(name)
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert (msg.kind, msg.unsupported) == ("unsupported", UNSUPPORTED[name])
    assert (msg.text, msg.payload, msg.command, msg.args) == ("", "", "", "")
    # A caption or an edited text travels only in `said`, which the risk check reads and nothing stores.
    body = raw.get("message") or raw.get("edited_message") or {}
    assert msg.said == (body.get("text") or body.get("caption") or "")
    # Nothing else from the payload but the ids crosses over: no file id, name, phone or place.
    carried = " ".join(str(v) for k, v in vars(msg).items() if k != "said")
    allowed = {USER, str(raw["update_id"]), "telegram", "unsupported", UNSUPPORTED[name]}
    for s in all_strings(raw):
        if len(s) > 3 and s not in allowed and not s.isdigit() and s not in ("True", "False", "private"):
            assert s not in carried, s


GROUPS = {
    "group_text": -4012345678,
    "supergroup_command": -1002012345678,
    "channel_post": -1003012345678,
    "my_chat_member_added_to_group": -4012345678,
    "callback_query_in_group": -1002012345678,
}


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_groups_and_channels_get_private_only(name: str) -> None:
    raw = load(name)
    res = to_inbound(raw)
    assert isinstance(res, PrivateOnly)
    assert res.chat_id == GROUPS[name]
    body = raw.get("message") or raw.get("channel_post") or {}
    words = body.get("text") or body.get("caption")
    person = (body.get("from") or {}).get("id")
    if words and person:  # checked for risk, and answered privately if it worries us
        assert res.check is not None
        assert (res.check.check_only, res.check.said, res.check.address) == (True, words, str(person))
        assert (res.check.text, res.check.command, res.check.args) == ("", "", "")
    else:
        assert res.check is None


IGNORED = ("my_chat_member_blocked", "service_pinned_message", "inline_query")


@pytest.mark.parametrize("name", IGNORED)
def test_nothing_to_do(name: str) -> None:
    assert to_inbound(load(name)) is None


def test_accepts_ptb_update_objects_and_keys_by_chat() -> None:
    raw = load("callback_query")
    update = Update.de_json(raw, None)
    assert to_inbound(update) == to_inbound(raw)
    assert chat_key(update) == USER
    assert chat_key(Update.de_json(load("group_text"), None)) == "-4012345678"
    inline = load("inline_query")
    assert chat_key(Update.de_json(inline, None)) == f"u{inline['update_id']}"


def test_slash_that_is_not_a_command_is_text() -> None:
    raw = load("text")
    raw["message"]["text"] = "/etc/passwd is not a command"
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert (msg.kind, msg.text) == ("text", "/etc/passwd is not a command")


def _keyboard(out: Outbound) -> list[list[tuple[str, str]]]:
    _, markup = render(out)
    assert markup is not None
    return [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]  # type: ignore[misc]


SKIP = Choice("skip", "Skip / I'd rather not say")
BACK = Choice("back", "⬅ Back")


def test_render_plain_text_has_no_keyboard() -> None:
    assert render(Outbound("Hello")) == ("Hello", None)


def test_render_scale_is_one_row_of_five_then_navigation() -> None:
    faces = tuple(Choice(f"4.1.{i}", f"{f} {i + 1}") for i, f in enumerate("😢🙁😐🙂😀"))
    rows = _keyboard(Outbound("How are you?", (*faces, BACK, SKIP), "scale"))
    assert rows[0] == [(c.label, c.token) for c in faces]
    assert rows[1:] == [[("⬅ Back", "back")], [("Skip / I'd rather not say", "skip")]]


def test_render_long_choices_one_per_row_and_short_two_per_row() -> None:
    long = tuple(Choice(f"7.1.{i}", f"A fairly long answer number {i}") for i in range(3))
    assert _keyboard(Outbound("Pick", long, "buttons")) == [[(c.label, c.token)] for c in long]
    short = (Choice("4.8.0", "Yes"), Choice("4.8.1", "No"), Choice("4.8.2", "Not sure"))
    assert _keyboard(Outbound("OK?", short, "buttons")) == [
        [("Yes", "4.8.0"), ("No", "4.8.1")],
        [("Not sure", "4.8.2")],
    ]


def test_render_multi_puts_done_on_its_own_row() -> None:
    opts = (Choice("4.2.0", "✅ They listen to me and care"), Choice("4.2.1", "They're fun to be around"))
    rows = _keyboard(Outbound("Pick", (*opts, Choice("done", "Done ✔"), BACK, SKIP), "multi"))
    assert rows == [
        [("✅ They listen to me and care", "4.2.0")],
        [("They're fun to be around", "4.2.1")],
        [("Done ✔", "done")],
        [("⬅ Back", "back")],
        [("Skip / I'd rather not say", "skip")],
    ]


def test_callback_data_is_the_token_and_never_long() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        render(Outbound("x", (Choice("t" * 65, "label"),), "buttons"))


def test_long_text_is_split_on_breaks() -> None:
    text = ("word " * 500 + "\n\n") * 3
    parts = split_text(text)
    assert len(parts) > 1
    assert all(0 < len(p) <= 4096 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_commands_cover_the_engine_commands() -> None:
    assert {c for c, _ in COMMANDS} >= {"start", "help", "back", "skip", "stop", "menu"}
    assert all(3 <= len(d) <= 60 for _, d in COMMANDS)


def test_settings() -> None:
    s = TelegramSettings(_env_file=None, token="1:x", api_base_url="http://127.0.0.1:8081/")  # type: ignore[call-arg]
    assert s.api_base_url == "http://127.0.0.1:8081/bot"
    assert "1:x" not in repr(s)  # secrets stay out of reprs and logs
    s = TelegramSettings(_env_file=None, token="1:x", webhook_url="https://example.org")  # type: ignore[call-arg]
    assert s.webhook_target() == "https://example.org/telegram/webhook"
    assert s.problems() == [
        "OURVOICE_TELEGRAM_WEBHOOK_SECRET must be set when OURVOICE_TELEGRAM_WEBHOOK_URL is"
    ]
    assert TelegramSettings(_env_file=None).problems()[0].startswith("OURVOICE_TELEGRAM_TOKEN")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        TelegramSettings(_env_file=None, webhook_secret="has spaces!")  # type: ignore[call-arg]


UNAVAILABLE = "Sorry, I couldn't save that just now."
SAFE = Outbound("Thank you for telling me.", meta={"kind": "safe_reply"})


@pytest.mark.parametrize(
    ("result", "outage"),
    [
        (DispatchResult(replies=[Outbound("hi")], outbox_ids=[1]), False),
        (DispatchResult(replies=[Outbound("hi")], duplicate=True), False),
        (DispatchResult(replies=[Outbound(UNAVAILABLE)], stored=False, unavailable=True), True),
        (DispatchResult(replies=[SAFE], stored=False, flagged=True, unavailable=True), True),
        (DispatchResult(replies=[Outbound("Please send your invite code")], stored=False), False),
        (
            DispatchResult(
                replies=[Outbound("safe", meta={"kind": "safe_reply"}), Outbound("Please send your code")],
                stored=False,
                flagged=True,
            ),
            False,
        ),
    ],
)
def test_outage_is_told_apart_from_a_refusal(result: DispatchResult, outage: bool) -> None:
    assert is_outage(result) is outage
