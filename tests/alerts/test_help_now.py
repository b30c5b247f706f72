""""I need help now", always: a button in every young person's menu (every age band) and a line with a
one-tap button in /help. Pressing it needs no typing: the safe reply comes at once and an alert is raised
(category not_safe, marked as a help request, no words in the email), then the person carries on where
they were. Driven through the dispatcher for each band, the web chat over HTTP, and Telegram (real PTB)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.dispatcher import HELP_NOW
from bot.runtime import Runtime
from storage.db import session
from storage.models import Alert
from tests.alerts.conftest import DUTY, Clock, WebChat, recipients
from tests.conftest import fixed_now
from tests.helpers import Person
from tests.telegram.conftest import TgUser, services, settle, tg  # noqa: F401 - fixtures used below

BANDS = {"junior": "I'm 7 to 11", "teen": "I'm 11 to 16", "young_adult": "I'm 16 to 25"}
LABEL = "🆘 I need help now"


def alerts(rt: Runtime) -> list[Alert]:
    with session(rt.engine) as s:
        return list(s.execute(select(Alert)).scalars())


@pytest.fixture
def rt(make_rt: Callable[..., Runtime], sqlite_url: str) -> Runtime:
    return make_rt(sqlite_url)


@pytest.mark.parametrize("band", list(BANDS))
def test_every_band_has_the_button_in_its_menu_and_it_raises_a_help_request(
    rt: Runtime, sink: Any, band: str
) -> None:
    p = Person(rt.dispatcher, f"help-{band}", now=fixed_now())
    p.text("hello")
    p.press(BANDS[band])
    p.command("menu")
    assert LABEL in p.buttons
    result = p.press(LABEL)
    assert result.flagged and result.stored
    assert p.last[0].text == rt.dispatcher.safe_reply(band, fixed_now()).text
    assert len(p.last) == 1  # nothing else is said to it (issue 23 item 4)...
    p.text("ok")
    assert LABEL in p.buttons  # ...and writing again brings them back to where they were, button and all
    (alert,) = alerts(rt)
    assert alert.categories.split(",")[:2] == ["not_safe", "help_request"]
    assert alert.participant_id is not None
    (mail,) = sink.wait_for(1)
    assert recipients(sink) == [DUTY]
    assert "not_safe" in mail.get_content() and "help_request" in mail.get_content()


@pytest.mark.parametrize("band", list(BANDS))
def test_help_has_a_line_with_the_one_tap_button(rt: Runtime, band: str) -> None:
    p = Person(rt.dispatcher, f"helpline-{band}", now=fixed_now())
    p.text("hello")
    p.press(BANDS[band])
    p.command("help")
    line = next(r for r in p.last if any(c.token == HELP_NOW for c in r.choices))
    assert "help right now" in line.text and [c.label for c in line.choices] == [LABEL]
    p.press(LABEL)
    assert p.last[0].text == rt.dispatcher.safe_reply(band, fixed_now()).text
    assert len(alerts(rt)) == 1


def test_mid_survey_the_person_carries_on_where_they_were(rt: Runtime) -> None:
    p = Person(rt.dispatcher, "help-mid", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    p.press("🗣")
    question = p.last[-1].text
    p.command("help")
    p.press(LABEL)
    assert p.last[0].text == rt.dispatcher.safe_reply("teen", fixed_now()).text
    p.text("ok")
    assert question in p.said  # the same question again once they write, nothing lost


def test_carers_menu_is_unchanged(rt: Runtime) -> None:
    p = Person(rt.dispatcher, "carer-1", now=fixed_now())
    p.text("hello")
    p.press("I'm a foster carer")
    p.command("menu")
    assert LABEL not in p.buttons


def test_web_chat_button(rt: Runtime, sink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = WebChat(rt, Clock(fixed_now()), monkeypatch)
    chat.text("hello")
    chat.press("I'm 11 to 16")
    chat.command("menu")
    data = chat.press(LABEL)
    assert data["replies"][0]["text"] == rt.dispatcher.safe_reply("teen", fixed_now()).text
    (alert,) = alerts(rt)
    assert alert.channel == "web" and "help_request" in alert.categories
    sink.wait_for(1)


async def test_telegram_button(tg: Any, rt: Runtime, services: Any, sink: Any) -> None:  # noqa: F811
    svc = services(rt)
    await svc.start()
    u = TgUser(tg, 7171)
    u.say("/start")
    await settle(tg, svc)
    u.press("I'm 11 to 16")
    await settle(tg, svc)
    u.say("/help")
    await settle(tg, svc)
    before = len(u.texts())
    message = next(m for m in reversed(tg.bot_messages(7171)) if "help right now" in m["text"])
    button = next(b for row in message["reply_markup"]["inline_keyboard"] for b in row if b["text"] == LABEL)
    tg.push_update(tg.callback_update(7171, button["callback_data"], message_id=message["message_id"]))
    await settle(tg, svc)
    assert u.texts()[before].startswith(rt.dispatcher.safe_reply("teen", fixed_now()).text)
    (alert,) = alerts(rt)
    assert alert.channel == "telegram" and "help_request" in alert.categories
    await sink.wait_for_async(1)


def test_the_menus_help_command_is_not_a_disclosure_but_typed_help_is(rt: Runtime) -> None:
    """`/help` alone is a tap on the menu (bot.dispatcher.MENU_COMMANDS), never risk-checked as the word "help";
    "help" typed as a message, or `/help` with words after it, is read like any other words, and a lone "help"
    flags (three of ten blind authors wrote it as a cry for help)."""
    p = Person(rt.dispatcher, "help-words", now=fixed_now())
    p.text("hello")
    p.press(BANDS["teen"])
    p.command("help")
    assert alerts(rt) == []
    safe = rt.dispatcher.safe_reply("teen", fixed_now()).text
    p.text("help")
    assert p.last[0].text == safe and len(alerts(rt)) == 1
    p.command("help", "me he hits me")
    assert p.last[0].text == safe and len(alerts(rt)) == 2
