"""HTTP mode through the real Bolt AsyncApp on the shared ASGI app: signatures checked before anything is
stored, commit before acknowledge, retries processed once, a full carer survey by buttons, every
non-message event kind, and the slash command."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from bot.runtime import Runtime
from bot.slack_service import SlackService
from storage import inbound
from storage.db import session
from tests.fakes.slack_api import (
    block_actions_payload,
    dm_message_event,
    event_callback,
    json_body,
    sign_slack_request,
    slash_command_form,
)
from tests.slack.conftest import (
    SECRET,
    URL,
    SlackFake,
    SlackUser,
    all_text,
    buttons_of,
    participant_answers,
    post_action,
    post_event,
    post_form,
    row_counts,
)

Slack = tuple[httpx.AsyncClient, SlackService]


def inbound_count(rt: Runtime) -> int:
    with session(rt.engine) as s:
        return inbound.count(s)


# ------------------------------------------------------------------------------------------ signatures


async def test_url_verification_is_answered(slack: Slack) -> None:
    client, _ = slack
    resp = await post_event(client, {"token": "t", "challenge": "c-123", "type": "url_verification"})
    assert resp.status_code == 200
    assert resp.json() == {"challenge": "c-123"}


async def test_bad_signatures_are_refused_before_anything_is_stored(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    # Something in every table first would be nicer, but the point is: nothing changes. Warm up with one real
    # message so the participant, conversation, inbound and outbox tables are not empty.
    me = SlackUser(client, service, fake, "U0WARM01")
    assert (await me.say("hi")).status_code == 200
    before = row_counts(rt)
    assert before["inbound_event"] == 1
    calls_before = len(fake.calls)

    body = json_body(event_callback(dm_message_event("U0EVIL01", "I want to hurt myself")))
    good = sign_slack_request(SECRET, body)
    cases: dict[str, dict[str, str]] = {
        "missing": {},
        "missing_timestamp": {"X-Slack-Signature": good["X-Slack-Signature"]},
        "wrong": sign_slack_request("not-the-secret", body),
        "stale": sign_slack_request(SECRET, body, timestamp=int(time.time()) - 301),
        "future": sign_slack_request(SECRET, body, timestamp=int(time.time()) + 400),
        "tampered": {**good},
    }
    for name, headers in cases.items():
        sent = body.replace(b"hurt myself", b"hurt myselF") if name == "tampered" else body
        resp = await client.post(URL, content=sent, headers={"Content-Type": "application/json", **headers})
        assert resp.status_code == 401, name
    await service.wait_idle()
    assert row_counts(rt) == before  # zero writes in every table
    assert len(fake.calls) == calls_before  # no reply, no alert, nothing sent
    assert service.runner.handled == 1
    # The same body, properly signed, is accepted: each rejection above was the signature's doing.
    resp = await client.post(URL, content=body, headers={"Content-Type": "application/json", **good})
    assert resp.status_code == 200
    assert inbound_count(rt) == 2


async def test_replayed_and_retried_events_are_processed_once(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    envelope = event_callback(dm_message_event("U0CARER01", "hello"), event_id="Ev0REPLAY01")
    body = json_body(envelope)
    headers = {"Content-Type": "application/json", **sign_slack_request(SECRET, body)}
    first = await client.post(URL, content=body, headers=headers)
    await service.wait_idle()
    replies = len(fake.posted_messages())
    assert first.status_code == 200 and replies >= 1
    counts = row_counts(rt)
    # An attacker replaying the exact request (inside the 5 minutes), and Slack retrying with a new signature.
    replay = await client.post(URL, content=body, headers=headers)
    retry = await post_event(client, envelope, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    await service.wait_idle()
    assert replay.status_code == retry.status_code == 200
    assert len(fake.posted_messages()) == replies  # answered once
    assert row_counts(rt) == counts  # stored once
    assert inbound_count(rt) == 1


async def test_store_then_acknowledge_then_send(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    """The 200 goes back once the event is committed, before any reply reaches Slack."""
    client, service = slack
    fake.rate_limit(1, retry_after=1)  # the first reply has to wait a second
    resp = await post_event(client, event_callback(dm_message_event("U0CARER01", "hello")))
    assert resp.status_code == 200
    assert inbound_count(rt) == 1  # committed before the acknowledgement
    assert not fake.posted_messages()  # and nothing delivered yet
    await service.wait_idle()
    assert fake.posted_messages("DU0CARER01")


async def test_storage_down_means_no_ack_so_slack_retries(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    envelope = event_callback(dm_message_event("U0CARER01", "hello"), event_id="Ev0OUTAGE1")
    real = rt.dispatcher.engine
    from storage.db import make_engine

    rt.dispatcher.engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/postgres?connect_timeout=1")
    try:
        resp = await post_event(client, envelope)
    finally:
        rt.dispatcher.engine = real
    assert resp.status_code == 500  # Slack will deliver it again
    await service.wait_idle()
    assert not fake.posted_messages()  # not answered with anything that pretends it was saved
    retry = await post_event(client, envelope, **{"X-Slack-Retry-Num": "1"})
    await service.wait_idle()
    assert retry.status_code == 200
    assert inbound_count(rt) == 1
    assert fake.posted_messages("DU0CARER01")


# ------------------------------------------------------------------------------------------ a whole survey


async def test_full_carer_checkin_by_buttons(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    carer = SlackUser(client, service, fake, "U0CARER01")
    await carer.say("hello")
    assert "I'm a foster carer" in carer.buttons()
    await carer.press("I'm a foster carer")
    assert any("Quick check-in" in b for b in carer.buttons())
    await carer.press("Quick check-in")
    # treated as a professional (agree scale: words), supervision, informed, recommend (1-5)
    for point in ("Neither", "5", "4", "4"):
        assert len(carer.buttons()) >= 5
        await carer.press(point)
    await carer.press("No")
    await carer.press("✅ Send my answers")
    assert any("Sent, thank you" in t for t in carer.texts()[-2:])
    answers, completed = participant_answers(rt, "U0CARER01", "carer_pulse")
    assert completed
    assert answers["treated_as_professional"] == 3 and answers["supervision_useful"] == 5 and answers["informed"] == 4
    assert answers["recommend"] == 4 and answers["thinking_of_stopping"] == "no"
    # Every answered message lost its buttons (chat.update on the exact message pressed).
    updates = fake.calls_to("chat.update")
    assert len(updates) == 8
    for call in updates:
        assert not [b for b in call.params["blocks"] if b["type"] == "actions"]
        assert call.params["blocks"][-1]["type"] == "context"
    pressed = {c.params["ts"] for c in updates}
    posted = {m["_ts"] for m in carer.messages() if buttons_of(m)}
    assert pressed <= posted


async def test_an_old_button_pressed_again_changes_nothing(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    carer = SlackUser(client, service, fake, "U0CARER02")
    await carer.say("hello")
    who = carer.keyboard_message()
    await carer.press("I'm a foster carer")
    profile_msgs = len(carer.messages())
    # A second click on the first message (e.g. from another device before the update reached it).
    resp = await post_action(client, carer.action_payload("I'm 7 to 11", who))
    await service.wait_idle()
    assert resp.status_code == 200
    with session(rt.engine) as s:
        from storage import participants

        found = participants.find_by_key(s, rt.keyring.identity_hash("slack", "U0CARER02"))
        assert found is not None and found[0].band == "carer"  # the stale press did not change who they are
    assert len(carer.messages()) >= profile_msgs


async def test_slash_command_opens_the_menu_and_answers_in_the_dm(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    carer = SlackUser(client, service, fake, "U0CARER03")
    resp = await carer.slash()
    assert resp.status_code == 200 and resp.content in (b"", b"null")
    assert carer.messages()[0]["channel"] == "U0CARER03"  # the app's DM with them
    # Typed in a public channel: the answer still goes to the DM, with a private pointer to it.
    form = slash_command_form("U0CARER03")
    form["channel_id"], form["channel_name"] = "C0GENERAL", "general"
    resp = await post_form(client, form)
    await service.wait_idle()
    assert resp.status_code == 200 and "direct messages" in resp.text  # an ephemeral reply to the command
    assert not fake.posted_messages("C0GENERAL")


# ------------------------------------------------------------------------------------------ other events


async def test_every_non_message_kind(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    user = "U0CARER04"
    dm = f"D{user}"
    carer = SlackUser(client, service, fake, user)
    await carer.say("hello")
    base = len(fake.posted_messages(dm))
    secret_words = "my social worker's phone number is 07700 900123"

    def dm_event(**extra: Any) -> dict[str, Any]:
        ev = dm_message_event(user, secret_words)
        ev.update(extra)
        return ev

    pdf = {"id": "F1", "name": "secret_letter.pdf", "mimetype": "application/pdf"}
    png = {"id": "F2", "name": "secret_photo.png", "mimetype": "image/png"}
    explained = [
        dm_event(subtype="file_share", files=[pdf]),
        dm_event(subtype="file_share", files=[png]),
        {"type": "message", "subtype": "message_changed", "channel": dm, "channel_type": "im", "ts": "1.2",
         "message": {"type": "message", "user": user, "text": secret_words, "ts": "1.1", "edited": {"user": user}}},
        {"type": "reaction_added", "user": user, "reaction": "heart", "item": {"type": "message", "channel": dm,
                                                                                 "ts": "1.1"}},
    ]
    for ev in explained:
        assert (await post_event(client, event_callback(ev))).status_code == 200
        await service.wait_idle()
    texts = [m["text"] for m in fake.posted_messages(dm)[base:]]
    assert len(texts) == len(explained)
    assert all("only read text and button taps" in t for t in texts), texts

    quiet = [
        dm_event(subtype="message_deleted"),
        dm_event(subtype="bot_message", bot_id="B9"),
        dm_event(bot_id="B1"),  # our own message echoed back
        {"type": "message", "subtype": "message_changed", "channel": dm, "channel_type": "im", "ts": "1.3",
         "message": {"type": "message", "user": user, "text": "link https://x.example", "ts": "1.1"}},  # unfurl
        {"type": "reaction_removed", "user": user, "reaction": "heart", "item": {"type": "message", "channel": dm}},
        {"type": "app_home_opened", "user": user, "channel": dm, "tab": "messages"},
        {"type": "channel_join", "user": user},
    ]
    before = row_counts(rt)
    for ev in quiet:
        assert (await post_event(client, event_callback(ev))).status_code == 200
    await service.wait_idle()
    assert len(fake.posted_messages(dm)) == base + len(explained)  # nothing said
    assert row_counts(rt) == before  # nothing stored

    pointed = [
        dm_event(channel="C0GENERAL", channel_type="channel"),
        dm_event(channel="G0MPIM01", channel_type="mpim"),
        {"type": "app_mention", "user": user, "channel": "C0GENERAL", "text": f"<@UBOT> {secret_words}", "ts": "1.5"},
    ]
    for ev in pointed:
        assert (await post_event(client, event_callback(ev))).status_code == 200
    await service.wait_idle()
    ephemeral = fake.calls_to("chat.postEphemeral")
    # one pointer each; the service answers events concurrently, so in any order
    assert sorted((c.params["channel"], c.params["user"]) for c in ephemeral) == sorted([
        ("C0GENERAL", user), ("G0MPIM01", user), ("C0GENERAL", user)])
    assert all("direct message" in c.params["text"] for c in ephemeral)
    assert row_counts(rt) == before
    assert not fake.posted_messages("C0GENERAL")

    # Whatever was in those payloads, none of it was kept.
    stored = all_text(rt)
    for secret in ("07700 900123", "secret_letter", "secret_photo", "heart"):
        assert secret not in stored


async def test_a_burst_from_one_person_is_answered_in_order(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    import asyncio

    client, service = slack
    user = "U0CARER05"
    await SlackUser(client, service, fake, user).say("hello")
    await post_action(client, SlackUser(client, service, fake, user).action_payload("I'm a foster carer"))
    await service.wait_idle()
    # Ten slash commands at once, concurrently: each stored once, replies in one DM, nothing lost.
    forms = [slash_command_form(user, text="help") for _ in range(10)]
    resps = await asyncio.gather(*(post_form(client, f) for f in forms))
    await service.wait_idle()
    assert [r.status_code for r in resps] == [200] * 10
    assert inbound_count(rt) == 12
    with session(rt.engine) as s:
        from storage import outbox

        assert outbox.pending_count(s, "slack") == 0


async def test_unsigned_garbage_and_oversized_bodies(rt: Runtime, slack: Slack) -> None:
    client, _ = slack
    before = row_counts(rt)
    assert (await client.post(URL, content=b"\xff\xfe not json")).status_code == 401
    big = b"x" * 1_000_001
    assert (await client.post(URL, content=big, headers=sign_slack_request(SECRET, big))).status_code == 413
    body = b"\xff\xfe"
    signed = {"Content-Type": "application/json", **sign_slack_request(SECRET, body)}
    assert (await client.post(URL, content=body, headers=signed)).status_code == 400
    assert row_counts(rt) == before


async def test_a_button_payload_without_a_dm_is_ignored(rt: Runtime, slack: Slack, fake: SlackFake) -> None:
    client, service = slack
    payload = block_actions_payload("U0CARER06", "ov:0", "3.1.0", channel="C0GENERAL", message_ts="1.1")
    before = row_counts(rt)
    resp = await post_action(client, payload)
    await service.wait_idle()
    assert resp.status_code == 200
    assert row_counts(rt) == before
    assert not fake.calls_to("chat.update")
    assert json.loads(json.dumps(payload))["channel"]["id"] == "C0GENERAL"


async def test_worrying_words_we_do_not_keep_still_get_the_safe_reply(
    rt: Runtime, slack: Slack, fake: SlackFake
) -> None:
    from sqlmodel import select

    from storage.models import Alert

    client, service = slack
    user = "U0CARER05"
    dm = f"D{user}"
    carer = SlackUser(client, service, fake, user)
    await carer.say("hello")
    worry = "zqxsentinel77 my dad hits me"
    events = [
        {**dm_message_event(user, worry), "subtype": "file_share",
         "files": [{"id": "F9", "name": "a.png", "mimetype": "image/png"}]},
        {"type": "message", "subtype": "message_changed", "channel": dm, "channel_type": "im", "ts": "2.2",
         "message": {"type": "message", "user": user, "text": worry, "ts": "2.1", "edited": {"user": user}}},
        {**dm_message_event(user, worry), "channel": "C0GENERAL", "channel_type": "channel"},
    ]
    base = len(fake.posted_messages(dm))
    for ev in events:
        assert (await post_event(client, event_callback(ev))).status_code == 200
        await service.wait_idle()
    texts = [m["text"] for m in fake.posted_messages(dm)[base:]]
    assert sum("999" in t and "0800 1111" in t for t in texts) == 2  # the file comment and the edit
    (pointer,) = fake.calls_to("chat.postEphemeral")  # the channel message: only they see the safe reply
    assert pointer.params["channel"] == "C0GENERAL" and "0800 1111" in pointer.params["text"]
    assert not fake.posted_messages("C0GENERAL")
    with session(rt.engine) as s:
        assert len(s.exec(select(Alert)).all()) == 3
    assert "zqxsentinel77" not in all_text(rt)
    assert "zqxsentinel77" not in " ".join(texts) + pointer.params["text"]
