"""storage/events.py on SQLite and PostgreSQL: distinct attendance, RSVPs, ratings and reach for a period."""

from __future__ import annotations

from datetime import date, timedelta

from storage import events
from storage.db import make_engine, session
from storage.models import Participant
from tests.conftest import fixed_now


def _people(s, n: int, band: str = "junior", district: str = "east") -> list[int]:
    ids = []
    for i in range(n):
        p = Participant(case_ref=f"P{band[:1]}{district[:2]}{i:04d}".upper(), band=band, district=district,
                        council="super_council", created_at=fixed_now())
        s.add(p)
        s.flush()
        ids.append(int(p.id or 0))
    return ids


def _event(s, held_on: date, kind: str = "activity_day", **kw) -> events.EventView:
    values = dict(kind=kind, title="Climbing", held_on=held_on, start_time="10:00", council="super_council",
                  bands=("junior",), district="east", place="Canterbury", topics=("good social worker",),
                  created_by="pat", now=fixed_now())
    values.update(kw)
    return events.create(s, **values)  # type: ignore[arg-type]


def test_activity_for_period_counts_people_once_and_adds_unnamed_register(db_url: str) -> None:
    engine = make_engine(db_url)
    now = fixed_now()
    day = date(2026, 8, 1)
    with session(engine) as s:
        ids = _people(s, 4)
        a = _event(s, day)
        b = _event(s, day + timedelta(days=7), kind="council_meeting", title="Super Council")
        _event(s, day + timedelta(days=400))  # outside the period
        cancelled = _event(s, day + timedelta(days=1))
        assert events.invite(s, a.id, events.eligible(s, a), now=now) == 4
        assert events.invite(s, a.id, ids, now=now) == 0  # invited once
        events.rsvp(s, a.id, ids[0], "going", now=now)
        events.rsvp(s, a.id, ids[1], "not_going", now=now)
        events.rsvp(s, a.id, ids[1], "going", now=now)  # the latest reply counts
        events.rsvp(s, a.id, ids[2], "not_going", now=now)
        assert events.check_in(s, a.id, ids[0], source="qr", now=now)
        assert not events.check_in(s, a.id, ids[0], source="code", now=now)  # once per person
        assert events.check_in(s, a.id, ids[1], source="register", now=now)
        events.set_unnamed(s, a.id, 3)
        events.check_in(s, b.id, ids[0], source="code", now=now)
        events.save_evaluation(s, event_id=a.id, participant_id=ids[0], rating=5, next_time_enc=b"x",
                               quarantined=False, band="junior", now=now)
        assert not events.save_evaluation(s, event_id=a.id, participant_id=ids[0], rating=1, next_time_enc=None,
                                          quarantined=False, band="junior", now=now)
        events.save_evaluation(s, event_id=a.id, participant_id=ids[1], rating=3, next_time_enc=None,
                               quarantined=False, band="junior", now=now)
        from storage.models import ParticipationEvent

        row = s.get(ParticipationEvent, cancelled.id)
        row.status = "cancelled"  # type: ignore[union-attr]
        s.add(row)
    with session(engine) as s:
        got = events.activity_for_period(s, day, day + timedelta(days=30))
        assert [(e.title, e.kind) for e in got] == [("Climbing", "activity_day"), ("Super Council", "council_meeting")]
        first = got[0]
        assert (first.invited, first.going, first.not_going) == (4, 2, 1)
        assert (first.attended, first.attended_named, first.unnamed_attendees) == (5, 2, 3)
        assert first.evaluations == 2 and first.ratings == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
        assert first.topics == ("good social worker",) and first.area == "east" and first.place == "Canterbury"
        reach = events.reach_for_period(s, day, day + timedelta(days=30))
        assert (reach.events, reach.one_or_more, reach.two_or_more, reach.unnamed) == (2, 2, 1, 3)
        assert events.reach_for_period(s, day, day + timedelta(days=30), kinds=("activity_day",)).two_or_more == 0
    engine.dispose()


def test_short_codes_are_unique_and_found_as_typed(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with session(engine) as s:
        made = [_event(s, date(2026, 9, 1)) for _ in range(20)]
        assert len({e.short_code for e in made}) == 20
        code = made[3].short_code
        typed = f" {code[:3].lower()} {code[3:].lower()} "
        found = events.by_code(s, typed)
        assert found is not None and found.id == made[3].id
        assert events.by_code(s, "NOPE00") is None
    engine.dispose()
