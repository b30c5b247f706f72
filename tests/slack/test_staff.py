"""Staff notifications in Slack: alerts (references and time only) with an Acknowledge button that records
the mapped staff member and is audited, delivery while the database is down, 429s, and other notices."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.alerts import AlertNotice, StaffNotice
from bot.runtime import Runtime, build_runtime
from bot.slack_service import SlackService
from content.loader import Library
from storage import alerts as alert_store
from storage import audit, inbound
from storage import staff as staff_store
from storage.db import make_engine, session
from tests.conftest import fixed_now, make_settings
from tests.fakes.slack_api import block_actions_payload, dm_message_event, event_callback
from tests.slack.conftest import (
    STAFF_CHANNEL,
    TOKEN,
    SlackFake,
    buttons_of,
    post_action,
    post_event,
    row_counts,
    running,
)

FLAGGED = "he said he will hurt me if i tell anyone"
YP = "U0YOUNG01"
DUTY = "U0DUTY001"  # mapped to jdoe, safeguarding lead
WORKER = "U0WORK001"  # mapped to pworker, participation worker (may not acknowledge)
STRANGER = "U0NOBODY1"  # not mapped
USER_MAP = f"{DUTY}=jdoe,{WORKER}=pworker"


@pytest.fixture
def staff_rt(sqlite_url: str, tmp_path: Path, library: Library, fake: SlackFake,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A runtime whose alert notifier was built from OURVOICE_SLACK_* (the runtime's own wiring), with staff."""
    monkeypatch.setenv("OURVOICE_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("OURVOICE_SLACK_STAFF_CHANNEL", STAFF_CHANNEL)
    monkeypatch.setenv("OURVOICE_SLACK_API_BASE_URL", fake.api_url)
    # safe_reply_within 5 s, not 0.8: Slack's retry of a flagged message must be stored (and acknowledged) even
    # when two test workers load the machine (see tests/slack/conftest.py::rt).
    rt = build_runtime(make_settings(sqlite_url, tmp_path, public_url="https://ov.example", safe_reply_within=5.0),
                       library=library)
    assert [r.route.name for r in rt.notifier.recipients] == ["slack"]
    rt.notifier.retry_seconds = 0.05
    with session(rt.engine) as s:
        staff_store.create(s, username="jdoe", role="safeguarding_lead", districts=[], password_hash="x",
                           now=fixed_now())
        staff_store.create(s, username="pworker", role="participation_worker", districts=["east"],
                           password_hash="x", now=fixed_now())
    yield rt
    rt.notifier.stop()


def staff_messages(fake: SlackFake) -> list[dict[str, Any]]:
    return fake.posted_messages(STAFF_CHANNEL)


def strings(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def ack_payload(user: str, message: dict[str, Any]) -> dict[str, Any]:
    (button,) = [b for b in buttons_of(message) if b["action_id"] == "ov_alert_ack"]
    payload = block_actions_payload(user, button["action_id"], button["value"], channel=STAFF_CHANNEL,
                                    message_ts=message["_ts"])
    payload["message"].update(text=message["text"], blocks=message["blocks"])
    return payload


async def raise_alert(client: httpx.AsyncClient, service: SlackService, fake: SlackFake) -> tuple[str, dict]:
    resp = await post_event(client, event_callback(dm_message_event(YP, FLAGGED)))
    assert resp.status_code == 200
    await service.wait_idle()
    await fake.wait_for(lambda: len(staff_messages(fake)) == 1)
    message = staff_messages(fake)[0]
    (ref,) = [b["value"] for b in buttons_of(message) if b["action_id"] == "ov_alert_ack"]
    return ref, message


def ack_rows(rt: Runtime) -> list[Any]:
    with session(rt.engine) as s:
        return [(e.actor, e.action, e.target, e.detail) for e in audit.entries(s, action="alert.ack")]


def alert_state(rt: Runtime, ref: str) -> tuple[str, str | None]:
    with session(rt.engine) as s:
        a = alert_store.get(s, ref)
        assert a is not None
        return a.status, a.acknowledged_by


async def test_alert_posted_and_acknowledged_from_slack(staff_rt: Runtime, fake: SlackFake) -> None:
    async with running(staff_rt, fake, staff_user_map=USER_MAP) as (client, service):
        ref, message = await raise_alert(client, service, fake)
        # The young person got the safe reply in their DM; staff got references and the time, not the words.
        assert "hurt" not in strings(message) and "tell anyone" not in strings(message)
        assert ref in message["text"] and "https://ov.example/admin/alerts/" + ref in strings(message)
        assert any("999" in m["text"] for m in fake.posted_messages(f"D{YP}"))
        assert alert_state(staff_rt, ref) == ("open", None)

        resp = await post_action(client, ack_payload(DUTY, message))
        await service.wait_idle()
        assert resp.status_code == 200
        assert alert_state(staff_rt, ref) == ("acknowledged", "jdoe")
        assert ack_rows(staff_rt) == [("jdoe", "alert.ack", ref, f"via=slack slack_user={DUTY}")]
        with session(staff_rt.engine) as s:
            assert audit.verify(s) == []  # the chain still holds
        # The alert message now says who picked it up, and its Acknowledge button is gone.
        (update,) = fake.calls_to("chat.update")
        assert update.params["ts"] == message["_ts"] and update.params["channel"] == STAFF_CHANNEL
        assert "Acknowledged by jdoe" in strings(update.params["blocks"])
        assert "ov_alert_ack" not in strings(update.params["blocks"])
        # ...and the young person is told someone has read it (the follow-up, via the outbox).
        await fake.wait_for(lambda: any("following it up" in m["text"] for m in fake.posted_messages(f"D{YP}")))

        # A second press (a colleague, or the same person again) records nothing new.
        resp = await post_action(client, ack_payload(DUTY, message))
        await service.wait_idle()
        assert len(ack_rows(staff_rt)) == 1
        assert "Already picked up by jdoe" in strings(fake.calls_to("chat.update")[-1].params["blocks"])


@pytest.mark.parametrize(("user", "why"), [(STRANGER, "isn't linked"), (WORKER, "can't acknowledge")])
async def test_acknowledge_refused_for_unmapped_or_unauthorised_staff(
    staff_rt: Runtime, fake: SlackFake, user: str, why: str
) -> None:
    async with running(staff_rt, fake, staff_user_map=USER_MAP) as (client, service):
        ref, message = await raise_alert(client, service, fake)
        before = row_counts(staff_rt)
        resp = await post_action(client, ack_payload(user, message))
        await service.wait_idle()
        assert resp.status_code == 200
        assert alert_state(staff_rt, ref) == ("open", None)
        assert ack_rows(staff_rt) == []
        assert row_counts(staff_rt) == before
        (note,) = fake.calls_to("chat.postEphemeral")
        assert note.params["user"] == user and why in note.params["text"]
        assert not fake.calls_to("chat.update")


async def test_acknowledge_only_from_the_staff_channel(staff_rt: Runtime, fake: SlackFake) -> None:
    async with running(staff_rt, fake, staff_user_map=USER_MAP) as (client, service):
        ref, message = await raise_alert(client, service, fake)
        payload = ack_payload(DUTY, message)
        payload["channel"]["id"] = payload["container"]["channel_id"] = "C0ELSEWHERE"
        await post_action(client, payload)
        await service.wait_idle()
        assert alert_state(staff_rt, ref) == ("open", None)
        assert "staff channel" in fake.calls_to("chat.postEphemeral")[0].params["text"]


async def test_alert_reaches_slack_while_the_database_is_down(staff_rt: Runtime, fake: SlackFake) -> None:
    async with running(staff_rt, fake, staff_user_map=USER_MAP) as (client, service):
        real = staff_rt.dispatcher.engine
        dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/postgres?connect_timeout=1")
        staff_rt.dispatcher.engine = staff_rt.engine = dead
        envelope = event_callback(dm_message_event(YP, FLAGGED), event_id="Ev0DOWN001")
        try:
            resp = await post_event(client, envelope)
            assert resp.status_code == 500  # not stored: Slack will deliver it again
            await service.wait_idle()
            await fake.wait_for(lambda: len(staff_messages(fake)) == 1, timeout=5)  # well within a scheduler tick
            assert "hurt" not in strings(staff_messages(fake)[0])
            dm = fake.posted_messages(f"D{YP}")
            assert len(dm) == 1 and "999" in dm[0]["text"]  # the safe reply went at once, from memory
            # Pressing Acknowledge now cannot be recorded; the person pressing is told so.
            await post_action(client, ack_payload(DUTY, staff_messages(fake)[0]))
            await service.wait_idle()
            assert "isn't reachable" in fake.calls_to("chat.postEphemeral")[0].params["text"]
        finally:
            staff_rt.dispatcher.engine = staff_rt.engine = real
            dead.dispose()
        # Slack's retry is stored once, the alert record written, and the safe reply not sent twice.
        resp = await post_event(client, envelope, **{"X-Slack-Retry-Num": "1"})
        await service.wait_idle()
        assert resp.status_code == 200
        with session(staff_rt.engine) as s:
            assert inbound.count(s) == 1
            assert len(alert_store.open_alerts(s)) == 1
        safe = [m for m in fake.posted_messages(f"D{YP}") if "999" in m["text"]]
        assert len(safe) == 1
        assert len(staff_messages(fake)) == 1  # one alert, one notice


async def test_staff_notices_and_429s_reach_the_channel(staff_rt: Runtime, fake: SlackFake) -> None:
    fake.rate_limit(2, retry_after=1)
    notice = StaffNotice.report_ready("OCYPC November", "https://ov.example/admin/reports/ocypc")
    assert staff_rt.notifier.notify(notice) == 1
    escalation = AlertNotice(alert_ref="A-261124-ESCALATE", categories=("self_harm",), at="2026-11-24T10:30+00:00",
                             kind="escalation", level=1, overdue_minutes=30)
    staff_rt.notifier.notify(escalation)
    await fake.wait_for(lambda: len(staff_messages(fake)) == 2, timeout=10)
    assert [c.status for c in fake.calls_to("chat.postMessage")][:2] == [429, 429]
    report, esc = staff_messages(fake)
    assert "Report ready: OCYPC November" in report["text"] and "/admin/reports/ocypc" in strings(report)
    assert "ESCALATED" in esc["text"] and "30 minutes" in strings(esc) and "self_harm" not in strings(esc)


# -- staff notices that are not alerts (admin/jobs/staff_notices.py) --------------------------------

CARD_WORDS = "the bus to school is always late"


def add_card(rt: Runtime, council: str = "ocypc", *, personal: bool = False, held: bool = False) -> int:
    from storage import challenges

    with session(rt.engine) as s:
        return challenges.create(s, raised_by=None, council=council, challenge=CARD_WORDS, why="PRIVATE-WHY",
                                 who_for=["just_me"] if personal else ["everyone"], personal=personal,
                                 quarantined=held, submission_id=None, now=fixed_now()).id


async def test_each_new_card_is_announced_once_with_references_only(staff_rt: Runtime, fake: SlackFake) -> None:
    from admin.jobs import staff_notices

    first, second = add_card(staff_rt), add_card(staff_rt, "yac", personal=True, held=True)
    assert staff_notices.new_cards(staff_rt, now=fixed_now()) == "cards=2"
    await fake.wait_for(lambda: len(staff_messages(fake)) == 2)
    one, two = staff_messages(fake)
    assert f"#{first}" in one["text"] and f"https://ov.example/admin/cards/{first}" in strings(one)
    assert f"#{second}" in two["text"] and "own situation" in strings(two) and "Held back" in strings(two)
    for m in (one, two):
        assert CARD_WORDS not in strings(m) and "PRIVATE-WHY" not in strings(m)
    # The next run finds nothing new; a card raised later is announced on its own.
    assert staff_notices.new_cards(staff_rt, now=fixed_now()) == "cards=0"
    third = add_card(staff_rt)
    assert staff_notices.new_cards(staff_rt, now=fixed_now()) == "cards=1"
    await fake.wait_for(lambda: len(staff_messages(fake)) == 3)
    assert f"#{third}" in staff_messages(fake)[2]["text"]


async def test_weekly_digest_counts_work_and_hides_small_counts_of_people(
    staff_rt: Runtime, fake: SlackFake
) -> None:
    from admin.jobs import staff_notices

    for _ in range(3):
        add_card(staff_rt)
    staff_notices.weekly_digest(staff_rt, now=fixed_now())
    await fake.wait_for(lambda: len(staff_messages(fake)) == 1)
    text = strings(staff_messages(fake)[0])
    assert "Weekly digest" in text
    assert "Challenge cards waiting for triage: 3" in text  # work for staff: exact, as in the admin
    assert "Challenge cards raised this week: fewer than 5" in text  # young people's contributions: < 5 hidden
    assert "Conversations and surveys finished this week: fewer than 5" in text
    assert CARD_WORDS not in text


async def test_report_ready_links_to_the_reports_page(staff_rt: Runtime, fake: SlackFake) -> None:
    from admin.jobs import staff_notices

    staff_notices.report_ready(staff_rt, "update for the Panel on 14 January 2027", now=fixed_now())
    await fake.wait_for(lambda: len(staff_messages(fake)) == 1)
    message = staff_messages(fake)[0]
    assert "Report ready: update for the Panel on 14 January 2027" in message["text"]
    assert "https://ov.example/admin/reports" in strings(message)


async def test_with_slack_and_a_team_address_both_get_each_notice(staff_rt: Runtime, fake: SlackFake) -> None:
    from admin.jobs import staff_notices
    from bot.channels.email import EmailSettings
    from tests.fakes.smtp_sink import SmtpSink
    from tests.support.email import send_queued_email

    with SmtpSink() as sink:
        staff_rt.settings = staff_rt.settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
        staff_rt.email_settings = EmailSettings(_env_file=None, participation_to="pt@council.invalid")  # type: ignore[call-arg]
        card = add_card(staff_rt)
        assert staff_notices.new_cards(staff_rt, now=fixed_now()) == "cards=1"
        await fake.wait_for(lambda: len(staff_messages(fake)) == 1)
        await asyncio.to_thread(send_queued_email, staff_rt, now=fixed_now())
        (mail,) = sink.messages
    assert f"#{card}" in staff_messages(fake)[0]["text"]
    assert mail["To"] == "pt@council.invalid" and f"#{card}" in mail["Subject"]
    assert CARD_WORDS not in mail.as_string() and "PRIVATE-WHY" not in mail.as_string()


def test_without_a_staff_channel_cards_wait_to_be_announced(sqlite_url: str, tmp_path: Path, library: Library) -> None:
    from admin.jobs import staff_notices
    from storage import challenges

    rt = build_runtime(make_settings(sqlite_url, tmp_path), library=library)
    assert not rt.notifier.has_staff_channel
    add_card(rt)
    assert staff_notices.new_cards(rt, now=fixed_now()) == "no staff channel"
    assert staff_notices.weekly_digest(rt, now=fixed_now()) == "no staff channel"
    with session(rt.engine) as s:
        assert len(challenges.awaiting_staff_notice(s)) == 1  # still there for when a channel is set up
