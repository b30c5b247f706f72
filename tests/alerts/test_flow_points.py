"""A must-flag message at any point of a conversation on the web chat gets the safe reply first, and the
duty inbox gets an alert email (no words, just references) within one scheduler tick."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.messages import Outbound
from bot.runtime import Runtime
from content.schema import text_for
from storage import alerts as alert_store
from storage.db import session
from storage.models import Alert, OutboxMessage
from tests.alerts.conftest import (
    DUTY,
    Clock,
    WebChat,
    recipients,
    tick,
    walk_to_choice_question,
    walk_to_text_question,
)
from tests.conftest import fixed_now
from tests.helpers import Person


def at_menu(chat: WebChat) -> None:
    chat.text("hello")
    chat.press("I'm 11 to 16")


def in_welcome_before_choosing_age(chat: WebChat) -> None:
    chat.text("hello")


def while_paused(chat: WebChat) -> None:
    at_menu(chat)
    chat.press("🗣")
    chat.command("stop")


POINTS: dict[str, tuple[Callable[[Any], None], str, str]] = {
    # name: (how to get there, what the person then types, band of the safe reply)
    "menu": (at_menu, "i want to kill myself", "teen"),
    "welcome question": (in_welcome_before_choosing_age, "help me please", "teen"),
    "mid-topic text question": (walk_to_text_question, "my foster dad hits me when he is drunk", "teen"),
    "choice question, typed": (walk_to_choice_question, "i dont feel safe at home", "teen"),
    "while paused": (while_paused, "someone online keeps asking me for pics and says dont tell", "teen"),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_flagged_message_anywhere_gets_safe_reply_then_email(
    point: str, rt: Runtime, clock: Clock, sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk, message, band = POINTS[point]
    assert rt.dispatcher.check(Outbound_text(message)).flagged  # precondition: the lexicon flags it
    chat = WebChat(rt, clock, monkeypatch)
    walk(chat)
    assert sink.messages == []  # nothing flagged on the way
    data = chat.text(message)

    assert chat.texts[0] == rt.dispatcher.safe_reply(band, clock.now).text  # safe reply first
    assert len(data["replies"]) == 1  # ...and nothing else is said to that message
    assert all(message not in t for t in chat.texts)  # never echoed
    chat.text("ok")  # the conversation carries on when the person writes again
    assert chat.texts and chat.texts[0] != rt.dispatcher.safe_reply(band, clock.now).text

    assert tick(rt, clock.now) is not None  # one scheduler tick
    mails = sink.wait_for(1)
    assert recipients(sink) == [DUTY]  # first contact only; escalation contacts later
    with session(rt.engine) as s:
        alerts = list(s.execute(select(Alert)).scalars())
        assert len(alerts) == 1
        assert alerts[0].status == "open"
        assert alerts[0].participant_id is not None
        assert alerts[0].alert_ref in mails[0]["Subject"]
    body = mails[0].get_content()
    assert message not in body
    assert "Categories:" in body


def Outbound_text(text: str) -> Any:
    from bot.messages import Inbound

    return Inbound("web", "precondition", "p-1", "text", text=text)


def test_before_onboarding_with_invite_only(
    make_rt: Callable[..., Runtime], sqlite_url: str, clock: Clock, sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone not (yet) let in still gets the safe reply and an alert, with no participant to link."""

    def invite_only(s: Any, msg: Any, key_hash: str, now: Any) -> list[Outbound]:
        return [Outbound(text=text_for(lib.string("not_invited"), "default"))]

    rt = make_rt(sqlite_url, invite_only=True, runtime_kwargs={"onboarding": invite_only})
    lib = rt.library
    chat = WebChat(rt, clock, monkeypatch)
    chat.text("hi")
    assert chat.texts == [text_for(lib.string("not_invited"), "default")]
    chat.text("my mums boyfriend touches me and i want to run away")
    assert chat.texts[0] == rt.dispatcher.safe_reply("default", clock.now).text
    assert "code" in chat.texts[1]  # then how to get in
    tick(rt, clock.now)
    sink.wait_for(1)
    with session(rt.engine) as s:
        (alert,) = alert_store.all_alerts(s)
        assert alert.participant_id is None
        assert alert.case_ref is None


def test_push_channel_queues_safe_reply_first(rt: Runtime, sink: Any) -> None:
    """On channels the outbox sender delivers (Telegram, Slack) the safe reply is the first pending row."""
    p = Person(rt.dispatcher, "tg-42", channel="telegram", now=fixed_now())
    p.text("hello")
    p.press("I'm 16 to 25")
    result = p.text("i'm going to end it tonight")
    assert result.flagged
    with session(rt.engine) as s:
        rows = [s.get(OutboxMessage, i) for i in result.outbox_ids]
    assert rows[0] is not None
    assert rows[0].kind == "safe_reply"
    assert rows[0].status == "pending"
    assert rows[0].address_enc is not None  # the sender knows where to deliver it
    sink.wait_for(1)
