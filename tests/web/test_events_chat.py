"""Issue 20 through the web chat over HTTP (the real app): the event job's invitation reaches a young person
with the next reply, Not going then Going (the latest counts), check-in by opening the event's QR link
(?start=ev_CODE is sent as /start ev_CODE by the page), a second check-in with the typed short code counted once,
a wrong code answered kindly, and the evaluation the day after. The web chat reads the wall clock, so the event
is held today; the job is given 10:00 today (outside quiet hours) and 10:00 tomorrow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from admin.actions import events as event_actions
from admin.actions.policy import Actor
from admin.jobs.events import send
from bot.runtime import build_app, build_runtime
from storage import events
from storage.db import session
from tests.conftest import make_settings

LONDON = ZoneInfo("Europe/London")


def _post(c: TestClient, **body: str) -> dict:
    body.setdefault("message_id", uuid.uuid4().hex)
    r = c.post("/api/chat", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _tokens(data: dict) -> dict[str, str]:
    return {ch["label"]: ch["token"] for rep in data["replies"] for ch in rep["choices"]}


def _texts(data: dict) -> str:
    return "\n".join(r["text"] for r in data["replies"])


def test_invitation_rsvp_check_in_and_evaluation_in_the_web_chat(sqlite_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    today = datetime.now(LONDON).date()
    ten = datetime.combine(today, time(10), LONDON).astimezone(UTC)
    with TestClient(build_app(rt)) as c:
        c.get("/")
        data = _post(c, text="/start")
        _post(c, payload=_tokens(data)["I'm 7 to 11"])
        with session(rt.engine) as s:
            lead = Actor("lead", "participation_manager")
            ev = event_actions.add_event(s, lead, kind="holiday_event", title="Pumpkin carving", held_on=today,
                                         council="super_council", place="Maidstone", now=ten)
            assert event_actions.invite(s, lead, ev.id, now=ten) == 1
        assert "invitations=1" in send(rt, now=ten)
        data = _post(c, text="hello")  # the web chat is pull-only: notices come with the next reply
        assert "You're invited! 🎉 Pumpkin carving" in _texts(data)
        data = _post(c, payload=_tokens(data)["👋 Not this time"])
        assert "We'll tell you about the next one" in _texts(data)
        data = _post(c, text="hi again")
        invitation_tokens = {"going": f"ev:{ev.id}:going"}  # the invitation's buttons last (lasting=True)
        data = _post(c, payload=invitation_tokens["going"])
        assert "See you at Pumpkin carving" in _texts(data)

        data = _post(c, text=f"/start ev_{ev.short_code}")  # what chat.js sends for ?start=ev_CODE
        assert "You're checked in! 🎉" in _texts(data)
        data = _post(c, text=" ".join([ev.short_code[:3], ev.short_code[3:]]).lower())
        assert "You're already checked in" in _texts(data)
        data = _post(c, text="thank you")  # not a code: an ordinary message for the engine
        assert "checked in" not in _texts(data)

        assert "evaluations=1" in send(rt, now=ten + timedelta(days=1))
        data = _post(c, text="hey")
        assert "Thanks for coming to Pumpkin carving" in _texts(data)
        data = _post(c, payload=_tokens(data)["✏️ OK!"])
        assert "How was it?" in _texts(data)
        data = _post(c, payload=_tokens(data)["🙂 Good"])  # 7-11s see faces with words: the fourth of five
        assert "What should we do next time?" in _texts(data)
        data = _post(c, text="Horse riding and canoeing")
        assert "We read every idea" in _texts(data)
    with session(rt.engine) as s:
        (summary,) = events.activity_for_period(s, today, today)
        assert (summary.going, summary.not_going, summary.attended, summary.evaluations) == (1, 0, 1, 1)
        assert summary.ratings == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
        (sealed,) = events.next_time_words(s, ev.id)
        assert rt.keyring.decrypt(sealed) == "Horse riding and canoeing"
    rt.engine.dispose()
