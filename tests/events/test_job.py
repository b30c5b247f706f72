"""The event_notices job with an injected clock (issue 20): invitations through the one rule (one due in quiet
hours waits in the outbox until they end), invitations once, a reminder the day before only to those going (a plain note) or not yet replied (the buttons again), never to
those who said not going, in each person's age-band words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from admin.jobs.events import send
from bot.features.carers import WaveSettings
from bot.reach import ReachSettings
from bot.runtime import build_runtime
from storage import events, outbox, participants, privacy
from storage.db import session
from storage.models import OutboxMessage
from tests.conftest import make_settings

MORNING = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # a Thursday; the event is on Friday
NIGHT = datetime(2026, 12, 10, 22, 30, tzinfo=UTC)


def _queued(rt) -> list[tuple[int, dict]]:
    with session(rt.engine) as s:
        rows = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        return [(r.participant_id or 0, json.loads(r.payload_json)) for r in rows]


def _event_with_three_invited(rt) -> tuple[list[int], int]:
    with session(rt.engine) as s:
        people = [participants.create(s, key_hash=f"job-{i}", channel="telegram", address_enc=rt.keyring.encrypt(str(i)),
                                      now=MORNING, band=band, district="east", council="super_council")[0].id or 0
                  for i, band in enumerate(("junior", "teen", "teen"))]
        ev = events.create(s, kind="activity_day", title="Art day", held_on=MORNING.date() + timedelta(days=1),
                           start_time="11:00", council=None, bands=("junior", "teen"), district="east",
                           place="Canterbury", topics=(), created_by="lead", now=MORNING)
        assert events.invite(s, ev.id, events.eligible(s, ev), now=MORNING) == 3
    return people, int(ev.id or 0)


def _runtime(sqlite_url: str, tmp_path: Path):
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    rt.wave_settings = WaveSettings(_env_file=None)  # type: ignore[call-arg]
    rt.reach_settings = ReachSettings(_env_file=None, quiet_hours_young_person="21:00-08:00",  # type: ignore[call-arg]
                                      daily_cap=3, timezone="Europe/London")
    return rt


def test_an_invitation_due_in_quiet_hours_waits_until_they_end(sqlite_url: str, tmp_path: Path) -> None:
    rt = _runtime(sqlite_url, tmp_path)
    _event_with_three_invited(rt)
    assert send(rt, now=NIGHT) == "invitations=3"  # claimed and queued, but held by the one rule
    with session(rt.engine) as s:
        assert outbox.due_ids(s, "telegram", now=NIGHT + timedelta(hours=9)) == []  # 07:30: still quiet
        assert len(outbox.due_ids(s, "telegram", now=datetime(2026, 12, 11, 8, 0, tzinfo=UTC))) == 3
    rt.engine.dispose()


def test_a_paused_young_person_gets_no_invitation(sqlite_url: str, tmp_path: Path) -> None:
    rt = _runtime(sqlite_url, tmp_path)
    people, _ = _event_with_three_invited(rt)
    with session(rt.engine) as s:
        person = participants.get(s, people[1])
        assert person is not None
        privacy.set_status(s, person, "opted_out")
    assert send(rt, now=MORNING) == "invitations=2"
    assert sorted(pid for pid, _ in _queued(rt)) == [people[0], people[2]]
    rt.engine.dispose()


def test_invitations_and_reminders_follow_replies(sqlite_url: str, tmp_path: Path) -> None:
    rt = _runtime(sqlite_url, tmp_path)
    people, ev_id = _event_with_three_invited(rt)
    assert send(rt, now=MORNING) == "invitations=3"
    sent = _queued(rt)
    junior = next(p for pid, p in sent if pid == people[0])
    assert junior["text"].startswith("You're invited! 🎉 Art day is on Friday 11 December at 11:00")
    assert [c["label"] for c in junior["choices"]] == ["👍 Yes, I'm coming", "👋 Not this time"]
    with session(rt.engine) as s:
        events.rsvp(s, ev_id, people[0], "going", now=MORNING)
        events.rsvp(s, ev_id, people[1], "not_going", now=MORNING)
    assert send(rt, now=MORNING + timedelta(hours=1)) == "reminders=2"
    later = _queued(rt)[3:]
    assert sorted(pid for pid, _ in later) == [people[0], people[2]]
    going = next(p for pid, p in later if pid == people[0])
    assert "See you soon!" in going["text"] and not going["choices"]
    silent = next(p for pid, p in later if pid == people[2])
    assert "Reminder: Art day" in silent["text"] and len(silent["choices"]) == 2
    assert send(rt, now=MORNING + timedelta(hours=2)) == "sent=0"  # each notice once
    rt.engine.dispose()
