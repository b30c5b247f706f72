"""Answers given in a flagged message are quarantined (typed choices and skips too) and their words leave
the conversation state; picking an alert up queues one follow-up to the young person; redelivery and
unexpected errors never lose an alert."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.engine import StepContext
from bot.runtime import Runtime
from content.schema import text_for
from storage import alerts as alert_store
from storage.db import session
from storage.models import Alert, Answer, Conversation, OutboxMessage
from tests.alerts.conftest import Clock, WebChat, tick, walk_to_choice_question, walk_to_text_question
from tests.conftest import fixed_now
from tests.helpers import Person


def answers(rt: Runtime) -> dict[str, Answer]:
    with session(rt.engine) as s:
        return {a.question_id: a for a in s.execute(select(Answer)).scalars()}


def test_every_answer_of_a_flagged_message_is_quarantined(rt: Runtime) -> None:
    p = Person(rt.dispatcher, "q1", now=fixed_now())
    walk_to_text_question(p)
    p.text("my carer locks me in my room with no food")
    got = answers(rt)
    assert got["anything_else"].quarantined
    assert not any(a.quarantined for q, a in got.items() if q != "anything_else")  # earlier, unflagged ones
    with session(rt.engine) as s:
        (conv,) = s.execute(select(Conversation)).scalars()
    assert "locks me" not in conv.state_json  # only the quarantined answer row keeps the words


def test_a_skip_sent_with_flagged_words_is_quarantined_too(rt: Runtime) -> None:
    p = Person(rt.dispatcher, "q2", now=fixed_now())
    walk_to_choice_question(p)
    result = p.command("skip", "he hits me")
    assert result.flagged
    first_day = answers(rt)["first_day"]
    assert first_day.skipped
    assert first_day.quarantined


def test_typed_choice_in_flagged_message_is_quarantined(make_rt: Any, sqlite_url: str, tmp_path: Any) -> None:
    """A choice answer typed as a label inside a flagged message (content where a label itself flags)."""
    import shutil

    import content

    src = __import__("pathlib").Path(content.__file__).parent
    dst = tmp_path / "content"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    topic = dst / "topics" / "good_foster_carer.yaml"
    topic.write_text(
        topic.read_text(encoding="utf-8").replace(
            'label: "Some quiet time to settle in"', 'label: "Help me"'
        ),
        encoding="utf-8",
    )
    rt = make_rt(sqlite_url, content_dir=str(dst))
    p = Person(rt.dispatcher, "q3", now=fixed_now())
    walk_to_choice_question(p)
    assert "Help me" in p.buttons
    result = p.text("help me")
    assert result.flagged
    first_day = answers(rt)["first_day"]
    assert json.loads(first_day.value_json) == "quiet_time"
    assert first_day.quarantined


def test_followup_is_queued_once_when_picked_up(
    rt: Runtime, clock: Clock, sink: Any, monkeypatch: Any
) -> None:
    chat = WebChat(rt, clock, monkeypatch)
    chat.text("hello")
    chat.press("I'm 7 to 11")
    chat.text("my brother hurts me every day")
    sink.wait_for(1)
    later = clock.now + timedelta(minutes=5)
    with session(rt.engine) as s:
        (alert,) = alert_store.open_alerts(s)
        alert_store.acknowledge(s, alert, staff="Sam Duty", now=later)
    assert tick(rt, later).endswith("followups=1")
    with session(rt.engine) as s:
        alert = s.execute(select(Alert)).scalar_one()
        alert_store.close(s, alert, staff="Sam Duty", outcome="Visited with social worker", closed_at=later)
    assert tick(rt, later + timedelta(minutes=1)).endswith("followups=0")  # once only
    expected = text_for(rt.library.string("safe_followup"), "junior")
    with session(rt.engine) as s:
        notices = [
            r for r in s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars()
        ]
        assert [json.loads(r.payload_json)["text"] for r in notices] == [expected]
        assert s.execute(select(Alert)).scalar_one().followup_sent
    clock.now = later + timedelta(minutes=2)
    chat.text("hi")
    assert expected in chat.texts


def test_followup_wording_uses_configured_numbers(make_rt: Any, sqlite_url: str, sink: Any) -> None:
    rt = make_rt(sqlite_url, duty_number="01234 567890")
    p = Person(rt.dispatcher, "tg-1", channel="telegram", now=fixed_now())
    p.text("hello")
    p.press("I'm 16 to 25")
    p.text("i want to die")
    with session(rt.engine) as s:
        (alert,) = alert_store.open_alerts(s)
        alert_store.acknowledge(s, alert, staff="Sam Duty", now=fixed_now())
    tick(rt, fixed_now())
    with session(rt.engine) as s:
        (row,) = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars()
    text = json.loads(row.payload_json)["text"]
    assert "01234 567890" in text
    assert "999" in text
    assert row.channel == "telegram"
    assert row.status == "pending"
    assert row.address_enc is not None


def test_redelivered_flagged_message_makes_one_alert_and_one_email(rt: Runtime, sink: Any) -> None:
    p = Person(rt.dispatcher, "tg-2", channel="telegram", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    first = p.text("my stepdad hits me", message_id="same-id")
    again = p.text("my stepdad hits me", message_id="same-id")
    assert again.duplicate
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    rt.notifier.wait_idle()
    assert len(sink.wait_for(1)) == 1
    with session(rt.engine) as s:
        assert len(list(s.execute(select(Alert)).scalars())) == 1


def test_unexpected_error_still_gives_safe_reply_and_keeps_the_alert(rt: Runtime, sink: Any) -> None:
    p = Person(rt.dispatcher, "err", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    working = rt.dispatcher.context

    def broken(*_: Any) -> StepContext:
        raise RuntimeError("a bug somewhere in a feature")

    rt.dispatcher.context = broken
    result = p.text("my carer locks me in my room with no food")
    assert result.flagged
    assert [r.text for r in result.replies] == [rt.dispatcher.safe_reply("default", fixed_now()).text]
    sink.wait_for(1)
    rt.dispatcher.context = working
    assert tick(rt, fixed_now()).startswith("spool_written=1")
