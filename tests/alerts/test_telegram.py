"""The same guarantee on Telegram, end to end through python-telegram-bot and the fake Bot API: a flagged
message gets the safe reply first (as the next message in the chat) and an alert email, with no words."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Runtime
from tests.alerts.conftest import DUTY, recipients, tick
from tests.conftest import fixed_now

pytest.importorskip("bot.telegram_service")
from tests.telegram.conftest import TgUser, services, settle, tg  # noqa: F401 - fixtures used below

SENTINEL = "zqxsentinel42"


async def test_flagged_message_on_telegram(tg: Any, rt: Runtime, services: Any, sink: Any) -> None:  # noqa: F811
    svc = services(rt)
    await svc.start()
    u = TgUser(tg, 5151)
    u.say("/start")
    await settle(tg, svc)
    u.press("I'm 11 to 16")
    await settle(tg, svc)
    before = len(u.texts())
    u.say(f"{SENTINEL} my dad hits me with a belt")
    await settle(tg, svc)
    new = u.texts()[before:]
    assert new[0] == rt.dispatcher.safe_reply("teen", fixed_now()).text
    assert all(SENTINEL not in t for t in u.texts())
    tick(rt, fixed_now())
    mails = await sink.wait_for_async(1)
    assert recipients(sink) == [DUTY]
    assert SENTINEL not in mails[0].as_string()


def alerts_for(rt: Runtime, chat_id: int) -> list[Any]:
    from sqlmodel import select

    from storage import participants
    from storage.db import session
    from storage.models import Alert

    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("telegram", str(chat_id)))
        pid = found[0].id if found else None
        return [a for a in s.exec(select(Alert)).all() if a.participant_id == pid]


async def joined(tg: Any, rt: Runtime, svc: Any, chat_id: int) -> TgUser:  # noqa: F811
    u = TgUser(tg, chat_id)
    u.say("/start")
    await settle(tg, svc)
    u.press("I'm 11 to 16")
    await settle(tg, svc)
    return u


def edited(update: dict[str, Any]) -> dict[str, Any]:
    message = update.pop("message")
    update["edited_message"] = {**message, "edit_date": message["date"] + 5}
    return update


@pytest.mark.parametrize("kind", ["caption", "edit", "command"])
async def test_words_we_do_not_keep_are_still_checked(
    tg: Any, rt: Runtime, services: Any, kind: str  # noqa: F811
) -> None:
    svc = services(rt)
    await svc.start()
    u = await joined(tg, rt, svc, 5252)
    before = len(u.texts())
    worry = "my dad hits me with a belt"
    if kind == "caption":
        tg.push_update(tg.photo_update(5252, caption=f"{SENTINEL} {worry}"))
    elif kind == "edit":
        tg.push_update(edited(tg.text_update(5252, f"{SENTINEL} {worry}")))
    else:
        u.say("/kill myself")
    await settle(tg, svc)
    new = u.texts()[before:]
    assert new[0] == rt.dispatcher.safe_reply("teen", fixed_now()).text
    assert len(alerts_for(rt, 5252)) == 1
    assert all(SENTINEL not in t for t in u.texts())


async def test_a_worrying_group_message_is_answered_privately(
    tg: Any, rt: Runtime, services: Any  # noqa: F811
) -> None:
    svc = services(rt)
    await svc.start()
    u = await joined(tg, rt, svc, 5353)
    before = len(u.texts())
    tg.push_update(tg.text_update(-100777, f"{SENTINEL} my dad hits me", chat_type="supergroup", user_id=5353))
    tg.push_update(tg.text_update(-100888, "see you all at the meeting", chat_type="group", user_id=5353))
    await settle(tg, svc)
    for group in (-100777, -100888):
        (told,) = tg.sent_messages(group)  # the group only hears that the bot works in private chats
        assert "only work in private chats" in told["text"]
    assert u.texts()[before:] == [rt.dispatcher.safe_reply("teen", fixed_now()).text]
    (alert,) = alerts_for(rt, 5353)  # only the worrying one, linked to the person we know
    assert alert.text_enc is not None and SENTINEL.encode() not in alert.text_enc
    assert sorted(c.params["chat_id"] for c in tg.calls_to("leaveChat")) == [-100888, -100777]
