"""Pure translator tests on recorded Slack payloads (tests/payloads/slack), Block Kit rendering, signatures,
staff notices and settings."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.alerts import AlertNotice, StaffNotice
from bot.channels.slack import (
    ACK_ACTION,
    AlertAck,
    DmOnly,
    SlackSettings,
    acknowledged_blocks,
    answered_blocks,
    parse_user_map,
    render,
    render_notice,
    to_inbound,
    verify_signature,
)
from bot.messages import Choice, Inbound, Outbound
from tests.fakes.slack_api import sign_slack_request

PAYLOADS = Path(__file__).parent.parent / "payloads" / "slack"
USER = "U0CARER01"
DM = "D0CARER01"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def all_strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [str(k), *all_strings(v)]]
    if isinstance(data, list):
        return [s for v in data for s in all_strings(v)]
    return [str(data)]


EXPECTED: dict[str, dict[str, str]] = {
    "dm_text": {"kind": "text", "text": "Honestly the respite weekends made all the difference"},
    "dm_escaped": {"kind": "text", "text": "fish & chips <3 > nothing"},
    "dm_command": {"kind": "command", "command": "help", "args": ""},
    "dm_command_args": {"kind": "command", "command": "start", "args": "AB12CD34"},
    "dm_thread_reply": {"kind": "text", "text": "replying in the thread"},
}
UNSUPPORTED = {
    "file_share": "file",
    "image_share": "image",
    "files_without_subtype": "file",
    "message_changed": "edited_message",
    "reaction_added": "reaction",
}
DM_ONLY = {"channel_message": "C0GENERAL", "group_dm_message": "G0MPIM001", "app_mention": "C0GENERAL"}
IGNORED = {"message_changed_unfurl", "message_changed_by_bot", "message_deleted", "reaction_added_in_channel",
           "reaction_removed", "bot_message", "own_message", "channel_join", "app_home_opened", "url_verification",
           "block_actions_link_button", "block_actions_in_channel"}
BUTTONS = {"block_actions": "8.1.3"}
COMMANDS = {
    "slash_menu": ("menu", ""),
    "slash_invite_code": ("start", "AB12CD34"),
    "slash_help": ("help", ""),
    "slash_link": ("link", "QW34ER56"),
    "slash_in_channel": ("menu", ""),
}


def test_every_payload_file_is_covered() -> None:
    covered = set(EXPECTED) | set(UNSUPPORTED) | set(DM_ONLY) | IGNORED | set(BUTTONS) | set(COMMANDS) | {"alert_ack"}
    assert {p.stem for p in PAYLOADS.glob("*.json")} == covered


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dm_messages_become_text_or_commands(name: str) -> None:
    raw = load(name)
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert (msg.channel, msg.sender, msg.address) == ("slack", USER, DM)
    assert msg.message_id == raw["event_id"]  # the event id: a retried event is a duplicate
    for field, value in EXPECTED[name].items():
        assert getattr(msg, field) == value, field


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_files_images_edits_and_reactions_carry_no_content(name: str) -> None:
    raw = load(name)
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert (msg.kind, msg.unsupported) == ("unsupported", UNSUPPORTED[name])
    assert (msg.sender, msg.address, msg.message_id) == (USER, DM, raw["event_id"])
    assert msg.text == msg.args == msg.payload == msg.command == ""
    # Words that came with a file, or an edit's new words, travel only in `said`, for the risk check.
    ev = raw["event"]
    assert msg.said == ((ev.get("message") or {}).get("text") if ev.get("subtype") == "message_changed"
                        else ev.get("text") if ev.get("type") == "message" else "") or ""
    # Nothing else the person wrote or sent (words, file names, urls) crosses into the Inbound.
    carried = " ".join(str(v) for k, v in vars(msg).items() if k != "said")
    for secret in ("letter", "placement_letter", "IMG_2231", "edited words", "original", "thumbsup", "files.slack.com"):
        assert secret not in carried


@pytest.mark.parametrize("name", sorted(DM_ONLY))
def test_messages_outside_a_dm_get_a_private_pointer(name: str) -> None:
    raw = load(name)
    res = to_inbound(raw)
    assert isinstance(res, DmOnly)
    assert (res.channel, res.user) == (DM_ONLY[name], USER)
    words = raw["event"].get("text")
    if words:  # checked for risk; nothing else happens unless that flags it
        assert res.check is not None
        assert (res.check.check_only, res.check.said, res.check.sender) == (True, words, USER)
        assert (res.check.text, res.check.address) == ("", "")
    else:
        assert res.check is None


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_bot_system_and_foreign_events_are_ignored(name: str) -> None:
    assert to_inbound(load(name)) is None


def test_button_press_carries_the_token_and_a_per_click_id() -> None:
    raw = load("block_actions")
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert (msg.kind, msg.payload, msg.sender, msg.address) == ("button", "8.1.3", USER, DM)
    assert msg.message_id == "a" + raw["trigger_id"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_slash_command(name: str) -> None:
    raw = load(name)
    msg = to_inbound(raw)
    assert isinstance(msg, Inbound)
    assert (msg.kind, msg.command, msg.args) == ("command", *COMMANDS[name])
    # Replies go to the person's DM with the app, wherever the command was typed.
    assert (msg.sender, msg.address, msg.message_id) == (USER, USER, "c" + raw["trigger_id"])


def test_alert_acknowledge_button() -> None:
    res = to_inbound(load("alert_ack"))
    assert res == AlertAck("A-261124-K7QM3XPD", "U0STAFF01", "C0STAFF01", "1763978401.000100")


@pytest.mark.parametrize("junk", [{}, {"type": "event_callback"}, {"type": "event_callback", "event": "x"},
                                  {"type": "block_actions", "actions": []}, {"command": "/ourvoice", "user_id": ""},
                                  {"type": "event_callback", "event": {"type": "message", "user": "U1"}}])
def test_malformed_payloads_are_ignored(junk: dict[str, Any]) -> None:
    assert to_inbound(junk) is None


# ------------------------------------------------------------------------------------------ rendering


def choices(*labels: str, tokens: tuple[str, ...] | None = None) -> tuple[Choice, ...]:
    tokens = tokens or tuple(f"1.2.{i}" for i in range(len(labels)))
    return tuple(Choice(t, lbl) for t, lbl in zip(tokens, labels, strict=True))


def elements(rendered: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [b["elements"] for b in rendered["blocks"] if b["type"] == "actions"]


def test_text_only_is_one_section() -> None:
    out = render(Outbound("Thanks <3 & bye"))
    assert out["blocks"] == [{"type": "section", "text": {"type": "plain_text", "text": "Thanks <3 & bye", "emoji": True}}]
    assert out["text"] == "Thanks &lt;3 &amp; bye"  # the notification text is mrkdwn, so escaped


def test_buttons_keep_every_token_with_unique_action_ids() -> None:
    msg = Outbound("Which of these is you?", choices("7 to 11", "11 to 16", "16 to 25", "Carer", "Skip",
                                                     tokens=("3.1.0", "3.1.1", "3.1.2", "3.1.3", "skip")), "buttons")
    out = render(msg)
    rows = elements(out)
    assert [e["value"] for e in rows[0]] == ["3.1.0", "3.1.1", "3.1.2", "3.1.3"]
    assert [e["value"] for e in rows[1]] == ["skip"]  # navigation in its own block
    ids = [e["action_id"] for row in rows for e in row]
    assert len(set(ids)) == len(ids) == 5
    assert all(i.startswith("ov:") for i in ids)


def test_scale_is_one_actions_block_of_five() -> None:
    msg = Outbound("How safe do you feel?", choices("😢 1", "🙁 2", "😐 3", "🙂 4", "😀 5", "Back", "Skip",
                                                    tokens=("4.1.0", "4.1.1", "4.1.2", "4.1.3", "4.1.4", "back",
                                                            "skip")), "scale")
    rows = elements(render(msg))
    assert [e["value"] for e in rows[0]] == ["4.1.0", "4.1.1", "4.1.2", "4.1.3", "4.1.4"]
    assert [e["value"] for e in rows[1]] == ["back", "skip"]


def test_multi_select_done_button_is_primary_and_labels_are_trimmed() -> None:
    long = "A very long answer label " * 6
    msg = Outbound("Pick any", (Choice("5.1.0", "✅ " + long), Choice("5.1.1", "Friends"), Choice("done", "Done")),
                   "multi")
    rows = elements(render(msg))
    assert len(rows[0][0]["text"]["text"]) <= 75
    assert rows[1] == [{"type": "button", "text": {"type": "plain_text", "text": "Done", "emoji": True},
                        "action_id": "ov:2", "value": "done", "style": "primary"}]


def test_a_long_menu_is_split_into_blocks_of_25() -> None:
    msg = Outbound("Menu", tuple(Choice(f"t.{i}", f"Topic {i}") for i in range(30)), "menu")
    rows = elements(render(msg))
    assert [len(r) for r in rows] == [25, 5]


def test_long_text_is_split_into_sections_within_slack_limits() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "words " * 100 for i in range(12))
    out = render(Outbound(text))
    sections = [b["text"]["text"] for b in out["blocks"]]
    assert len(sections) > 1 and all(len(s) <= 3000 for s in sections)
    assert " ".join(" ".join(sections).split()) == " ".join(text.split())
    assert len(out["text"]) <= 3100


def test_answered_message_keeps_text_and_loses_its_buttons() -> None:
    rendered = render(Outbound("How are you?", choices("Good", "Bad"), "buttons"))
    after = answered_blocks(rendered["blocks"], "Good")
    assert not [b for b in after if b["type"] == "actions"]
    assert after[0] == rendered["blocks"][0]
    assert after[-1]["elements"][0]["text"] == "✔ Good"
    # Without the original blocks the message text stands in.
    assert answered_blocks([], "Good", text="How &amp; why?")[0]["text"]["text"] == "How & why?"


# ------------------------------------------------------------------------------------------ staff notices

CHILD_WORDS = "he said he will hurt me"


def alert(kind: str = "new", **kw: Any) -> AlertNotice:
    return AlertNotice(alert_ref="A-261124-K7QM3XPD", categories=("harm_by_others",), at="2026-11-24T10:00+00:00",
                       kind=kind, case_ref="C-1234", admin_url="https://ov.example/admin/alerts/A-261124-K7QM3XPD",
                       **kw)


@pytest.mark.parametrize("kind", ["new", "reminder", "escalation"])
def test_alert_notice_shows_references_and_time_only_with_acknowledge(kind: str) -> None:
    out = render_notice(alert(kind, level=1, overdue_minutes=30))
    text = " ".join(all_strings(out))
    for needed in ("A-261124-K7QM3XPD", "C-1234", "2026-11-24T10:00+00:00"):
        assert needed in text
    assert "harm_by_others" not in text  # no categories either: only references and the time
    acks = [e for row in elements(out) for e in row if e.get("action_id") == ACK_ACTION]
    assert [a["value"] for a in acks] == ["A-261124-K7QM3XPD"]
    links = [e for row in elements(out) for e in row if e.get("url")]
    assert links[0]["url"].endswith("/admin/alerts/A-261124-K7QM3XPD")
    if kind == "escalation":
        assert "30 minutes" in text


def test_test_notice_has_no_acknowledge_button() -> None:
    out = render_notice(AlertNotice(alert_ref="TEST-1", categories=(), at="now", kind="test"))
    assert not [e for row in elements(out) for e in row if e.get("action_id") == ACK_ACTION]


@pytest.mark.parametrize("notice", [
    StaffNotice.card_awaiting_triage("CC-42", "thanet", "https://ov.example/admin/cards/42"),
    StaffNotice.weekly_digest("2026-11-23", {"New answers": 57, "Cards awaiting triage": 3}, "https://ov.example/admin"),
    StaffNotice.report_ready("OCYPC November", "https://ov.example/admin/reports/ocypc"),
])
def test_staff_notices_render_with_a_link_and_work_for_email(notice: StaffNotice) -> None:
    out = render_notice(notice)
    text = " ".join(all_strings(out))
    assert notice.title in text
    assert [e["url"] for row in elements(out) for e in row] == [notice.link]
    assert notice.subject().startswith("[ourvoice] ") and notice.link in notice.body()
    assert notice.alert_ref  # the AlertNotifier logs it


def test_acknowledged_alert_loses_only_the_acknowledge_button() -> None:
    blocks = render_notice(alert())["blocks"]
    after = acknowledged_blocks(blocks, "✅ Acknowledged by jdoe")
    left = [e for b in after if b["type"] == "actions" for e in b["elements"]]
    assert [e.get("action_id") for e in left] == ["ov_open_admin"]
    assert after[-1]["elements"][0]["text"] == "✅ Acknowledged by jdoe"


# ------------------------------------------------------------------------------------------ signatures

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_signature_accepts_slacks_own_scheme() -> None:
    body = b'{"type":"event_callback"}'
    headers = sign_slack_request(SECRET, body)
    now = time.time()
    assert verify_signature(SECRET, body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], now=now)


@pytest.mark.parametrize("case", ["missing", "wrong_secret", "tampered_body", "stale", "future", "bad_timestamp",
                                  "no_secret_configured"])
def test_signature_rejections(case: str) -> None:
    body = b"token=x&command=%2Fourvoice"
    now = 1_800_000_000.0
    headers = sign_slack_request(SECRET, body, timestamp=int(now))
    ts, sig, secret, checked = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], SECRET, body
    if case == "missing":
        sig = ""
    elif case == "wrong_secret":
        sig = sign_slack_request("another-secret", body, timestamp=int(now))["X-Slack-Signature"]
    elif case == "tampered_body":
        checked = body + b"&text=hello"
    elif case == "stale":
        stale = sign_slack_request(SECRET, body, timestamp=int(now) - 301)
        ts, sig = stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"]
    elif case == "future":
        ahead = sign_slack_request(SECRET, body, timestamp=int(now) + 301)
        ts, sig = ahead["X-Slack-Request-Timestamp"], ahead["X-Slack-Signature"]
    elif case == "bad_timestamp":
        ts = "yesterday"
    elif case == "no_secret_configured":
        secret = ""
    assert not verify_signature(secret, checked, ts, sig, now=now)
    # ...and the untouched request still passes, so each case fails for its own reason.
    assert verify_signature(SECRET, body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], now=now)


def test_signature_within_five_minutes_passes() -> None:
    body = b"{}"
    now = 1_800_000_000.0
    headers = sign_slack_request(SECRET, body, timestamp=int(now) - 299)
    assert verify_signature(SECRET, body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"], now=now)


# ------------------------------------------------------------------------------------------ settings


def test_staff_user_map_parses_and_rejects_nonsense() -> None:
    assert parse_user_map(" U123ABC=jdoe , W456DEF=asmith ") == {"U123ABC": "jdoe", "W456DEF": "asmith"}
    assert parse_user_map("") == {}
    for bad in ("jdoe", "U123=", "=jdoe", "bob=jdoe"):
        with pytest.raises(ValueError, match="SLACKUSERID=staffusername"):
            parse_user_map(bad)
    with pytest.raises(ValidationError):
        SlackSettings(_env_file=None, staff_user_map="nonsense")  # type: ignore[call-arg]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    empty = SlackSettings(_env_file=None)  # type: ignore[call-arg]
    assert "OURVOICE_SLACK_BOT_TOKEN" in empty.problems(socket_mode=False)[0]
    monkeypatch.setenv("OURVOICE_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("OURVOICE_SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("OURVOICE_SLACK_API_BASE_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("OURVOICE_SLACK_STAFF_USER_MAP", "U1AB=jdoe")
    s = SlackSettings(_env_file=None)  # type: ignore[call-arg]
    assert s.configured and s.api_base_url == "http://127.0.0.1:9/api/"
    assert s.staff_users() == {"U1AB": "jdoe"}
    assert s.problems(socket_mode=False) == []
    assert "OURVOICE_SLACK_APP_TOKEN" in s.problems(socket_mode=True)[0]
