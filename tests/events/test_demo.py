"""`ourvoice demo setup` seeds council activity (issue 20): every council's meetings by area, activity days
with attendance and evaluations, people at more than one event, and one upcoming meeting per council with its
invitations, so `make demo` shows a paper with council activity in it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from admin.commands.demo_cmd import seed_demo
from bot.runtime import build_runtime
from storage import events
from storage.db import session
from tests.conftest import fixed_now, make_settings


def test_demo_seed_has_meetings_by_area_activity_days_and_evaluations(sqlite_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    now = fixed_now()
    made = seed_demo(rt, people=120, seed=3, months=6, now=now)
    assert made["council_events"] > 20
    with session(rt.engine) as s:
        year = events.activity_for_period(s, now.date() - timedelta(days=365), now.date() - timedelta(days=1))
        meetings = [e for e in year if e.kind == "council_meeting"]
        assert {(e.council, e.area) for e in meetings} >= {("ocypc_extra", "thanet"), ("yac", "south")}
        assert Counter(e.council for e in meetings)["super_council"] >= 8  # two areas, several times a year
        days = [e for e in year if e.kind == "activity_day"]
        assert len(days) >= 6 and all(e.attended > 0 and e.status == "closed" for e in days)
        assert sum(e.evaluations for e in days) > 0 and sum(e.ratings[5] for e in days) > 0
        assert any(e.unnamed_attendees for e in days)
        reach = events.reach_for_period(s, now.date() - timedelta(days=365), now.date())
        assert reach.two_or_more > 0 and reach.one_or_more > reach.two_or_more
        upcoming = [e for e in events.list_events(s, start=now.date()) if e.kind == "council_meeting"]
        assert upcoming and all(e.status == "planned" for e in upcoming)
        assert sum(sm.invited for sm in events.summarise(s, upcoming)) > 0
    rt.engine.dispose()
