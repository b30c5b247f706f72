"""The same guarantee on Telegram, end to end through python-telegram-bot and the fake Bot API: a flagged
message gets the safe reply first (as the next message in the chat) and an alert email, with no words."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Runtime
from tests.alerts.conftest import DUTY, recipients, tick
from tests.conftest import fixed_now

pytest.importorskip("bot.telegram_service")
from tests.telegram.conftest import TgUser, services, settle, tg  # noqa: E402, F401 - fixtures used below

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
