"""Overlapping waves and early starters (issue 27 item 6): one notice a day per carer across waves, and a
survey started before its wave opens joins the wave when it opens."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from admin.jobs.carer_reminders import send_notices
from storage import waves
from storage.db import session
from tests.carers.conftest import answer_current, answer_n, make_carers, open_wave
from tests.helpers import Person

DAY0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday, 09:00 in London


def test_two_overlapping_waves_send_a_carer_at_most_one_notice_a_day(rt) -> None:
    make_carers(rt, 3)
    annual = open_wave(rt, "carer_annual")
    checkin = open_wave(rt, "carer_pulse")
    for hour in range(0, 10 * 24, 2):  # every two hours for ten days (quiet hours skip themselves)
        send_notices(rt, now=DAY0 + timedelta(hours=hour))
    times: dict[int, list[datetime]] = defaultdict(list)
    per_wave: dict[int, int] = defaultdict(int)
    with session(rt.engine) as s:
        for wave_id in (annual, checkin):
            for _member, pid, _n, _kind, at in waves.notices_of(s, wave_id):
                times[pid].append(at)
                per_wave[wave_id] += 1
    assert per_wave[annual] and per_wave[checkin]  # both waves still reach everyone
    assert len(times) == 3
    for pid, sent in times.items():
        sent.sort()
        gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
        assert all(g >= timedelta(hours=24) for g in gaps), (pid, sent)


def test_a_survey_started_before_its_wave_opens_joins_the_wave(rt) -> None:
    (sender,) = make_carers(rt, 1)
    wave = open_wave(rt, opens="2026-12-01")
    early = Person(rt.dispatcher, sender, now=DAY0 - timedelta(days=2))  # the wave is only scheduled
    early.text("hello")
    early.press("📋 Annual")
    answer_n(early, 3)
    send_notices(rt, now=DAY0 + timedelta(hours=1))  # the wave opens: the survey under way joins it
    with session(rt.engine) as s:
        st = waves.wave_status(s, wave)
        assert st is not None and (st.total.invited, st.total.started, st.total.completed) == (1, 1, 0)
    early.now = DAY0 + timedelta(days=1)
    for _ in range(80):  # to the end
        if "Sent. Thank you" in early.said:
            break
        answer_current(early)
    assert "Sent. Thank you" in early.said
    with session(rt.engine) as s:
        st = waves.wave_status(s, wave)
        assert st is not None and st.total.completed == 1
    assert "sent=0" in send_notices(rt, now=DAY0 + timedelta(days=8))  # finished: no reminder


def test_a_carer_who_joins_after_the_wave_opened_is_invited(rt) -> None:
    make_carers(rt, 1)
    wave = open_wave(rt)
    assert send_notices(rt, now=DAY0) == "waves=1 invite=1"
    make_carers(rt, 1, start=1)  # joins (with an invite code) while the wave is open
    assert send_notices(rt, now=DAY0 + timedelta(hours=2)) == "waves=1 invite=1"
    with session(rt.engine) as s:
        assert waves.get_wave(s, wave).invited == 2  # type: ignore[union-attr]
