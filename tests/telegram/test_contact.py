"""My stuff's "Email or text me" over Telegram (issue 25 item 1): the same engine flow as the web chat, through the
real python-telegram-bot stack against the loopback fake Bot API. The address is shown back masked and stored only
encrypted."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import session
from storage.models import ContactPoint
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import Factory, TgUser, settle


async def test_a_care_leaver_adds_and_removes_an_email_address_on_telegram(tg: FakeBotAPI, rt, services: Factory) -> None:
    svc = services(rt)
    await svc.start()
    me = TgUser(tg, 7301)
    for act in (lambda: me.say("/start"), lambda: me.press("I'm 16 to 25"), lambda: me.press("🔒"),
                lambda: me.press("📧 Email or text me")):
        act()
        await settle(tg, svc)
    assert any("You haven't given us an email address" in t for t in me.texts()[-2:])
    me.press("📧 Add an email address")
    await settle(tg, svc)
    assert "Type your email address" in me.texts()[-1]
    me.say("leaver@example.org")
    await settle(tg, svc)
    said = "\n".join(me.texts()[-2:])
    assert "Saved. Email: le***@…" in said and "leaver@example.org" not in said
    with session(rt.engine) as s:
        (point,) = s.execute(select(ContactPoint)).scalars()
    assert b"example.org" not in point.address_enc and rt.keyring.decrypt(point.address_enc) == "leaver@example.org"
    for act in (lambda: me.press("🔒"), lambda: me.press("📧 Email or text me"), lambda: me.press("🗑 Remove mine")):
        act()
        await settle(tg, svc)
    assert any("we've removed it" in t for t in me.texts()[-2:])
    with session(rt.engine) as s:
        assert s.execute(select(ContactPoint)).first() is None
    await svc.stop()
