"""Issue 23 on Telegram. A survey invitation's ▶ Start keeps working after later messages: a carer reads the
invitation, chats (the menu comes after it), and days later taps Start on the invitation itself, not on the
newest message. Faces chosen in My stuff show on Telegram's scale buttons too. Real python-telegram-bot against
the loopback fake Bot API; the wave opened as staff open it.
"""

from __future__ import annotations

import json
from datetime import timedelta

from admin.jobs.carer_reminders import send_notices
from bot.features.carers import WaveSettings
from storage import participants
from storage.db import session
from storage.models import Conversation
from tests.carers.conftest import open_wave
from tests.conftest import fixed_now
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import Factory, TgUser, settle


async def test_an_invitations_start_button_works_after_later_messages(tg: FakeBotAPI, rt, services: Factory) -> None:
    rt.wave_settings = WaveSettings(_env_file=None)  # type: ignore[call-arg]
    svc = services(rt)
    await svc.start()
    carer = TgUser(tg, 7301)
    carer.say("/start")
    await settle(tg, svc)
    carer.press("I'm a foster carer")
    await settle(tg, svc)

    open_wave(rt, opens=fixed_now().date().isoformat(), closes=(fixed_now() + timedelta(days=40)).date().isoformat())
    notices = send_notices(rt, now=fixed_now().replace(hour=10))
    assert "invite=1" in notices, notices
    await tg.wait_for(lambda: any("survey is open" in t for t in carer.texts()))
    invitation = next(m for m in tg.bot_messages(carer.chat_id) if "survey is open" in m.get("text", ""))
    (start,) = [b for row in invitation["reply_markup"]["inline_keyboard"] for b in row]
    assert start["text"] == "▶ Start"

    carer.say("Thanks, I'll do it at the weekend")  # later messages: the menu now sits below the invitation
    await settle(tg, svc)
    carer.press("🔒 My stuff")
    await settle(tg, svc)
    newest = carer.keyboard_message()
    assert newest["message_id"] > invitation["message_id"]
    assert "▶ Start" not in carer.buttons()

    tg.push_update(tg.callback_update(carer.chat_id, start["callback_data"], message_id=invitation["message_id"]))
    await settle(tg, svc)
    assert "Part 1 of 9" in carer.texts()[-1], carer.texts()[-3:]
    with session(rt.engine) as s:
        found = participants.find_by_key(s, rt.keyring.identity_hash("telegram", str(carer.chat_id)))
        assert found is not None
        conv = s.get(Conversation, found[0].id)
        assert conv is not None and json.loads(conv.state_json)["flow_id"] == "carer_annual"


async def test_faces_chosen_in_my_stuff_show_on_telegram_scales(tg: FakeBotAPI, rt, services: Factory) -> None:
    """The faces setting is the person's, not the web chat's: a carer who turns faces on in My stuff gets them on
    Telegram's scale buttons too (each with its words), and words only again after turning them off."""
    svc = services(rt)
    await svc.start()
    carer = TgUser(tg, 7302)
    for say, press in (("/start", "I'm a foster carer"), ("/mystuff", "🙂 Show faces"), (None, "Faces on"),
                       (None, "📝 Quick check-in")):
        if say:
            carer.say(say)
            await settle(tg, svc)
        carer.press(press)
        await settle(tg, svc)
    assert carer.buttons()[:5] == ["😢 Strongly disagree", "🙁 Disagree", "😐 Neither", "🙂 Agree", "😀 Strongly agree"]
    carer.say("/mystuff")
    await settle(tg, svc)
    carer.press("🙂 Show faces")
    await settle(tg, svc)
    carer.press("Faces off")
    await settle(tg, svc)
    carer.press("📝 Quick check-in")
    await settle(tg, svc)
    assert carer.buttons()[:5] == ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]
